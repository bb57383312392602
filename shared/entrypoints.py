"""What every Pub/Sub-triggered Cloud Function does around its stage handler.

Outcomes, as Pub/Sub sees them:
- success → return (ack);
- ``PermanentError`` from the stage → the tale is failed with the stage and reason, and the
  message is acked (retrying cannot help);
- ``MalformedEvent`` or any other exception → noted in the tale's event log and re-raised, so
  the message is redelivered with backoff; after the subscription's maximum delivery attempts
  it goes to the dead-letter topic, whose handler fails the tale (never an endless loop).

Each ``functions/<name>.py`` passes its stage handler here (a plain import there, so the
entry point names the code it runs); the registry names the function's trigger and stage.

Every invocation writes one structured log record of its outcome (``stage.done``,
``stage.failed`` or ``stage.retry``, with ``duration_ms``; ``shared.observability``), and
every log line written inside it carries the tale, function, stage, shot and attempt.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections import Counter
from collections.abc import Callable

from schemas.events import EVENT_TYPES, Event
from shared import bootstrap
from shared.domain.errors import MalformedEvent, PermanentError
from shared.metering import memory_gib, metering, vcpus
from shared.observability.context import bind, invocation
from shared.observability.events import invocation_outcome, provider_for
from shared.observability.logs import ensure_logging
from shared.ports.usage import Usage
from shared.pubsub_message import CloudEventLike, Envelope, decode, parse
from shared.registry import BY_NAME, FunctionSpec
from shared.stages.failure import fail_tale, reannounce_failure

log = logging.getLogger("tale.functions")


Handler = Callable[..., None]
"""A stage handler: the event (or, on control topics, the envelope) first, then the clients
it names (``Container.call``)."""


def handle_pubsub(cloud_event: CloudEventLike, function: str, handler: Handler) -> None:
    """Run ``handler`` for the Pub/Sub message in ``cloud_event``, as the function named
    ``function`` in the registry (its trigger, stage and deployment settings)."""
    spec = BY_NAME[function]
    settings = bootstrap.container().settings
    ensure_logging(settings)
    envelope = decode(cloud_event)
    started = time.monotonic()
    failure: str | None = None
    retry: str | None = None
    with (
        invocation(
            tale_id=envelope.tale_id,
            function=spec.name,
            stage=spec.stage,
            attempt=envelope.delivery_attempt,
            message_id=envelope.message_id,
        ),
        metering() as meter,
    ):
        try:
            failure = _handle(envelope, spec, handler)
        except Exception as exc:
            retry = _retry_reason(exc)
            raise
        finally:
            seconds = time.monotonic() - started
            _record_operations(spec, envelope, meter, seconds)
            # One structured record per invocation: stage.done / stage.failed / stage.retry.
            invocation_outcome(
                seconds=seconds,
                failure=failure,
                retry=retry,
                provider=provider_for(spec.needs, settings.scenario),
            )


def _record_operations(
    spec: FunctionSpec, envelope: Envelope, meter: Counter[str], seconds: float
) -> None:
    """One usage record of this invocation's cloud operations, for the tale it is about."""
    tale_id = envelope.tale_id
    if not tale_id:
        return
    units = {k: float(v) for k, v in meter.items()}
    units["invocations"] = 1.0
    units["vcpu_seconds"] = seconds * vcpus(spec.memory, spec.concurrency)
    units["gib_seconds"] = seconds * memory_gib(spec.memory)
    units["firestore_writes"] = units.get("firestore_writes", 0.0) + 1  # this record
    attempt = envelope.delivery_attempt or uuid.uuid4().hex[:8]
    try:
        bootstrap.container().usage.record(
            Usage(
                tale_id,
                f"ops:{spec.name}:{envelope.message_id}:{attempt}",
                "gcp",
                spec.name,
                units,
                time.time(),
            )
        )
    except Exception:  # accounting must never fail the pipeline
        log.exception("could not record the operations of %s", spec.name)


def _retry_reason(exc: Exception) -> str:
    return str(exc) if isinstance(exc, MalformedEvent) else f"{type(exc).__name__}: {exc}"


def _handle(envelope: Envelope, spec: FunctionSpec, handler: Handler) -> str | None:
    """Run the stage; the reason of a permanent failure (the tale was failed), else None."""
    container = bootstrap.container()
    payload: Event | Envelope = envelope
    try:
        if spec.trigger in EVENT_TYPES:
            payload = parse(envelope, EVENT_TYPES[spec.trigger])
            bind(shot=getattr(payload, "shot_index", None))
        container.call(handler, payload, envelope=envelope)
        if envelope.tale_id and envelope.delivery_attempt != 1:
            # A redelivery (or unknown: Pub/Sub reports the attempt only with a dead-letter
            # policy). An earlier attempt may have failed the tale and died before announcing
            # it; this attempt's handler then returned early on the finished tale.
            reannounce_failure(container.store, container.bus, envelope.tale_id)
    except PermanentError as exc:
        tale_id = envelope.tale_id
        if tale_id:
            fail_tale(container.store, container.bus, tale_id, spec.stage, str(exc))
        return str(exc)
    except Exception as exc:
        reason = _retry_reason(exc)
        if envelope.tale_id:
            try:
                container.store.log(
                    envelope.tale_id, spec.stage, f"attempt failed: {reason}", "warning"
                )
            except Exception:  # the store may be what failed; the original error matters
                log.exception("could not record the failure")
        raise
    return None
