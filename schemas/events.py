"""Event payloads carried between the pipeline stages.

Each event is the JSON ``data`` of one Pub/Sub message on the topic named by its ``TYPE``.
Every payload carries the tale id and a *logical key* (tale, stage, shot, attempt): handlers
key their effects on it, never on the message id, because a re-publish gets a new message id.
Consumers ignore unknown fields so that a newer producer does not break an older consumer;
an incompatible change bumps ``version``.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field

TaleId = str
_TALE_ID = Field(pattern=r"^[a-z0-9][a-z0-9-]{5,63}$", description="Tale id (lowercase, url-safe).")


class Event(BaseModel):
    """Base of every event payload."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    TYPE: ClassVar[str] = ""
    version: Literal[1] = 1
    tale_id: TaleId = _TALE_ID

    @computed_field  # type: ignore[prop-decorator]
    @property
    def key(self) -> str:
        """The logical key of the work this event asks for or reports."""
        return f"{self.tale_id}:{self.TYPE}"


class _Rerunnable(Event):
    """A tale-level request an operator may issue again (``tale retry``): each retry round
    gets its own logical key, so the handlers' claims do not treat it as a duplicate."""

    round: int = Field(default=0, ge=0, le=1000)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def key(self) -> str:
        base = f"{self.tale_id}:{self.TYPE}"
        return f"{base}:r{self.round}" if self.round else base


class TaleSubmitted(_Rerunnable):
    """A tale was accepted (and paid for): plan it."""

    TYPE: ClassVar[str] = "tale.submitted"


class CharactersRequested(_Rerunnable):
    """The plan is final (and approved when the gate is on): draw the character references."""

    TYPE: ClassVar[str] = "characters.requested"


class ShotRequested(Event):
    """Render one shot attempt. ``poll`` > 0 marks a continuation that resumes polling."""

    TYPE: ClassVar[str] = "shot.requested"
    shot_index: int = Field(ge=0, le=63)
    attempt: int = Field(default=1, ge=1, le=20)
    poll: int = Field(default=0, ge=0, le=1000)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def key(self) -> str:
        return f"{self.tale_id}:shot:{self.shot_index}:{self.attempt}"


class ShotRendered(Event):
    """One shot attempt finished; ``clip_path`` is its blob path."""

    TYPE: ClassVar[str] = "shot.rendered"
    shot_index: int = Field(ge=0, le=63)
    attempt: int = Field(ge=1, le=20)
    clip_path: str = Field(min_length=1)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def key(self) -> str:
        return f"{self.tale_id}:shot:{self.shot_index}:{self.attempt}"


def _revised(key: str, revision: int) -> str:
    """A logical key within a revision of a finished tale (the first cut keeps its key)."""
    return f"{key}:v{revision}" if revision else key


class NarrationRequested(Event):
    """Voice one shot's narration (once per shot and revision, whatever attempt renders its
    picture)."""

    TYPE: ClassVar[str] = "narration.requested"
    shot_index: int = Field(ge=0, le=63)
    revision: int = Field(default=0, ge=0, le=1000)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def key(self) -> str:
        return _revised(f"{self.tale_id}:narration:{self.shot_index}", self.revision)


class StitchRequested(_Rerunnable):
    """Every shot is rendered: stitch the final video. Published once by the fan-in (once
    per revision)."""

    TYPE: ClassVar[str] = "stitch.requested"
    revision: int = Field(default=0, ge=0, le=1000)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def key(self) -> str:
        base = f"{self.tale_id}:{self.TYPE}"
        return _revised(f"{base}:r{self.round}" if self.round else base, self.revision)


class TaleFinished(Event):
    """The tale reached a terminal state: tell the owner (and settle or refund credits)."""

    TYPE: ClassVar[str] = "tale.finished"
    outcome: Literal["completed", "failed", "cancelled"]
    revision: int = Field(default=0, ge=0, le=1000)
    """The revision that finished (0: the first cut): notified, settled or refunded once."""

    @computed_field  # type: ignore[prop-decorator]
    @property
    def key(self) -> str:
        return _revised(f"{self.tale_id}:finished:{self.outcome}", self.revision)


EVENT_TYPES: dict[str, type[Event]] = {
    cls.TYPE: cls
    for cls in (
        TaleSubmitted,
        CharactersRequested,
        ShotRequested,
        ShotRendered,
        NarrationRequested,
        StitchRequested,
        TaleFinished,
    )
}
