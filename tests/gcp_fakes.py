"""Hand-written stand-ins for Google Cloud clients that the tests cannot reach.

``FakePublisher`` has ``google.cloud.pubsub_v1.PublisherClient.publish``'s signature (a test
compares them, so the fake cannot drift) and, like the real client, returns a future that a
background thread resolves with the message id, or fails.
"""

from __future__ import annotations

import concurrent.futures
import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from google.api_core import exceptions as api_exceptions
from google.api_core import gapic_v1
from google.api_core.retry import Retry
from google.api_core.timeout import ConstantTimeout

OptionalRetry = Retry | object
OptionalTimeout = float | ConstantTimeout | object


@dataclass(frozen=True)
class Published:
    topic: str
    data: bytes
    attrs: dict[str, str]
    message_id: str


@dataclass
class FakePublisher:
    """Records (topic, data, attrs) of every publish; resolves each future on its own thread.

    ``delay(n, topic, data)`` gives the seconds before the n-th publish (from 0) resolves;
    ``fail(n, topic, data)`` returns an exception to fail it with (``None``: succeed).
    ``unavailable(...)`` makes a ``fail`` that fails chosen publishes with
    ``ServiceUnavailable``, as the real client does once its own retries are spent.
    """

    delay: Callable[[int, str, bytes], float] = lambda n, topic, data: 0.0
    fail: Callable[[int, str, bytes], BaseException | None] = lambda n, topic, data: None
    calls: list[tuple[str, bytes, dict[str, str]]] = field(default_factory=list)
    published: list[Published] = field(default_factory=list)
    """Messages accepted, in the order their futures resolved (not the order of calls)."""
    futures: list[concurrent.futures.Future[str]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    @staticmethod
    def unavailable(*which: int) -> Callable[[int, str, bytes], BaseException | None]:
        def fail(n: int, topic: str, data: bytes) -> BaseException | None:
            return (
                api_exceptions.ServiceUnavailable("the service is unavailable")
                if (n in which)
                else None
            )

        return fail

    def publish(  # the signature of PublisherClient.publish, less the annotations' spelling
        self,
        topic: str,
        data: bytes,
        ordering_key: str = "",
        retry: OptionalRetry = gapic_v1.method.DEFAULT,
        timeout: OptionalTimeout = gapic_v1.method.DEFAULT,
        **attrs: bytes | str,
    ) -> concurrent.futures.Future[str]:
        if not isinstance(data, bytes):
            raise TypeError("Data being published to Pub/Sub must be sent as a bytestring.")
        if ordering_key:
            raise ValueError(
                "Cannot publish a message with an ordering key when message ordering is not "
                "enabled."
            )
        text: dict[str, str] = {}
        for k, v in attrs.items():
            if isinstance(v, bytes):
                v = v.decode("utf-8")
            if not isinstance(v, str):
                raise TypeError(
                    "All attributes being published to Pub/Sub must be sent as text strings."
                )
            text[k] = v
        future: concurrent.futures.Future[str] = concurrent.futures.Future()
        with self._lock:
            n = len(self.calls)
            self.calls.append((topic, data, text))
            self.futures.append(future)
        delay, error = self.delay(n, topic, data), self.fail(n, topic, data)

        def resolve() -> None:
            if delay:
                time.sleep(delay)
            if error is not None:
                future.set_exception(error)
                return
            with self._lock:
                message_id = str(next(self._ids))
                self.published.append(Published(topic, data, text, message_id))
            future.set_result(message_id)

        threading.Thread(target=resolve, daemon=True, name=f"fake-publish-{n}").start()
        return future


@dataclass
class FakeSubscriber:
    """A pull subscription with leases, behind ``SubscriberClient``'s ``pull``,
    ``acknowledge`` and ``modify_ack_deadline`` (keyword forms; signatures compared in a test).

    A pulled message is leased for ``ack_deadline_s`` and not returned again until its lease
    ends or ``modify_ack_deadline(..., 0)`` releases it; an acknowledged one is gone.
    """

    subscription: str
    ack_deadline_s: float = 60.0
    pull_size: int | None = None
    """At most this many per pull, whatever was asked (Pub/Sub may return fewer)."""
    messages: dict[str, Any] = field(default_factory=dict)
    leases: dict[str, float] = field(default_factory=dict)
    pulls: int = 0

    def add(self, data: bytes, attributes: dict[str, str], message_id: str) -> None:
        from google.protobuf import timestamp_pb2
        from google.pubsub_v1.types import PubsubMessage

        stamp = timestamp_pb2.Timestamp()
        stamp.FromNanoseconds(time.time_ns() + len(self.messages))
        self.messages[message_id] = PubsubMessage(
            data=data, attributes=attributes, message_id=message_id, publish_time=stamp
        )

    def _check(self, subscription: str | None) -> None:
        if subscription != self.subscription:
            raise api_exceptions.NotFound(f"Resource not found (resource={subscription}).")

    def pull(
        self,
        request: Any = None,
        *,
        subscription: str | None = None,
        return_immediately: bool | None = None,
        max_messages: int | None = None,
        retry: OptionalRetry = gapic_v1.method.DEFAULT,
        timeout: OptionalTimeout = gapic_v1.method.DEFAULT,
        metadata: Any = (),
    ) -> Any:
        from google.pubsub_v1.types import PullResponse, ReceivedMessage

        self._check(subscription)
        self.pulls += 1
        now = time.monotonic()
        limit = min(max_messages or 1, self.pull_size or max_messages or 1)
        out = []
        for message_id, message in self.messages.items():
            if len(out) == limit:
                break
            if self.leases.get(message_id, 0.0) > now:
                continue
            self.leases[message_id] = now + self.ack_deadline_s
            out.append(ReceivedMessage(ack_id=f"ack-{message_id}", message=message))
        return PullResponse(received_messages=out)

    def acknowledge(
        self,
        request: Any = None,
        *,
        subscription: str | None = None,
        ack_ids: Any = None,
        retry: OptionalRetry = gapic_v1.method.DEFAULT,
        timeout: OptionalTimeout = gapic_v1.method.DEFAULT,
        metadata: Any = (),
    ) -> None:
        self._check(subscription)
        for ack_id in ack_ids or []:
            message_id = ack_id.removeprefix("ack-")
            self.messages.pop(message_id, None)
            self.leases.pop(message_id, None)

    def modify_ack_deadline(
        self,
        request: Any = None,
        *,
        subscription: str | None = None,
        ack_ids: Any = None,
        ack_deadline_seconds: int | None = None,
        retry: OptionalRetry = gapic_v1.method.DEFAULT,
        timeout: OptionalTimeout = gapic_v1.method.DEFAULT,
        metadata: Any = (),
    ) -> None:
        self._check(subscription)
        for ack_id in ack_ids or []:
            message_id = ack_id.removeprefix("ack-")
            if message_id in self.leases:
                self.leases[message_id] = time.monotonic() + (ack_deadline_seconds or 0)
