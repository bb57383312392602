"""A known local run, logged as Cloud Logging JSON and measured.

Two users create a tale each through the HTTP API (with bearer tokens); the first story
contains a unique marker; the second tale waits for approval and is then failed by a
malformed shot event that is retried until it is dead-lettered. Every log record of the
run — ours and the libraries', at DEBUG — goes through the JSON formatter on the root
logger, as on Cloud Run. Then:

- every record parses and has a severity and a time; every record about a tale has its
  tale id and the tale's trace, so each tale's path through the stages is one trace;
- no record holds the story's marker or the bearer tokens;
- the log-based metrics of terraform/monitoring.tf, evaluated on those records, equal what
  happened and equal ``tale stats``' figures from the stores.
"""

from __future__ import annotations

import io
import json
import logging
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from functions_framework import create_app

from shared import bootstrap
from shared.adapters.local.bus import SqliteEventBus
from shared.config import Settings
from shared.domain.tale import TaleState
from shared.observability.events import trace_id
from shared.observability.logs import JsonFormatter
from shared.observability.stats import Stats, collect, percentile
from shared.runtime.local import LocalRuntime
from tests.e2e.helpers import tale
from tests.infra.logmetrics import measure, metrics, values

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
MARKER = "Zyxquorim"
STORY = f"{MARKER} walked to the sea. {MARKER} met a small fox. They became friends at dusk."
METRICS = metrics()


@dataclass
class Run:
    records: list[dict[str, Any]]
    raw: str
    tokens: list[str]
    completed: str
    failed: str
    stats: Stats


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    tmp = tmp_path_factory.mktemp("logs")
    settings = Settings(
        home=tmp / "home",
        retry_min_backoff_s=0.01,
        retry_max_backoff_s=0.05,
        max_delivery_attempts=3,
        offline_height=160,
        offline_fps=8,
        concurrency=4,
    )
    container = bootstrap.configure(settings)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        client = create_app("api", str(ROOT / "functions" / "api.py"), "http").test_client()
        signer = container.signer
        assert signer is not None
        tokens = [signer.mint(str(uuid.uuid4()), f"user{i}@example.com") for i in range(2)]
        body = {"text": STORY, "shot_count": 2, "shot_seconds": 4}
        first = client.post(
            "/v1/tales", json=body, headers={"Authorization": f"Bearer {tokens[0]}"}
        )
        gated = {**body, "text": "A fox ran home.", "options": {"approval_required": True}}
        second = client.post(
            "/v1/tales", json=gated, headers={"Authorization": f"Bearer {tokens[1]}"}
        )
        assert first.status_code == 201 and second.status_code == 201, second.data
        completed, failed = first.json["id"], second.json["id"]
        bus = container.bus
        assert isinstance(bus, SqliteEventBus)
        with LocalRuntime(container) as runtime:
            runtime.run(timeout=120)
            bus.publish_raw(  # no shot_index: invalid until it is dead-lettered
                "shot.requested",
                json.dumps({"tale_id": failed}).encode(),
                {"tale_id": failed, "type": "shot.requested"},
            )
            runtime.run(timeout=120)
        for tale_id, state in ((completed, TaleState.COMPLETED), (failed, TaleState.FAILED)):
            record = container.store.find(tale_id)
            assert record is not None and record.state is state
        figures = collect(
            container.store, container.usage, container.ledger, since=0, scenario="offline"
        )
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
        bootstrap.configure(Settings(home=tmp / "unused"))
    raw = stream.getvalue()
    records = [json.loads(line) for line in raw.splitlines()]
    yield Run(records, raw, tokens, completed, failed, figures)


def test_every_record_is_cloud_logging_json_with_its_tale_and_trace(run: Run) -> None:
    assert len(run.records) > 20
    for record in run.records:
        assert record["severity"] in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
        assert record["time"] and isinstance(record["message"], str)
        if "tale_id" in record:
            want = f"projects/local/traces/{trace_id(record['tale_id'])}"
            assert record["logging.googleapis.com/trace"] == want, record
    # Every record of a stage, a tale or a provider is about a tale, and carries it.
    ours = [r for r in run.records if "event" in r]
    assert ours and all("tale_id" in r for r in ours)
    for tale_id in (run.completed, run.failed):
        stages = {r["function"] for r in ours if r["tale_id"] == tale_id and "function" in r}
        traces = {r["logging.googleapis.com/trace"] for r in ours if r["tale_id"] == tale_id}
        assert len(traces) == 1 and len(stages) >= 3, (tale_id, stages)
    # Inside an invocation, every line (not only ours) knows its tale; so do the runtime's.
    invoked = [r for r in run.records if "function" in r]
    assert all(r.get("tale_id") for r in invoked)
    runtime = [r for r in run.records if r["logger"] == "tale.runtime"]
    assert runtime and all(r["tale_id"] == run.failed for r in runtime)  # the dead letter


def test_no_record_holds_the_story_or_a_token(run: Run) -> None:
    assert MARKER not in run.raw
    for token in run.tokens:
        assert token not in run.raw
        assert token.rsplit(".", 1)[-1] not in run.raw  # not even the signature


def test_the_log_metrics_of_the_run_equal_what_happened_and_tale_stats(run: Run) -> None:
    def count(name: str) -> dict[tuple[str, ...], int]:
        return dict(measure(METRICS[name], run.records))

    s = run.stats
    # The funnel: two tales started by two users, one completed, one failed.
    assert count("tale_started") == {(): 2} and s.tales.started == 2
    assert count("tale_finished") == {("completed",): 1, ("failed",): 1}
    assert (s.tales.completed, s.tales.failed) == (1, 1)
    assert len(count("tale_active_users")) == 2 == s.tales.active_users
    # The failure: three retries of the malformed message, then the dead letter.
    assert count("tale_failures") == {("rendering", "dead-lettered"): 1}
    assert s.tales.failures == {"rendering": {"dead-lettered": 1}}
    retries = count("tale_stage_errors")  # labels: function, outcome, provider, reason, stage
    assert retries == {("render_shot", "retry", "offline", "malformed", "rendering"): 3}
    assert s.retries == {"rendering": {"malformed": 3}}
    assert s.providers["offline"].errors == 3 and s.providers["offline"].throttled == 0
    assert count("tale_provider_throttled") == {}
    # Provider calls: none from the offline generators (they record no usage); the narrator,
    # espeak-ng, voiced each of the completed tale's two shots — in the logs and the stores.
    assert count("tale_provider_calls") == {("espeak-ng", "espeak-ng"): 2}
    assert {name: f.calls for name, f in s.providers.items()} == {"espeak-ng": 2, "offline": 0}
    # Every invocation about a tale: counted once in the logs and once in the stores.
    invocations: dict[str, int] = {}
    for (function, _outcome, _stage), n in count("tale_stage_invocations").items():
        invocations[function] = invocations.get(function, 0) + n
    assert invocations == {name: f.invocations for name, f in s.stages.items()}
    assert invocations["render_shot"] == 2 + 3  # two shots, three failed attempts
    assert invocations["handle_dead_letter"] == 1
    for name, figures in s.stages.items():
        durations = [
            float(r["duration_ms"])
            for r in run.records
            if r.get("function") == name and str(r.get("event", "")).startswith("stage.")
        ]
        assert percentile(durations, 0.95) == pytest.approx(figures.p95_ms, abs=0.2), name
    assert len(values(METRICS["tale_stage_latency"], run.records)) == sum(invocations.values())
    # Credits: one each reserved through the API; the completed one spent, the other refunded.
    assert sum(values(METRICS["tale_credits_reserved"], run.records)) == 2 == s.credits_reserved
    assert count("tale_credit_settlements") == {("settled",): 1, ("refunded",): 1}
    assert (s.credits_spent, s.credits_refunded) == (1, 1)


def test_the_cli_logs_a_whole_tale_as_json_lines(tmp_path: Path) -> None:
    story = tmp_path / "story.txt"
    story.write_text(STORY, encoding="utf-8")
    home = tmp_path / "home"
    done = tale(
        home,
        "run",
        str(story),
        "--shots",
        "2",
        "--seconds",
        "4",
        "-q",
        env={"TALE_LOG_FORMAT": "json"},
    )
    assert done.returncode == 0, done.stderr
    records = [json.loads(line) for line in done.stderr.splitlines()]
    events = [r["event"] for r in records if "event" in r]
    assert events[0] == "tale.started" and "tale.finished" in events
    assert events.count("stage.done") >= 7
    assert {r["tale_id"] for r in records if "event" in r} == {records[0]["tale_id"]}
    assert MARKER not in done.stderr  # (the command's own output shows the title: not a log)
    stats = json.loads(tale(home, "stats", "--json", check=True).stdout)
    assert (stats["tales"]["started"], stats["tales"]["completed"]) == (1, 1)
