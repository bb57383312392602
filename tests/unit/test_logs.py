"""Structured logs: the Cloud Logging JSON format, the console format, the invocation's
context, the redaction guard and the failure reason classes."""

from __future__ import annotations

import hashlib
import io
import json
import logging
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from shared.config import Settings
from shared.observability import logs
from shared.observability.context import bind, current, invocation
from shared.observability.events import (
    REASONS,
    about,
    emit,
    invocation_outcome,
    provider_for,
    reason_of,
    trace_id,
)
from shared.observability.logs import ConsoleFormatter, JsonFormatter, TaleHandler, setup_logging
from shared.observability.usage import ObservedUsage
from shared.ports.usage import NoUsage, Usage

JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NSJ9.c2lnbmF0dXJlLXNpZ25hdHVyZQ"


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    """JSON records of the ``tale`` loggers, as Cloud Logging would read them."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter("proj"))
    logger = logging.getLogger("tale")
    old_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    yield stream
    logger.removeHandler(handler)
    logger.setLevel(old_level)


def records(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_a_record_is_one_cloud_logging_json_object_with_the_invocations_context(
    captured: io.StringIO,
) -> None:
    log = logging.getLogger("tale.test")
    with invocation(tale_id="tale-1", function="render_shot", stage="rendering", attempt=2):
        bind(shot=3)
        log.warning("shot %d is slow", 3)
    (entry,) = records(captured)
    assert entry["severity"] == "WARNING" and entry["message"] == "shot 3 is slow"
    assert entry["time"].endswith("Z")
    assert (entry["tale_id"], entry["function"], entry["stage"]) == (
        "tale-1",
        "render_shot",
        "rendering",
    )
    assert (entry["shot"], entry["attempt"]) == (3, 2)
    digest = hashlib.sha256(b"tale-1").hexdigest()[:32]
    assert entry["logging.googleapis.com/trace"] == f"projects/proj/traces/{digest}"
    assert entry["logging.googleapis.com/sourceLocation"]["function"]
    assert current().tale_id is None  # the context ends with the invocation


def test_every_stage_of_a_tale_is_on_one_trace(captured: io.StringIO) -> None:
    log = logging.getLogger("tale.test")
    for function in ("plan_story", "render_shot", "stitch_video"):
        with invocation(tale_id="tale-7", function=function, message_id=function):
            log.info("x")
    with invocation(message_id="m-1", function="sweep_stuck"):
        log.info("about no tale")
    log.info("about nothing")
    entries = records(captured)
    traces = {e["logging.googleapis.com/trace"] for e in entries[:3]}
    assert traces == {f"projects/proj/traces/{trace_id('tale-7')}"}
    assert entries[3]["logging.googleapis.com/trace"].endswith(trace_id("m-1"))
    assert "logging.googleapis.com/trace" not in entries[4]


def test_severity_follows_the_level(captured: io.StringIO) -> None:
    log = logging.getLogger("tale.test")
    for level in (logging.DEBUG, logging.INFO, logging.WARNING, logging.ERROR, logging.CRITICAL):
        log.log(level, "m")
    assert [e["severity"] for e in records(captured)] == [
        "DEBUG",
        "INFO",
        "WARNING",
        "ERROR",
        "CRITICAL",
    ]


def test_contents_and_credentials_never_reach_a_record(captured: io.StringIO) -> None:
    log = logging.getLogger("tale.test")
    fields = {
        "text": "Once upon a time",
        "prompt": "a fox at dawn",
        "story": "s",
        "authorization": f"Bearer {JWT}",
        "api_token": "t",
        "tale_id": "tale-2",
    }
    log.info("headers: Authorization: Bearer %s", JWT, extra={"tale_fields": fields})
    log.info("jwt %s, webhook whsec_c2VjcmV0, key AIzaSyA1234567890abcdefghijklmnopqrs", JWT)
    log.info("GET https://x.example/v3/search?part=id&key=SECRETKEY&q=1")
    log.info("signed https://storage.example/o?X-Goog-Signature=abcdef0123&X-Goog-Date=1")
    try:
        raise RuntimeError(f"upstream said Bearer {JWT}")
    except RuntimeError:
        log.exception("failed")
    text = captured.getvalue()
    for secret in (
        JWT,
        "Once upon",
        "a fox at dawn",
        "whsec_c2",
        "AIzaSy",
        "SECRETKEY",
        "abcdef0123",
    ):
        assert secret not in text, secret
    first = records(captured)[0]
    assert first["tale_id"] == "tale-2"
    assert not {"text", "prompt", "story", "authorization", "api_token"} & set(first)
    assert "Bearer [redacted]" in first["message"]
    assert "stack_trace" in records(captured)[-1]


def test_long_messages_are_truncated(captured: io.StringIO) -> None:
    logging.getLogger("tale.test").info("x" * 10_000)
    (entry,) = records(captured)
    assert len(entry["message"]) < logs.MAX_MESSAGE + 100


def test_emit_refuses_unknown_events_and_fields() -> None:
    log = logging.getLogger("tale.test")
    with pytest.raises(ValueError):
        emit(log, "tale.exploded", "m")
    with pytest.raises(ValueError):
        emit(log, "tale.started", "m", text="story")


def test_one_outcome_record_per_invocation(captured: io.StringIO) -> None:
    with invocation(tale_id="tale-3", function="render_shot", stage="rendering", attempt=1):
        invocation_outcome(seconds=0.25, failure=None, retry=None, provider="veo")
        invocation_outcome(
            seconds=1.5,
            failure=None,
            retry="TransientError: Veo quota: 11 requests",
            provider="veo",
        )
        invocation_outcome(
            seconds=2, failure="shot 1 was refused by the video model", retry=None, provider="veo"
        )
    done, retry, throttled, failed = records(captured)
    assert (done["event"], done["outcome"], done["duration_ms"]) == ("stage.done", "ok", 250.0)
    assert (retry["event"], retry["reason"], retry["severity"]) == (
        "stage.retry",
        "throttled",
        "WARNING",
    )
    assert (throttled["event"], throttled["provider"]) == ("provider.throttled", "veo")
    assert (failed["event"], failed["reason"], failed["severity"]) == (
        "stage.failed",
        "refused",
        "ERROR",
    )
    assert all(e["tale_id"] == "tale-3" for e in (done, retry, throttled, failed))


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("gave up after 5 attempts: TransientError: boom", "dead-lettered"),
        ("no progress for 61 min (the rendering deadline is 60 min)", "stuck"),
        ("TransientError: Vertex AI quota or rate limit exceeded (429)", "throttled"),
        ("shot 2 was refused by the video model: safety filter", "refused"),
        ("shot 1 did not finish in time", "timeout"),
        ("invalid shot.requested event: shot_index: Field required", "malformed"),
        ("the planner returned an invalid plan 3 times", "invalid-plan"),
        ("ConnectError: connection refused", "unavailable"),
        ("HTTP 503 Service Unavailable", "unavailable"),
        ("ValueError: something odd", "error"),
        (None, "error"),
    ],
)
def test_failure_reasons_are_low_cardinality_classes(text: str | None, reason: str) -> None:
    assert reason_of(text) == reason
    assert reason in REASONS


def test_the_provider_of_a_function_follows_the_scenario() -> None:
    assert provider_for(("store", "videos"), "A") == "veo"
    assert provider_for(("planner",), "A") == "gemini"
    assert provider_for(("images",), "B") == "self-hosted"
    assert provider_for(("videos",), "offline") == "offline"
    assert provider_for(("store", "bus"), "A") is None


def test_contexts_of_concurrent_invocations_do_not_mix(captured: io.StringIO) -> None:
    log = logging.getLogger("tale.test")
    barrier = threading.Barrier(4)

    def work(i: int) -> None:
        with invocation(tale_id=f"tale-{i}", function="render_shot"):
            barrier.wait()
            log.info("shot of %s", f"tale-{i}")

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for entry in records(captured):
        assert entry["message"] == f"shot of {entry['tale_id']}"


def test_the_console_format_is_one_readable_line() -> None:
    record = logging.LogRecord("tale.events", logging.WARNING, __file__, 1, "slow", None, None)
    record.tale_fields = {"event": "stage.retry", "reason": "timeout"}
    with invocation(tale_id="tale-9", function="render_shot", attempt=2, shot=4):
        line = ConsoleFormatter().format(record)
    assert "WARNING tale.events [tale-9 render_shot#2 shot 4] slow" in line
    assert "event=stage.retry reason=timeout" in line and "\n" not in line


def test_provider_calls_are_logged_without_the_usage_key(captured: io.StringIO) -> None:
    usage = ObservedUsage(NoUsage())
    usage.record(Usage("tale-5", "character:Mina", "imagen", "imagen-4", {"images": 1}, 1.0))
    usage.record(Usage("tale-5", "shot:0:1", "veo", "veo-3", {"video_seconds": 8.0}, 1.0))
    usage.record(Usage("tale-5", "ops:plan_story:m:1", "gcp", "plan_story", {"invocations": 1}))
    entries = records(captured)
    assert [(e["event"], e["provider"]) for e in entries] == [
        ("provider.call", "imagen"),
        ("provider.call", "veo"),
    ]
    assert entries[0]["images"] == 1.0 and entries[1]["video_seconds"] == 8.0
    assert "Mina" not in captured.getvalue()


@pytest.fixture
def clean_root() -> Iterator[logging.Logger]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    noisy = {name: logging.getLogger(name).level for name in logs._NOISY}
    yield root
    root.handlers = handlers
    root.setLevel(level)
    for name, old in noisy.items():
        logging.getLogger(name).setLevel(old)
    logs._installed = False


def test_setup_chooses_json_on_gcp_and_the_console_locally(
    clean_root: logging.Logger, capsys: pytest.CaptureFixture[str]
) -> None:
    clean_root.handlers = []
    assert setup_logging(Settings(gcp_project="p")) == "json"
    assert setup_logging(Settings(gcp_project="p")) == "json"  # idempotent: one handler
    (handler,) = clean_root.handlers
    assert isinstance(handler, TaleHandler) and isinstance(handler.formatter, JsonFormatter)
    logging.getLogger("tale.test").info("hello")
    line = capsys.readouterr().out.strip()
    assert json.loads(line)["message"] == "hello"
    assert setup_logging(Settings(), target="stderr") == "console"
    assert isinstance(handler.formatter, ConsoleFormatter) and handler.target == "stderr"


def test_the_console_is_not_forced_on_an_application_that_configured_logging(
    clean_root: logging.Logger,
) -> None:
    other = logging.StreamHandler(io.StringIO())
    clean_root.handlers = [other]
    assert setup_logging(Settings()) == "console"
    assert clean_root.handlers == [other]
    assert setup_logging(Settings(log_format="json")) == "json"  # JSON is always installed
    assert any(isinstance(h, TaleHandler) for h in clean_root.handlers)


def test_a_deployed_function_installs_json_logs_once(
    clean_root: logging.Logger, monkeypatch: pytest.MonkeyPatch
) -> None:
    clean_root.handlers = []
    logs._installed = False
    logs.ensure_logging(Settings(gcp_project="p"))
    assert clean_root.handlers == []  # not a deployed function, nothing asked for
    logs._installed = False
    monkeypatch.setenv("K_SERVICE", "plan-story")
    logs.ensure_logging(Settings(gcp_project="p"))
    logs.ensure_logging(Settings(gcp_project="p"))
    (handler,) = clean_root.handlers
    assert isinstance(handler.formatter, JsonFormatter)


def test_a_plain_log_call_can_say_which_tale_it_is_about(captured: io.StringIO) -> None:
    logging.getLogger("tale.test").warning("dead-lettered", extra=about(tale_id="tale-4"))
    (entry,) = records(captured)
    assert entry["tale_id"] == "tale-4" and entry["logging.googleapis.com/trace"]
    with pytest.raises(ValueError, match="unknown log fields"):
        about(story="once upon a time")
