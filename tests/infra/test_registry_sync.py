"""terraform/locals.tf mirrors shared/registry.py, and the resources iterate over it."""

from __future__ import annotations

from pathlib import Path

import pytest

from schemas.events import EVENT_TYPES
from shared.registry import CONTROL_TOPICS, DEAD_LETTER_TOPIC, FUNCTIONS, HTTP, TOPICS
from terraform import generate
from tests.infra import hcl


def test_the_generated_mirror_is_up_to_date() -> None:
    assert not generate.is_stale(), (
        "terraform/locals.tf is stale: run `python -m terraform.generate`"
    )


def test_the_check_mode_reports_staleness(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "locals.tf"
    monkeypatch.setattr(generate, "TARGET", target)
    monkeypatch.setattr(generate, "ROOT", target.parent)
    assert generate.main(["--check"]) == 1
    assert generate.main([]) == 0
    assert generate.main(["--check"]) == 0
    target.write_text(target.read_text().replace("540", "541", 1))
    assert generate.main(["--check"]) == 1


def test_the_parsed_mirror_equals_the_registry() -> None:
    config = hcl.load()
    assert config.locals["functions"] == generate.registry_map()
    assert config.locals["topics"] == list(TOPICS)
    assert config.locals["dead_letter_topic"] == DEAD_LETTER_TOPIC
    assert set(config.locals["functions"]) == {f.name for f in FUNCTIONS}


def test_every_topic_the_code_publishes_to_is_declared() -> None:
    topic = hcl.load().resource("google_pubsub_topic.topic")
    assert hcl.expr(topic.body["for_each"]) == "toset(local.topics)"
    assert hcl.expr(topic.body["name"]) == "each.value"
    assert set(EVENT_TYPES) | set(CONTROL_TOPICS) == set(hcl.load().locals["topics"])
    assert DEAD_LETTER_TOPIC in CONTROL_TOPICS


def test_every_trigger_is_a_declared_topic_or_http() -> None:
    topics = set(hcl.load().locals["topics"])
    for spec in FUNCTIONS:
        assert spec.trigger == HTTP or spec.trigger in topics, spec.name


def test_every_function_is_deployed_with_its_name_as_entry_point() -> None:
    fn = hcl.load().resource("google_cloudfunctions2_function.fn")
    assert hcl.expr(fn.body["for_each"]) == "local.functions"
    assert hcl.expr(fn.body["name"]) == "each.key"
    build = fn.block("build_config")
    assert hcl.expr(build["entry_point"]) == "each.key"
    assert build["runtime"] == "python311"
    assert hcl.expr(build["service_account"]) == "google_service_account.build.id"
    source = fn.block("build_config", "source", "storage_source")
    assert hcl.expr(source["object"]) == "var.source_object"


def test_function_settings_come_from_the_registry_mirror() -> None:
    service = hcl.load().resource("google_cloudfunctions2_function.fn").block("service_config")
    assert hcl.expr(service["available_memory"]) == "each.value.memory"
    assert hcl.expr(service["timeout_seconds"]) == "each.value.timeout_s"
    assert hcl.expr(service["max_instance_request_concurrency"]) == "each.value.concurrency"


def test_the_registry_fits_what_cloud_functions_accepts() -> None:
    for spec in FUNCTIONS:
        assert 1 <= spec.timeout_s <= (3600 if spec.is_http else 540), spec.name
        assert spec.memory.endswith(("Mi", "Gi")), spec.name
        assert 1 <= spec.concurrency <= 1000, spec.name
        # Pub/Sub's dead-letter policy accepts 5 to 100 delivery attempts.
        assert spec.is_http or 5 <= spec.max_delivery_attempts <= 100, spec.name
        # Service account ids: 6-30 characters.
        assert 6 <= len(f"tale-{spec.name.replace('_', '-')}") <= 30, spec.name
