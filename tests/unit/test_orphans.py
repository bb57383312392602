"""Which reservations pay for nothing (``shared.domain.credits``), and why the sweep waits
``ORPHAN_GRACE_S`` before returning one (``shared.usecases.return_orphans``)."""

from __future__ import annotations

import pytest

from shared.domain.credits import key_parts, ledger_key, orphaned
from shared.registry import BY_NAME
from shared.usecases.return_orphans import ORPHAN_GRACE_S


@pytest.mark.parametrize(
    ("key", "parts"),
    [
        ("tale-0123456789", ("tale-0123456789", 0)),
        ("tale-0123456789.r1", ("tale-0123456789", 1)),
        ("tale-0123456789.r12", ("tale-0123456789", 12)),
        ("tale-0123456789.r0", ("tale-0123456789.r0", 0)),  # no ledger_key writes this
        ("tale-0123456789.rx", ("tale-0123456789.rx", 0)),
    ],
)
def test_a_ledger_key_names_its_tale_and_revision(key: str, parts: tuple[str, int]) -> None:
    assert key_parts(key) == parts
    if parts[0] == key.split(".")[0]:
        assert ledger_key(*parts) == key


def test_a_reservation_is_orphaned_when_what_it_pays_for_never_started() -> None:
    assert orphaned(0, None) and orphaned(2, None)  # the tale was never created
    assert not orphaned(0, 0) and not orphaned(0, 3)  # the first cut exists
    assert orphaned(2, 1)  # revision 2 never started
    assert not orphaned(2, 2) and not orphaned(2, 3)


def test_the_grace_period_outlives_any_request_that_admitted() -> None:
    """A request between its admission and the tale's creation is alive for at most the
    ``api`` function's timeout; the sweep must not return its reservation meanwhile, nor
    those of the retries that follow a lost answer (many times the timeout)."""
    assert 10 * BY_NAME["api"].timeout_s <= ORPHAN_GRACE_S
    assert BY_NAME["sweep_stuck"].timeout_s < ORPHAN_GRACE_S
    assert "ledger" in BY_NAME["sweep_stuck"].needs
