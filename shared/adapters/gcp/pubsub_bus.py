"""Pub/Sub event bus: each event is one message on the topic named by its type.

- Message: ``data`` is the event's JSON, attributes are ``message_attributes(event)`` (type,
  version, tale id, logical key), topic ``projects/<project>/topics/<event.TYPE>``. No ordering
  key: consumers never rely on message order.
- Durability: ``publish`` waits for the publish future, so a function that returns has had its
  messages accepted by Pub/Sub. Nothing is left in a client-side batch when the instance is
  frozen or recycled after the invocation.
- ``publish_many`` (the shot fan-out) hands every message to the client first, then waits for
  all the futures: the messages travel together in batched requests, not one round trip each.
- Failures: the client retries transient RPC errors itself (``PUBLISH_RETRY``, bounded to fit in
  ``timeout_s``). A publish still failing with a transient error, or not confirmed within
  ``timeout_s``, raises ``TransientError`` so that the message being handled is redelivered;
  consumers are idempotent on the logical key, so a message that did get through is harmless.
  Other errors (missing topic, permission denied) propagate unchanged.
"""

from __future__ import annotations

import concurrent.futures
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from google.api_core import exceptions as api_exceptions
from google.api_core.retry import Retry, if_exception_type

from schemas.events import Event
from shared.domain.errors import TransientError
from shared.metering import count_message
from shared.ports.bus import EventBus, message_attributes

MiB = 1024 * 1024

RPC_TRANSIENT_ERRORS: tuple[type[Exception], ...] = (
    api_exceptions.Aborted,
    api_exceptions.Cancelled,
    api_exceptions.DeadlineExceeded,
    api_exceptions.InternalServerError,
    api_exceptions.TooManyRequests,  # and its gRPC form, ResourceExhausted
    api_exceptions.ServiceUnavailable,
    api_exceptions.Unknown,
)
"""What the client retries (its own default predicate for publish)."""

TRANSIENT_ERRORS: tuple[type[Exception], ...] = (
    *RPC_TRANSIENT_ERRORS,
    api_exceptions.RetryError,  # the client's retries ran out of time
    concurrent.futures.TimeoutError,  # not confirmed within timeout_s
)
"""Publish failures worth retrying later (the codes the client itself retries, and timeouts)."""


def publish_retry(timeout_s: float) -> Retry:
    """The client's retry of publish RPCs: its default predicate, bounded to fit ``timeout_s``."""
    return Retry(
        predicate=if_exception_type(*RPC_TRANSIENT_ERRORS),
        initial=0.1,
        maximum=5.0,
        multiplier=4.0,
        timeout=0.8 * timeout_s,
    )


def batch_settings() -> Any:
    """Batching for the fan-out: ``render_shot`` requests for every shot are published at once.

    Up to 100 messages or 1 MiB go in one publish request, and a batch waits at most 10 ms for
    more: N shot messages cost about one round trip instead of N, which keeps the function's
    wall time (billed, and on the user's critical path) low, while a lone message is delayed
    by only 10 ms.
    """
    from google.cloud.pubsub_v1.types import BatchSettings

    return BatchSettings(max_messages=100, max_bytes=1 * MiB, max_latency=0.01)


def publisher_client(timeout_s: float = 30.0) -> Any:
    """A ``PublisherClient`` batched for the fan-out, its retries bounded to fit ``timeout_s``.

    The composition root builds one per process (``Container.publisher``): the bus and the
    dead-letter replay share it, and with it one gRPC channel and one batching thread.
    """
    from google.cloud.pubsub_v1 import PublisherClient
    from google.cloud.pubsub_v1.types import PublisherOptions

    options = PublisherOptions(retry=publish_retry(timeout_s), timeout=0.8 * timeout_s)
    return PublisherClient(batch_settings=batch_settings(), publisher_options=options)


class PubSubBus(EventBus):
    def __init__(
        self,
        publisher: Any | None,
        project: str,
        *,
        timeout_s: float = 30.0,
        make_publisher: Callable[[], Any] | None = None,
    ) -> None:
        """``publisher``: a ``google.cloud.pubsub_v1.PublisherClient`` (or anything with its
        ``publish(topic, data, **attrs)``); ``None`` with ``make_publisher`` creates it on the
        first publish (a function that never publishes never opens a channel)."""
        if publisher is None and make_publisher is None:
            raise ValueError("PubSubBus needs a publisher or make_publisher")
        self._publisher = publisher
        self._make_publisher = make_publisher
        self._lock = threading.Lock()
        self.project = project
        self.timeout_s = timeout_s

    @classmethod
    def from_settings(cls, project: str, *, timeout_s: float = 30.0) -> PubSubBus:
        """A bus with its own publisher, made on the first publish (the composition root
        shares the process's publisher instead: ``make_publisher``)."""
        return cls(
            None, project, timeout_s=timeout_s, make_publisher=lambda: publisher_client(timeout_s)
        )

    @property
    def publisher(self) -> Any:
        if self._publisher is None:
            with self._lock:
                if self._publisher is None:
                    assert self._make_publisher is not None
                    self._publisher = self._make_publisher()
        return self._publisher

    def topic_path(self, topic: str) -> str:
        return f"projects/{self.project}/topics/{topic}"

    # --- publishing -------------------------------------------------------------------------
    def _submit(self, topic: str, data: bytes, attributes: Mapping[str, str]) -> Any:
        count_message(data, dict(attributes))
        return self.publisher.publish(self.topic_path(topic), data, **dict(attributes))

    def _await(self, futures: Sequence[Any], topics: Sequence[str]) -> list[str]:
        """Wait for every future (together, up to ``timeout_s``); message ids in order."""
        _, pending = concurrent.futures.wait(futures, timeout=self.timeout_s)
        if pending:
            raise TransientError(
                f"Pub/Sub did not confirm {len(pending)} of {len(futures)} messages "
                f"within {self.timeout_s:g} s"
            )
        ids: list[str] = []
        for future, topic in zip(futures, topics, strict=True):
            exc = future.exception()
            if exc is None:
                ids.append(str(future.result()))
            elif isinstance(exc, TRANSIENT_ERRORS):
                raise TransientError(
                    f"Pub/Sub publish to {topic} failed: {type(exc).__name__}: {exc}"
                ) from exc
            else:
                raise exc
        return ids

    def publish(self, event: Event) -> str:
        return self.publish_raw(
            event.TYPE, event.model_dump_json().encode(), message_attributes(event)
        )

    def publish_many(self, events: Iterable[Event]) -> list[str]:
        """Publish all, then wait for all: the messages share batches and round trips."""
        events = list(events)
        futures = [
            self._submit(e.TYPE, e.model_dump_json().encode(), message_attributes(e))
            for e in events
        ]
        return self._await(futures, [e.TYPE for e in events])

    def publish_raw(self, topic: str, data: bytes, attributes: Mapping[str, str]) -> str:
        """Publish bytes as they are on a topic (operators: replaying dead letters)."""
        return self._await([self._submit(topic, data, attributes)], [topic])[0]
