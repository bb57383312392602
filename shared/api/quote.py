"""``GET /v1/estimate``: what a tale would cost, asked before it is submitted.

The story form shows it while the owner chooses the shots and their length: the credits the
tale would reserve (``tale_cost``, the rule admission applies), the owner's balance, and the
generation estimate in USD from the deployment's price table — the figure the monthly
spending cap counts (``shared.costs.budget``). Before a storyboard exists the estimate
assumes ``DEFAULT_CHARACTERS`` characters, as the tale's own estimate does. Nothing is
reserved or stored.

``voice`` means what the submission's ``options.voice`` means and is checked the same way
(``shared.providers.voice_options``; an unknown voice is the submission's 422
``unknown-voice``): ``none`` prices no narration, as admission does. The story's language is
``language`` when the form names it; otherwise it will be detected from a text the estimate
does not see, so a voice of any story language passes here and the submission checks it
against the detected one.
"""

from __future__ import annotations

from typing import Any, get_args

from pydantic import BaseModel, Field, ValidationError

from schemas.story import (
    MAX_SHOTS,
    VOICE_MAX_CHARS,
    VOICE_PATTERN,
    Language,
    ShotSeconds,
    StoryOptions,
)
from shared.api import budget
from shared.api.problems import Problem, refusal
from shared.api.routes import Call, ensure_account
from shared.api.views import CostEstimate
from shared.costs import budget as costs
from shared.domain.credits import tale_cost
from shared.domain.errors import UnknownVoice
from shared.providers.voice_options import check_voice

SHOT_SECONDS: tuple[int, ...] = get_args(ShotSeconds)
LANGUAGES: tuple[str, ...] = get_args(Language)
QUERY: list[tuple[str, dict[str, Any]]] = [
    ("shot_count", {"type": "integer", "minimum": 1, "maximum": MAX_SHOTS, "default": 8}),
    ("shot_seconds", {"type": "integer", "enum": list(SHOT_SECONDS), "default": 8}),
    (
        "language",
        {
            "type": "string",
            "enum": list(LANGUAGES),
            "description": "The story's language, whose voices `voice` is checked against; "
            "omitted: not known yet (detected from the text at submission), so a voice of "
            "any story language passes.",
        },
    ),
    (
        "voice",
        {
            "type": "string",
            "maxLength": VOICE_MAX_CHARS,
            "pattern": VOICE_PATTERN,
            "default": "",
            "description": "As the submission's `options.voice`: one of the deployment's "
            "voices for the story's language, empty for its default, 'none' for no "
            "narration (priced at nothing). An unknown voice: 422 `unknown-voice`.",
        },
    ),
]
"""The query parameters, as the OpenAPI document states them."""


class Quote(BaseModel):
    """What a tale of ``shot_count`` shots of ``shot_seconds`` would cost."""

    shot_count: int
    shot_seconds: int
    voice: str = Field(description="The voice option priced ('none': no narration).")
    credits: int = Field(description="Credits the tale would reserve when submitted.")
    balance: int = Field(description="The caller's credits now.")
    estimate: CostEstimate
    """The generation estimate (USD) the spending cap counts."""


def _integer(call: Call, name: str, default: int, allowed: range | tuple[int, ...]) -> int:
    raw = call.request.args.get(name, str(default))
    if not (raw.isdigit() and len(raw) <= 3 and int(raw) in allowed):
        shown = ", ".join(map(str, allowed)) if isinstance(allowed, tuple) else f"1 to {MAX_SHOTS}"
        raise Problem(422, "invalid-request", "Invalid request", f"{name}: {shown}")
    return int(raw)


def _language(call: Call) -> str | None:
    raw = call.request.args.get("language")
    if raw is None:
        return None
    if raw not in LANGUAGES:
        raise Problem(
            422, "invalid-request", "Invalid request", f"language: {', '.join(LANGUAGES)}"
        )
    return raw


def _voice(call: Call, language: str | None) -> str:
    """The ``voice`` asked for, held to the submission's rules (``options.voice``)."""
    raw = call.request.args.get("voice", "")
    try:
        voice = StoryOptions(voice=raw).voice
    except ValidationError as exc:
        reason = exc.errors()[0]["msg"]
        raise Problem(422, "invalid-request", "Invalid request", f"voice: {reason}") from exc
    try:
        check_voice(call.container.settings, language, voice)
    except UnknownVoice as exc:
        raise refusal(exc) from exc
    return voice


def estimate(call: Call) -> Quote:
    shots = _integer(call, "shot_count", 8, range(1, MAX_SHOTS + 1))
    seconds = _integer(call, "shot_seconds", 8, SHOT_SECONDS)
    voice = _voice(call, _language(call))
    ensure_account(call)
    profile = call.container.ledger.profile(call.user)
    settings = call.container.settings
    usd = costs.estimate(settings, shots, seconds, costs.DEFAULT_CHARACTERS, voice=voice)
    return Quote(
        shot_count=shots,
        shot_seconds=seconds,
        voice=voice,
        credits=tale_cost(shots, seconds),
        balance=profile.balance if profile is not None else 0,
        estimate=budget.view(usd),
    )
