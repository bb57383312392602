"""The tale aggregate: what one unit of work loads, the domain changes and the store saves.

A unit of work loads the tale (with its markers and rendered-shot count) and the shots it
asked for, in one transaction; the methods here decide with the pure rules of
``shared.domain.tale`` and ``shared.domain.shots`` and remember what changed; the store then
writes exactly that (the tale document, the changed shots, the new event-log lines). The rules
are written once, here, whatever the store (SQLite, Firestore, the in-memory fake).

The rendered-shot count is kept in the tale whenever a shot enters or leaves ``rendered``, so
the fan-in decides from one document instead of reading every shot.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Literal

from schemas.plan import StoryPlan
from shared.domain import shots as rules
from shared.domain import shots as shot_rules
from shared.domain.errors import MusicLocked, PlanVersionMismatch, TaleNotFound, WrongState
from shared.domain.music import MusicTrack
from shared.domain.tale import (
    REVISABLE,
    ShotRecord,
    ShotStatus,
    TaleRecord,
    TaleState,
    check_transition,
    music_may_change,
    progress,
)

Level = Literal["debug", "info", "warning", "error"]


@dataclass(frozen=True)
class FanIn:
    """Result of recording one shot's completion."""

    rendered: int
    total: int
    fan_in_key: str | None
    """The logical key of the completion that moved the tale to stitching, once set."""


@dataclass(frozen=True)
class LogLine:
    stage: str
    message: str
    level: str = "info"


@dataclass
class TaleAggregate:
    tale: TaleRecord
    shots: dict[int, ShotRecord]
    """The shots this unit of work loaded (by index); absent ones do not exist."""
    now: float
    tale_changed: bool = False
    changed_shots: set[int] = field(default_factory=set)
    log: list[LogLine] = field(default_factory=list)
    plan: StoryPlan | None = None
    """The storyboard, when the unit of work loaded it (``with_plan``)."""
    plan_changed: bool = False

    # --- shots -----------------------------------------------------------------------------
    def shot(self, index: int) -> ShotRecord:
        try:
            return self.shots[index]
        except KeyError:
            raise TaleNotFound(f"{self.tale.tale_id} shot {index}") from None

    def put_shot(self, new: ShotRecord | None) -> ShotRecord | None:
        """Store a decided shot (``None``: no change), keeping the rendered count."""
        if new is None:
            return None
        old = self.shots.get(new.index)
        was = old is not None and old.status is ShotStatus.RENDERED
        now_rendered = new.status is ShotStatus.RENDERED
        if was != now_rendered:
            self._set(rendered=self.tale.rendered + (1 if now_rendered else -1))
        if (old is None or old.voice_path is None) and new.voice_path is not None:
            self._set(voiced=self.tale.voiced + 1)
        elif old is not None and old.voice_path is not None and new.voice_path is None:
            self._set(voiced=self.tale.voiced - 1)
        self.shots[new.index] = new
        self.changed_shots.add(new.index)
        return new

    def add_shots(self, count: int, *, voices: bool = False) -> None:
        """Pending shots 0..count-1 (attempt 1); existing ones are kept. ``voices``: the
        fan-in waits for every shot's narration too."""
        if voices and not self.tale.voices_expected:
            self._set(voices_expected=True)
        for index in range(count):
            if index not in self.shots:
                self.put_shot(rules.new_shot(self.tale.tale_id, index, self.now))

    # --- the tale --------------------------------------------------------------------------
    def _set(self, **changes: Any) -> None:
        self.tale = replace(self.tale, **changes)
        self.tale_changed = True

    def touch(self, **changes: Any) -> None:
        """Change fields and ``updated_at`` (the deadline sweep watches it)."""
        self._set(**changes, updated_at=self.now)

    def transition(
        self,
        sources: frozenset[TaleState],
        target: TaleState,
        *,
        stage: str,
        error_reason: str | None = None,
    ) -> bool:
        """Compare-and-set on the state; True when this call moved the tale."""
        tale = self.tale
        if tale.state not in sources:
            return False
        check_transition(tale.state, target)
        failed = target is TaleState.FAILED
        value = (
            progress(target, previous=tale.progress)
            if not target.terminal or target is TaleState.COMPLETED
            else tale.progress
        )
        self.touch(
            state=target,
            stage=stage,
            progress=value,
            error_stage=stage if failed else tale.error_stage,
            error_reason=error_reason if failed else tale.error_reason,
        )
        message = f"{tale.state} → {target}" + (f": {error_reason}" if error_reason else "")
        self.log.append(LogLine(stage, message, "error" if failed else "info"))
        return True

    def update(
        self,
        *,
        stage: str | None = None,
        progress_: int | None = None,
        title: str | None = None,
        outputs: dict[str, str] | None = None,
    ) -> None:
        """Non-state fields; progress never goes backwards; outputs are merged."""
        tale = self.tale
        self.touch(
            stage=stage or tale.stage,
            progress=max(progress_ or 0, tale.progress),
            title=title or tale.title,
            outputs={**tale.outputs, **(outputs or {})},
        )

    def fan_in(self, key: str) -> FanIn:
        """Count a completion (a rendered shot, or a voiced narration): the one that finds
        every shot rendered — and voiced, when the tale expects voices — while the tale
        renders moves it to stitching, and its ``key`` becomes the fan-in key (exactly once)."""
        tale = self.tale
        total, rendered = tale.shot_count, tale.rendered
        voiced = tale.voiced >= total or not tale.voices_expected
        if tale.state is TaleState.RENDERING:
            if rendered >= total and voiced and tale.fan_in_key is None:
                check_transition(tale.state, TaleState.STITCHING)
                self.touch(
                    state=TaleState.STITCHING,
                    stage="stitching",
                    progress=progress(TaleState.STITCHING),
                    fan_in_key=key,
                )
                self.log.append(
                    LogLine("stitching", f"rendering → stitching (all {total} shots rendered)")
                )
            else:
                value = progress(
                    TaleState.RENDERING,
                    characters_done=True,
                    shots_done=rendered,
                    shot_count=total,
                    previous=tale.progress,
                )
                self.touch(progress=value)
        return FanIn(rendered=rendered, total=total, fan_in_key=self.tale.fan_in_key)

    # --- revisions ------------------------------------------------------------------------
    def start_revision(self, indexes: list[int], renarrated: set[int]) -> int:
        """Start the next revision of a tale with a finished cut: the shots ``indexes``
        render again as new attempts (the others keep their clips), the ``renarrated`` ones
        are voiced again, the fan-in starts over, and the tale renders. The earlier cut's
        media stay in ``outputs`` under ``cut<n>:<name>``. Returns the revision number."""
        tale = self.tale
        if tale.state not in REVISABLE or "video" not in tale.outputs:
            raise WrongState(
                f"tale {tale.tale_id} is {tale.state}; only a tale with a finished video can "
                "be revised"
            )
        for index in indexes:
            shot = self.shot(index)
            self.put_shot(shot_rules.retry(shot, shot.attempt, self.now))
        for index in renarrated:
            self.put_shot(replace(self.shot(index), voice_path=None, updated_at=self.now))
        kept = {f"cut{tale.revision}:{k}": v for k, v in tale.outputs.items() if ":" not in k}
        revision = tale.revision + 1
        self.touch(
            state=TaleState.RENDERING,
            stage="shots",
            progress=progress(TaleState.RENDERING, characters_done=True),
            fan_in_key=None,
            error_stage=None,
            error_reason=None,
            revision=revision,
            outputs={**tale.outputs, **kept},
        )
        self.log.append(
            LogLine(
                "shots",
                f"{tale.state} → rendering: revision {revision} renders shots "
                f"{', '.join(str(i + 1) for i in indexes)}",
            )
        )
        return revision

    # --- the storyboard ------------------------------------------------------------------
    def replace_plan(self, plan: StoryPlan, expected_version: int) -> int:
        """Replace the storyboard edited from ``expected_version``; the new version. Raises
        ``PlanVersionMismatch`` when it changed meanwhile (two tabs cannot overwrite each
        other silently)."""
        if self.tale.plan_version != expected_version:
            raise PlanVersionMismatch(expected_version, self.tale.plan_version)
        self.plan, self.plan_changed = plan, True
        self.touch(
            shot_count=len(plan.shots),
            language=plan.language,
            plan_version=self.tale.plan_version + 1,
        )
        return self.tale.plan_version

    # --- music -----------------------------------------------------------------------------
    def set_music(self, track: MusicTrack | None) -> MusicTrack | None:
        """Set (or with None remove) the tale's background music; the track it replaced.
        Raises ``MusicLocked`` when the tale's state does not allow a change
        (``music_may_change``); the track it has already is no change. The tale's
        ``updated_at`` stays: an upload is not progress the deadline sweep should count."""
        tale = self.tale
        if track == tale.music:  # the same upload again, or removing what is not there
            return tale.music
        if not music_may_change(tale.state, "video" in tale.outputs):
            raise MusicLocked(tale.tale_id, tale.state.value)
        self._set(music=track)
        what = f"set ({track.content_type}, {track.seconds:.1f} s)" if track else "removed"
        self.log.append(LogLine("music", f"music {what}"))
        return tale.music

    # --- markers ---------------------------------------------------------------------------
    def claim(self, name: str, claimant: str) -> str:
        """Claim ``name`` for ``claimant`` unless held; the holder."""
        held = self.tale.markers.get(name)
        if held is not None:
            return held
        self._set(markers={**self.tale.markers, name: claimant})
        return claimant

    def mark(self, name: str) -> bool:
        """A one-time marker; True the first time."""
        if name in self.tale.markers:
            return False
        self._set(markers={**self.tale.markers, name: ""})
        return True

    def next_retry_round(self) -> int:
        self._set(retries=self.tale.retries + 1)
        return self.tale.retries
