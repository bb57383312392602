"""What each function invocation costs the platform: cloud operations counted where they happen.

The adapters count at their own boundary — the bus per message published, the tale store per
document (Firestore) or row (SQLite) read and written, the blob store per object read and
written with its bytes — into the meter of the invocation in progress (a context variable, so
concurrent invocations in one process, as in the local runtime, never mix). The entry point
(``shared.entrypoints``) opens the meter, times the invocation, and records the totals once as
a usage record of provider ``"gcp"`` for the tale the message is about; the cost model
(``shared.costs``) prices them with the price table.

Units (all per invocation):

- ``invocations`` (1), ``vcpu_seconds``, ``gib_seconds`` — the function's wall time times the
  vCPU and memory it is deployed with (``shared.registry``), as Cloud Run bills;
- ``pubsub_messages`` and ``pubsub_bytes`` — billable bytes: data plus attributes, at least
  1,000 per message (Pub/Sub's minimum billable size);
- ``firestore_reads`` (every document returned, at least one per query), ``firestore_writes``,
  ``firestore_deletes``;
- ``gcs_writes`` / ``gcs_reads`` (objects) and ``gcs_bytes_written``.

The usage record itself is one more document write, and is counted.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

PUBSUB_MIN_BILLABLE_BYTES = 1000

_current: ContextVar[Counter[str] | None] = ContextVar("tale_meter", default=None)


def count(unit: str, n: float = 1) -> None:
    """Add ``n`` of ``unit`` to the invocation in progress (nothing outside one)."""
    meter = _current.get()
    if meter is not None and n:
        meter[unit] += n  # type: ignore[assignment]


def count_message(data: bytes, attributes: dict[str, str]) -> None:
    size = len(data) + sum(len(k.encode()) + len(v.encode()) for k, v in attributes.items())
    count("pubsub_messages")
    count("pubsub_bytes", max(size, PUBSUB_MIN_BILLABLE_BYTES))


@contextmanager
def metering() -> Iterator[Counter[str]]:
    """A fresh meter for the code inside (nested meters do not add to the outer one)."""
    meter: Counter[str] = Counter()
    token = _current.set(meter)
    try:
        yield meter
    finally:
        _current.reset(token)


_GIB = {"Mi": 1 / 1024, "Gi": 1.0}


def memory_gib(memory: str) -> float:
    """``"512Mi"`` → 0.5."""
    for suffix, factor in _GIB.items():
        if memory.endswith(suffix):
            return float(memory.removesuffix(suffix)) * factor
    raise ValueError(f"unknown memory size {memory!r}")


def vcpus(memory: str, concurrency: int) -> float:
    """The vCPU a function gets: Cloud Run functions' default for its memory, or 1 vCPU when
    it serves concurrent requests (``terraform/functions.tf`` sets ``available_cpu`` then)."""
    gib = memory_gib(memory)
    if concurrency > 1:
        return max(1.0, _default_vcpus(gib))
    return _default_vcpus(gib)


def _default_vcpus(gib: float) -> float:
    for limit, cpu in ((0.125, 0.083), (0.25, 0.167), (0.5, 0.333), (1, 0.583), (2, 1), (8, 2)):
        if gib <= limit:
            return float(cpu)
    return 4.0 if gib <= 16 else 8.0
