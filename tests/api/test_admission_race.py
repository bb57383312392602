"""Per-user limits hold under parallel requests: 50 ``POST /v1/tales`` from one user at once
(a barrier lines them up) through the real API app create exactly as many tales as the
running-tale limit or the spending cap allows — the limits are taken in one transaction in
the ledger (``Ledger.admit``).

Two configurations: the embedded default (SQLite tale store, claims and ledger), and the GCP
shape — the Firestore tale store and claims on the emulator, the Supabase ledger on a real
PostgreSQL through the PostgREST stand-in (each request on its own connection). Without the
emulator or PostgreSQL the GCP shape is skipped locally and fails under ``CI=true``.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from shared import bootstrap
from shared.config import Settings
from shared.costs.estimate import estimate_tale
from shared.costs.prices import load_prices
from tests.emulators import firestore_client, firestore_emulator
from tests.pg import pg_db, pg_server

__all__ = ["firestore_client", "firestore_emulator", "pg_db", "pg_server"]  # fixtures (gcp)

RACERS = 50
STORY = {"text": "Mina walked to the sea. Mina met a fox.", "shot_count": 2, "shot_seconds": 4}


@dataclass
class Shape:
    """How to configure the API's container, and how a user comes to exist."""

    configure: Callable[[Settings], bootstrap.Container]
    sign_up: Callable[[], str]


def embedded(request: pytest.FixtureRequest, tmp: Path) -> Iterator[Shape]:
    yield Shape(lambda s: bootstrap.configure(s), lambda: str(uuid.uuid4()))


def gcp(request: pytest.FixtureRequest, tmp: Path) -> Iterator[Shape]:
    from shared.adapters.gcp.firestore_claims import FirestoreClaims
    from shared.adapters.gcp.firestore_store import FirestoreTaleStore
    from shared.adapters.local.keys import LocalKeyFile
    from shared.adapters.supabase.ledger import SupabaseLedger
    from tests.emulators import fresh_root
    from tests.pg import Database
    from tests.postgrest import PostgrestStandIn, supabase_client

    client = request.getfixturevalue("firestore_client")
    db: Database = request.getfixturevalue("pg_db")
    stand_in = PostgrestStandIn(db, concurrent=True)
    root = fresh_root()

    def configure(settings: Settings) -> bootstrap.Container:
        return bootstrap.configure(
            settings,
            store=FirestoreTaleStore(client, keys=LocalKeyFile(tmp / "keys"), root=root),
            claims=FirestoreClaims(client, root=root),
            ledger=SupabaseLedger(supabase_client(stand_in)),
        )

    try:
        yield Shape(configure, db.add_user)
    finally:
        stand_in.close()


SHAPES = {"embedded": embedded, "gcp": gcp}


@pytest.fixture(params=sorted(SHAPES))
def shape(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Shape]:
    yield from SHAPES[request.param](request, tmp_path)


def race(client: Any, headers: dict[str, str]) -> list[Any]:
    """``RACERS`` creations at once, each on its own client; their responses."""
    start = threading.Barrier(RACERS, timeout=60)
    responses: list[Any] = []
    app = client.application

    def racer() -> None:
        mine = app.test_client()
        start.wait()
        responses.append(mine.post("/v1/tales", headers=headers, json=STORY))

    threads = [threading.Thread(target=racer) for _ in range(RACERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert len(responses) == RACERS
    return responses


def kinds(responses: list[Any]) -> Counter[str]:
    """``201`` or the status and problem type of each response."""
    out: Counter[str] = Counter()
    for response in responses:
        if response.status_code == 201:
            out["201"] += 1
        else:
            doc = json.loads(response.data)
            out[f"{response.status_code} {doc['type'].rsplit('/', 1)[-1]}"] += 1
    return out


def check_books(container: bootstrap.Container, user: str, tales: int) -> None:
    assert len(container.store.list_tales(owner=user, limit=100)) == tales
    reserves = [e for e in container.ledger.entries(user) if e.kind == "reserve"]
    assert len(reserves) == tales
    profile = container.ledger.profile(user)
    assert profile is not None
    assert profile.balance == container.settings.monthly_credits("free") - tales  # 1 credit each


def test_fifty_at_once_against_a_running_limit_of_three(
    client: Any, token: Callable[..., dict[str, str]], api_settings: Settings, shape: Shape
) -> None:
    container = shape.configure(
        api_settings.model_copy(update={"api_max_running_tales": 3, "api_rate_per_minute": 1000})
    )
    user = shape.sign_up()
    responses = race(client, token(user))
    assert kinds(responses) == {"201": 3, "429 too-many-running-tales": RACERS - 3}
    assert all(r.headers["Retry-After"] == "30" for r in responses if r.status_code == 429)
    check_books(container, user, 3)


def test_fifty_at_once_against_a_cap_for_two(
    client: Any, token: Callable[..., dict[str, str]], api_settings: Settings, shape: Shape
) -> None:
    one = estimate_tale(2, 4, 2, "A", load_prices()).usd
    container = shape.configure(
        api_settings.model_copy(
            update={
                "scenario": "A",  # priced as Veo; no provider is called by these requests
                "spend_cap_usd": round(one * 2.5, 4),
                "api_max_running_tales": 1000,
                "api_rate_per_minute": 1000,
            }
        )
    )
    user = shape.sign_up()
    responses = race(client, token(user))
    assert kinds(responses) == {"201": 2, "402 spending-cap-exceeded": RACERS - 2}
    refused = json.loads(next(r.data for r in responses if r.status_code == 402))
    assert abs(refused["committed_usd"] - 2 * one) < 1e-5
    assert refused["cap_usd"] == round(one * 2.5, 4)
    check_books(container, user, 2)
