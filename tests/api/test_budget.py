"""Budgets: the cost estimate comes with the tale (and its storyboard), and a tale that would
take the tenant's month over its spending cap is refused before anything is reserved (the
races: ``test_admission_race.py``)."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from shared import bootstrap
from shared.config import Settings
from shared.costs.estimate import estimate_tale
from shared.costs.narration import of_plan, silent
from shared.costs.prices import load_prices
from shared.domain.credits import period_of
from shared.domain.errors import SpendingCapExceeded
from shared.domain.tale import TaleState
from shared.runtime.local import LocalRuntime

Tokens = Callable[..., dict[str, str]]
STORY = {
    "text": "Mina walked to the sea. Mina met a fox. They became friends.",
    "shot_count": 4,
    "shot_seconds": 8,
}


def scenario_a(settings: Settings, **update: Any) -> bootstrap.Container:
    """Scenario A's prices (Veo, Imagen, Gemini); no provider is called by these requests."""
    return bootstrap.configure(settings.model_copy(update={"scenario": "A", **update}))


def test_a_tale_over_the_cap_is_refused_and_nothing_is_reserved(
    client: Any, token: Tokens, api_settings: Settings
) -> None:
    one = estimate_tale(4, 8, 2, "A", load_prices()).usd
    assert one > 1  # four 8-second Veo shots cost dollars
    scenario_a(api_settings, spend_cap_usd=round(one * 1.5, 2))
    me = token()
    first = client.post("/v1/tales", headers=me, json=STORY)
    assert first.status_code == 201, first.data
    balance = client.get("/v1/me", headers=me).json["balance"]
    refused = client.post("/v1/tales", headers=me, json=STORY)
    assert refused.status_code == 402 and refused.mimetype == "application/problem+json"
    doc = json.loads(refused.data)
    assert doc["type"].endswith("spending-cap-exceeded")
    assert f"${one:.2f}" in doc["detail"] and "cap" in doc["detail"]
    assert doc["cap_usd"] == round(one * 1.5, 2)
    assert abs(doc["committed_usd"] - one) < 1e-6
    assert client.get("/v1/me", headers=me).json["balance"] == balance  # nothing reserved
    assert len(client.get("/v1/tales", headers=me).json["tales"]) == 1
    # Another tenant has a cap of their own; an override lifts one tenant's.
    assert client.post("/v1/tales", headers=token(), json=STORY).status_code == 201
    user = "0b5f4f7e-9a6b-4b4e-8a57-1b2f3c4d5e6f"
    scenario_a(api_settings, spend_cap_usd=round(one * 1.5, 2), spend_caps_usd={user: one * 10})
    for _ in range(2):
        assert client.post("/v1/tales", headers=token(user), json=STORY).status_code == 201


def test_the_estimate_comes_with_the_tale_and_then_with_its_storyboard(
    client: Any, token: Tokens, api_settings: Settings
) -> None:
    container = scenario_a(api_settings)
    me = token()
    body = {**STORY, "options": {"approval_required": True}}
    created = client.post("/v1/tales", headers=me, json=body)
    tale_id = created.json["id"]
    before = client.get(f"/v1/tales/{tale_id}", headers=me).json["estimate"]
    assert before["scenario"] == "A" and before["price_table"] == load_prices().version
    assert abs(before["usd"] - estimate_tale(4, 8, 2, "A", load_prices()).usd) < 1e-5
    assert set(before["by_stage"]) >= {"planning", "rendering", "narration"}
    assert before["by_stage"]["narration"] > 0  # every shot narrated, at the typical fill
    # Plan it offline (the embedded planner), stopping at the storyboard.
    bootstrap.configure(api_settings.model_copy(update={"scenario": "offline"}))
    with LocalRuntime(bootstrap.container()) as runtime:
        runtime.run(timeout=60)
    tale = bootstrap.container().store.find(tale_id)
    assert tale is not None and tale.state is TaleState.AWAITING_APPROVAL
    plan = bootstrap.container().store.plan(tale_id)
    assert plan is not None
    scenario_a(api_settings)
    after = client.get(f"/v1/tales/{tale_id}", headers=me).json["estimate"]
    seconds = round(sum(s.duration_s for s in plan.shots) / len(plan.shots))
    voiced = of_plan(plan, "")  # the storyboard's own lines, in the default voice
    expected = estimate_tale(
        len(plan.shots), seconds, len(plan.characters), "A", load_prices(), narration=voiced
    )
    assert abs(after["usd"] - expected.usd) < 1e-5
    assert after["by_stage"]["narration"] == pytest.approx(expected.by_stage["narration"], abs=1e-6)
    assert container.settings.scenario == "A"


def test_a_tale_without_narration_is_admitted_without_its_price(
    client: Any, token: Tokens, api_settings: Settings
) -> None:
    """The estimate a tale is admitted with follows its voice option: with a cap between
    the two, the narrated tale is refused and the same tale with voice ``none`` admitted."""
    prices = load_prices()
    narrated = estimate_tale(4, 8, 2, "A", prices)
    quiet = estimate_tale(4, 8, 2, "A", prices, narration=silent())
    assert narrated.usd - quiet.usd == pytest.approx(narrated.by_stage["narration"])
    scenario_a(api_settings, spend_cap_usd=(narrated.usd + quiet.usd) / 2)
    me = token()
    refused = client.post("/v1/tales", headers=me, json=STORY)
    assert refused.status_code == 402, refused.data
    body = {**STORY, "options": {"voice": "none"}}
    assert client.post("/v1/tales", headers=me, json=body).status_code == 201


def test_only_this_months_admissions_are_committed(
    client: Any, token: Tokens, api_settings: Settings
) -> None:
    """The committed spend is the estimates the month's tales were admitted with, kept in
    the ledger with their reservations; the next month starts over."""
    one = estimate_tale(4, 8, 2, "A", load_prices()).usd
    container = scenario_a(api_settings, spend_cap_usd=round(one * 1.5, 2))
    user = str(uuid.uuid4())
    assert client.post("/v1/tales", headers=token(user), json=STORY).status_code == 201
    [reserved] = [e for e in container.ledger.entries(user) if e.kind == "reserve"]
    next_month = period_of(time.time() + 32 * 24 * 3600)
    ledger = container.ledger
    with pytest.raises(SpendingCapExceeded) as caught:
        ledger.admit(
            user,
            "tale-later",
            credits=1,
            estimate_usd=one,
            period=period_of(reserved.at),
            cap_usd=one * 1.5,
            max_running=9,
        )
    assert abs(caught.value.committed_usd - one) < 1e-6
    assert ledger.admit(
        user,
        "tale-later",
        credits=1,
        estimate_usd=one,
        period=next_month,
        cap_usd=one * 1.5,
        max_running=9,
    )
