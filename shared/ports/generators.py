"""Generator ports: planner (language model), image and video generators.

The offline adapters are honest placeholders for the models; scenario A and B adapters call
real models. A ``VideoGenerator`` is an operation API: ``start`` begins one (possibly paid)
generation and returns its operation id, which the caller records before anything else;
``poll`` resumes from nothing but that id, so a redelivered event never pays twice.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field

from schemas.plan import Character, Shot, StoryPlan
from schemas.story import StorySubmission


class Planner(ABC):
    @abstractmethod
    def plan(self, submission: StorySubmission, *, tale_id: str = "") -> StoryPlan:
        """Split the story into characters, scenes and shots (``tale_id`` for usage records
        and audit; a planner must not depend on it)."""


class ImageGenerator(ABC):
    #: True when the references are drawn later, by the GPU worker (scenario B): the
    #: character stage then records none and goes straight to the shots.
    deferred: bool = False

    @abstractmethod
    def character_reference(
        self, character: Character, plan: StoryPlan, *, tale_id: str = ""
    ) -> bytes:
        """A PNG reference image of one character, in the plan's style."""


@dataclass(frozen=True)
class VideoRequest:
    tale_id: str
    plan: StoryPlan
    shot: Shot
    attempt: int
    output_path: str
    reference_images: dict[str, str] = field(default_factory=dict)
    """Character name → blob path of its reference image."""
    claimant: str = ""
    """The message id of the delivery that claimed the shot (a redelivery keeps it)."""


@dataclass(frozen=True)
class VideoPoll:
    done: bool
    clip_path: str | None = None
    error: str | None = None
    refused: bool = False
    """True when the provider refused the content (safety filter): retrying will not help."""
    units: dict[str, float] = field(default_factory=dict)
    """What the finished operation consumed (e.g. ``video_seconds``), for usage records."""


@dataclass(frozen=True)
class Recovery:
    """What became of a start whose operation id was never recorded (the claimant died
    between the call and recording it, or the call's answer was lost).

    One of: ``operation_id`` (the generation exists and may still run: poll it), ``clip_path``
    (it ran and its output is there), ``error`` (it ran and failed; ``refused`` when the
    provider refused the content), ``nothing_ran`` (provably no generation of this attempt
    exists: it may be started again), or none of them (not known yet: ask again later)."""

    operation_id: str | None = None
    clip_path: str | None = None
    error: str | None = None
    refused: bool = False
    nothing_ran: bool = False
    units: dict[str, float] = field(default_factory=dict)

    @property
    def known(self) -> bool:
        return bool(self.operation_id or self.clip_path or self.error or self.nothing_ran)


class VideoGenerator(ABC):
    #: True for providers that charge per generation: a claim without a recorded operation id
    #: is then never restarted unless ``recover`` proves that nothing ran.
    paid: bool = True
    provider: str = "unknown"
    model: str = "unknown"
    #: The longest a started generation can take to write its output (seconds): past it, a
    #: start that left no output did not produce one.
    max_latency_s: float = 0.0

    def admit(self) -> None:
        """Called before a new generation is claimed: raise ``TransientError`` when the
        provider's quota would be exceeded (the event is redelivered later). Default: no
        quota."""
        return None

    @abstractmethod
    def start(self, request: VideoRequest) -> str:
        """Begin rendering one shot; return the operation id. Must not be retried
        automatically by the provider's client: a retried start can run (and bill) twice."""

    def recover(self, request: VideoRequest, claimed_at: float, now: float) -> Recovery:
        """Find the outcome of an unrecorded start of ``request``'s attempt, claimed at
        ``claimed_at`` (see ``Recovery``). A free generator loses nothing by starting again;
        a paid one proves nothing by default (override with a deterministic output location
        per attempt)."""
        return Recovery(nothing_ran=not self.paid)

    @abstractmethod
    def poll(self, operation_id: str) -> VideoPoll:
        """The operation's state; ``done`` with ``clip_path`` (a blob path) or ``error``."""
