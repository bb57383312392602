"""Local runtime: delivers bus messages to the Cloud Function entry points, concurrently.

Each delivery becomes the CloudEvent Eventarc would send and is passed to the same
``functions.<name>`` entry point that runs on Cloud Functions. A delivery is acked when the
function returns and nacked (retried with backoff, then dead-lettered) when it raises.

Only one runtime may use a home directory at a time (an exclusive lock file). Because of that,
a starting runtime knows every earlier worker is dead: it releases their leases (so their
messages are redelivered) and their never-started shot claims.
"""

from __future__ import annotations

import fcntl
import importlib
import logging
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from cloudevents.http import CloudEvent

from schemas.events import TaleSubmitted
from shared import pubsub_message
from shared.adapters.local.bus import Delivery, SqliteEventBus
from shared.adapters.local.store import SqliteTaleStore
from shared.bootstrap import Container
from shared.domain.tale import TaleState
from shared.observability.events import about
from shared.registry import BY_NAME

log = logging.getLogger("tale.runtime")
PROJECT = "local"


class RuntimeBusy(RuntimeError):
    """Another runtime holds this home directory."""


@dataclass(frozen=True)
class Swept:
    """What one sweep did: the stuck tales it failed (tale id, state) and the orphan
    reservations it returned (their ledger keys)."""

    stuck: list[tuple[str, str]]
    returned: list[str]


@dataclass
class RunStats:
    delivered: int = 0
    acked: int = 0
    retried: int = 0
    dead_lettered: int = 0
    errors: list[str] = field(default_factory=list)


class LocalRuntime:
    def __init__(self, container: Container) -> None:
        self.container = container
        bus = container.bus
        if not isinstance(bus, SqliteEventBus):
            raise TypeError("the local runtime delivers from the local bus")
        self.bus: SqliteEventBus = bus
        self.store = container.store
        self._lock_file: IO[str] | None = None
        self.stats = RunStats()

    # --- lifecycle -----------------------------------------------------------------------
    def __enter__(self) -> LocalRuntime:
        home: Path = self.container.home
        home.mkdir(parents=True, exist_ok=True)
        lock = open(home / "runtime.lock", "a+")
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            lock.close()
            raise RuntimeBusy(f"another tale process is running on {home}") from exc
        lock.seek(0)
        lock.truncate()
        lock.write(str(os.getpid()))
        lock.flush()
        self._lock_file = lock
        self.recover()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._lock_file is not None:
            fcntl.flock(self._lock_file, fcntl.LOCK_UN)
            self._lock_file.close()
            self._lock_file = None

    def recover(self) -> None:
        """Make the work of a runtime that died resumable."""
        released = self.bus.release_leases()
        claims = 0
        if isinstance(self.store, SqliteTaleStore) and not self.container.videos.paid:
            claims = self.store.release_unstarted_claims()
        for tale in self.store.list_tales(states=[TaleState.SUBMITTED], limit=1000):
            self.bus.publish(TaleSubmitted(tale_id=tale.tale_id))
        if released or claims:
            log.info("recovered %d deliveries and %d shot claims", released, claims)

    # --- dispatch ------------------------------------------------------------------------
    def deliver(self, delivery: Delivery) -> None:
        """Call the subscribed function with the CloudEvent for this delivery."""
        spec = BY_NAME[delivery.subscription]
        function = getattr(importlib.import_module(spec.module), spec.name)
        attributes, data = pubsub_message.build(
            project=PROJECT,
            topic=delivery.topic,
            subscription=delivery.subscription,
            message_id=delivery.message_id,
            data=delivery.data,
            attributes=delivery.attributes,
            delivery_attempt=delivery.attempt,
        )
        function(CloudEvent(attributes, data))

    def run(
        self,
        *,
        timeout: float | None = None,
        on_tick: Callable[[], Any] | None = None,
        tick_s: float = 0.2,
        stop: threading.Event | None = None,
    ) -> RunStats:
        """Deliver messages until the bus has no outstanding work (every delivery acked or
        dead) and nothing is in flight, or ``timeout`` seconds pass (then ``TimeoutError``).
        Deliveries waiting for a retry count as outstanding. With ``stop``, keep serving
        until it is set (``tale serve``)."""
        if self._lock_file is None:
            raise RuntimeError("use the runtime as a context manager")
        workers = self.container.settings.concurrency
        deadline = None if timeout is None else time.monotonic() + timeout
        inflight: dict[Future[None], Delivery] = {}
        last_tick = 0.0
        next_sweep = time.monotonic() + self.container.settings.sweep_interval_s
        with ThreadPoolExecutor(workers, thread_name_prefix="tale-worker") as pool:
            while True:
                for future in [f for f in inflight if f.done()]:
                    self._settle(inflight.pop(future), future)
                if stop is not None:
                    if stop.is_set():
                        break
                elif not inflight and self.bus.outstanding() == 0:
                    break
                if deadline is not None and time.monotonic() > deadline:
                    raise TimeoutError(f"work still outstanding after {timeout} s")
                next_sweep = self._sweep_when_due(next_sweep)
                for delivery in self.bus.lease(workers - len(inflight)):
                    inflight[pool.submit(self.deliver, delivery)] = delivery
                    self.stats.delivered += 1
                if on_tick is not None and time.monotonic() - last_tick >= tick_s:
                    on_tick()
                    last_tick = time.monotonic()
                pause = 0.05 if inflight else min(0.05, self.bus.next_due_in() or 0.05)
                if inflight:
                    wait(inflight, timeout=pause, return_when=FIRST_COMPLETED)
                else:
                    time.sleep(pause)
        if on_tick is not None:
            on_tick()
        return self.stats

    def _sweep_when_due(self, due: float) -> float:
        """The local stand-in for Cloud Scheduler: sweep when due; the next due time."""
        if time.monotonic() < due:
            return due
        self.sweep()
        return time.monotonic() + self.container.settings.sweep_interval_s

    def sweep(self) -> Swept:
        """Fail tales stuck past their stage's deadline (see ``service.sweep``) and return
        orphan reservations (``shared.usecases.return_orphans``), as ``sweep_stuck`` does."""
        from shared.service import sweep
        from shared.usecases.return_orphans import return_orphans

        now = time.time()
        stuck = sweep(store=self.store, bus=self.bus, now=now)
        for tale_id, state in stuck:
            log.warning("tale %s was stuck in %s and has been failed", tale_id, state)
        ledger = self.container.ledger
        returned = return_orphans(store=self.store, bus=self.bus, ledger=ledger, now=now)
        return Swept(stuck, [r.tale_id for r in returned])

    def _settle(self, delivery: Delivery, future: Future[None]) -> None:
        error = future.exception()
        if error is None:
            self.bus.ack(delivery)
            self.stats.acked += 1
            return
        reason = f"{type(error).__name__}: {error}"
        if self.bus.nack(delivery, reason):
            self.stats.dead_lettered += 1
            log.warning(
                "dead-lettered %s after %d attempts: %s",
                delivery.subscription,
                delivery.attempt,
                reason,
                extra=about(
                    tale_id=delivery.attributes.get("tale_id"), function=delivery.subscription
                ),
            )
        else:
            self.stats.retried += 1
        self.stats.errors.append(f"{delivery.subscription}: {reason}")
