"""The price table: the packaged one validates, and a broken one is refused with a reason."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from shared.config import Settings
from shared.costs.prices import DEFAULT_TABLE, PriceTable, PriceTableError, load_prices
from tests.costs.tables import raw_table, small_table


def test_the_packaged_table_validates_and_is_the_default_setting() -> None:
    table = load_prices()
    assert table.currency == "USD"
    assert date.fromisoformat(table.version)
    assert Settings().price_table.resolve() == DEFAULT_TABLE


def test_every_price_has_a_source_a_date_and_is_not_negative() -> None:
    table = load_prices()
    for price in table.prices:
        assert price.source.startswith(("https://", "Tale ")), price.id
        assert price.as_of <= date.fromisoformat(table.version), price.id
        assert price.usd >= 0 and price.per > 0, price.id
    for assumption in table.assumptions:
        assert assumption.source and assumption.as_of, assumption.id


def test_the_packaged_table_prices_what_tale_records() -> None:
    """Every unit the providers and the platform record has a meter (zero-priced on purpose
    where the cost is fixed)."""
    table = load_prices()
    recorded = [
        ("gemini", "gemini-2.5-flash", "input_tokens"),
        ("gemini", "gemini-2.5-flash", "output_tokens"),
        ("imagen", "imagen-4.0-generate-001", "images"),
        ("gemini", "gemini-3.5-flash", "input_tokens"),
        ("gemini", "gemini-3.5-flash", "output_tokens"),
        ("gemini-image", "gemini-3.1-flash-image", "images"),
        ("gemini-tts", "gemini-3.8-flash-tts", "input_tokens"),
        ("gemini-tts", "gemini-3.8-flash-tts", "audio_tokens"),
        ("gemini-tts", "gemini-3.8-flash-lite-tts", "audio_tokens"),
        ("gemini-tts", "gemini-3.8-flash-tts", "characters"),
        ("gemini-tts", "gemini-3.8-flash-tts", "audio_seconds"),
        ("espeak-ng", "espeak-ng", "characters"),
        ("espeak-ng", "espeak-ng", "audio_seconds"),
        ("self-hosted", "suno/bark-small", "gpu_seconds"),
        ("self-hosted", "suno/bark-small", "characters"),
        ("veo", "veo-3.1-generate-001", "video_seconds"),
        ("veo", "veo-3.1-fast-generate-001", "video_seconds"),
        ("self-hosted", "Qwen/Qwen2.5-7B-Instruct", "input_tokens"),
        ("self-hosted", "cogvideox", "gpu_seconds"),
        *(
            ("gcp", "render_shot", unit)
            for unit in (
                "invocations",
                "vcpu_seconds",
                "gib_seconds",
                "pubsub_messages",
                "pubsub_bytes",
                "firestore_reads",
                "firestore_writes",
                "firestore_deletes",
                "gcs_writes",
                "gcs_reads",
                "gcs_bytes_written",
            )
        ),
    ]
    for provider, model, unit in recorded:
        assert table.usd(provider, model, unit, 1) is not None, (provider, model, unit)
    assert table.usd("veo", "veo-9-unknown", "video_seconds", 1) is None


def test_a_gpu_second_of_the_worker_is_gpu_plus_its_cpu_and_memory() -> None:
    table = load_prices()
    expected = 0.0001867 + 8 * 0.000018 + 32 * 0.000002  # 1 L4, 8 vCPU, 32 GiB
    assert table.usd("self-hosted", "cogvideox", "gpu_seconds", 1) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda t: t["prices"][0].update(usd=-1), "greater than or equal to 0"),
        (lambda t: t["prices"][0].pop("source"), "source"),
        (lambda t: t["prices"][0].update(source=""), "source"),
        (lambda t: t["prices"][0].pop("as_of"), "as_of"),
        (lambda t: t["prices"].append(dict(t["prices"][0])), "duplicate price"),
        (lambda t: t["meters"][0]["charges"].append({"price": "nope"}), "unknown price 'nope'"),
        (lambda t: t["revenue"]["plans"][1].update(share_of_videos=0.5), "add up to 0.5"),
        (lambda t: t.update(currency="EUR"), "currency"),
    ],
    ids=["negative", "no-source", "empty-source", "no-date", "duplicate", "dangling", "mix", "eur"],
)
def test_a_broken_table_is_refused(change: Any, message: str) -> None:
    data = raw_table()
    change(data)
    with pytest.raises(ValidationError, match=message):
        PriceTable.model_validate(data)


def test_load_prices_names_the_file_and_the_problem(tmp_path: Path) -> None:
    with pytest.raises(PriceTableError, match="cannot read"):
        load_prices(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    data = raw_table()
    data["prices"][0]["usd"] = -3
    bad.write_text(json.dumps(data))
    with pytest.raises(PriceTableError, match=r"invalid price table .*bad\.json"):
        load_prices(bad)


def test_a_model_meter_wins_over_the_providers_default() -> None:
    data = raw_table()
    data["meters"].append(
        {
            "provider": "self",
            "model": "special",
            "unit": "gpu_seconds",
            "charges": [{"price": "vid"}],
        }
    )
    table = PriceTable.model_validate(data)
    assert table.usd("self", "special", "gpu_seconds", 2) == pytest.approx(1.0)
    assert table.usd("self", "other", "gpu_seconds", 2) == pytest.approx(0.002)
    assert small_table().usd("self", "x", "input_tokens", 1e6) == 0.0
