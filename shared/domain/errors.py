"""Exceptions with meaning. Entry points map them to outcomes: retry (raise) or drop (ack)."""

from __future__ import annotations

from datetime import datetime


class TaleError(Exception):
    """Base of Tale's own errors."""


class InvalidStory(TaleError):
    """A submission that can never be made into a tale (user error; HTTP 422, CLI exit 2)."""


class UnsupportedRequest(InvalidStory):
    """A submission the scenario's video model cannot render (an aspect ratio or a shot length
    it does not take): refused before anything is paid, with what it does support (HTTP 422,
    CLI exit 2)."""

    def __init__(
        self, reason: str, aspect_ratios: tuple[str, ...], shot_seconds: tuple[int, ...]
    ) -> None:
        super().__init__(reason)
        self.aspect_ratios = aspect_ratios
        self.shot_seconds = shot_seconds


class UnknownVoice(InvalidStory):
    """A narrator voice the scenario does not offer for the story's language: refused at
    submission with the voices it does offer (HTTP 422, CLI exit 2)."""

    def __init__(self, voice: str, language: str, voices: tuple[str, ...]) -> None:
        shown = ", ".join(voices[:12]) + (", …" if len(voices) > 12 else "")
        super().__init__(
            f"no voice {voice!r} for {language} stories; choose one of {shown}, or 'none' "
            "for no narration"
        )
        self.voice = voice
        self.language = language
        self.voices = voices


class MalformedEvent(TaleError):
    """An event that cannot be decoded or validated.

    Raised so that the bus redelivers it; after the subscription's maximum delivery attempts it
    reaches the dead-letter handler, which fails the tale with the stage and this reason.
    """


class PermanentError(TaleError):
    """Retrying cannot help (content refused, impossible request): record, fail, acknowledge."""


class ModelUnavailable(PermanentError):
    """The configured model does not exist for the provider (retired, renamed or never
    available in the project): every call would fail the same way, so nothing is retried and
    the operators are alerted (``provider.model_missing``)."""


class TransientError(TaleError):
    """Worth retrying later (throttling, timeouts, a peer that is down): raise for redelivery."""


class IllegalTransition(TaleError):
    """A state change the tale state machine does not allow."""


class TaleNotFound(TaleError):
    """No tale with that id."""


class NotStarted(TransientError):
    """The provider answered a start request with an error (throttled, unavailable): nothing
    was started, so the attempt may be claimed and tried again. A timeout without an answer is
    a plain ``TransientError``: the generation may have started."""


class PlanVersionMismatch(TaleError):
    """The storyboard changed since the version the caller edited (HTTP 412)."""

    def __init__(self, expected: int, current: int) -> None:
        super().__init__(
            f"the storyboard is at version {current}, not {expected}: reload it and edit again"
        )
        self.expected = expected
        self.current = current


class PlanVersionRequired(TaleError):
    """An edit of the storyboard that does not say which version it edits (HTTP 428: the
    ``If-Match`` header is missing), so it could overwrite another edit unseen."""

    def __init__(self, current: int) -> None:
        super().__init__(
            f'say which storyboard you edited: send If-Match: "{current}" (its ETag) '
            "after reading it"
        )
        self.current = current


class InvalidEdit(InvalidStory):
    """A storyboard edit that cannot be made: a shot or character the storyboard lacks, past
    its limits (1 to 16 shots), or a result the planned storyboard's rules refuse (HTTP 422,
    CLI exit 2). Nothing was changed."""


class WrongState(IllegalTransition):
    """A use case's precondition on the tale's state does not hold (HTTP 409, CLI exit 2)."""


class MusicLocked(WrongState):
    """The tale's music cannot change in its state: it is being stitched, or it failed or was
    cancelled without a video (HTTP 409, CLI exit 2)."""

    def __init__(self, tale_id: str, state: str) -> None:
        super().__init__(
            f"tale {tale_id} is {state}: its music can change before it is stitched, or once "
            "it has a finished video (for its next revision)"
        )
        self.tale_id = tale_id
        self.state = state


class InvalidMusic(TaleError):
    """An upload that is not a track Tale can mix (HTTP 422, CLI exit 2): ``reason`` says why
    (``unknown-format``, ``no-audio``, ``undecodable``, ``too-short``, ``too-long``) and
    ``values`` fill its message."""

    def __init__(self, reason: str, detail: str, **values: object) -> None:
        super().__init__(detail)
        self.reason = reason
        self.values = values


class UnsupportedMusicType(InvalidMusic):
    """An upload sent with a ``Content-Type`` that is not one of the audio types Tale reads
    (HTTP 415)."""

    def __init__(self, content_type: str, accepted: tuple[str, ...]) -> None:
        super().__init__(
            "unsupported-type",
            f"send the track as one of {', '.join(accepted)}, not {content_type or 'nothing'}",
            mimetype=content_type or "nothing",
            types=", ".join(accepted),
        )
        self.content_type = content_type


class InvalidIdempotencyKey(TaleError):
    """An ``Idempotency-Key`` that cannot be one (empty, or longer than 200 characters)."""


class IdempotencyKeyReused(TaleError):
    """The ``Idempotency-Key`` was used before for a different request."""


class InvalidRevision(InvalidStory):
    """A revision that names no shot, a shot twice, a shot the storyboard lacks, or edits
    that break the storyboard's rules (HTTP 422, CLI exit 2)."""


class TooManyRevisions(TaleError):
    """The tale used every revision it may have (HTTP 409, CLI exit 2)."""

    def __init__(self, tale_id: str, limit: int) -> None:
        super().__init__(f"tale {tale_id} was revised {limit} times, the most a tale may be")
        self.limit = limit


class Refused(TaleError):
    """A tale the account may not start now (credits, running tales, spending cap): nothing
    was reserved or created. HTTP 402/429, CLI exit 2."""


class InsufficientCredits(Refused):
    """The balance does not cover the tale."""

    def __init__(self, needed: int, balance: int) -> None:
        super().__init__(f"this tale needs {needed} credits; the balance is {balance}")
        self.needed = needed
        self.balance = balance


class TooManyRunningTales(Refused):
    """The account has as many unfinished tales as it may have."""

    def __init__(self, running: int, limit: int) -> None:
        super().__init__(f"you have {running} tales in progress; the limit is {limit}")
        self.running = running
        self.limit = limit


class SpendingCapExceeded(Refused):
    """The tale's estimate would take the month's committed spend over the account's cap."""

    def __init__(
        self, estimate_usd: float, committed_usd: float, cap_usd: float, month: str
    ) -> None:
        named = datetime.strptime(month, "%Y-%m").strftime("%B %Y")
        super().__init__(
            f"this tale is estimated at ${estimate_usd:.2f}; ${committed_usd:.2f} of your "
            f"${cap_usd:.2f} cap for {named} is already committed"
        )
        self.estimate_usd = estimate_usd
        self.committed_usd = committed_usd
        self.cap_usd = cap_usd
        self.month = month
        """``YYYY-MM`` (UTC)."""


class SubmissionExpired(Refused):
    """The tale (or revision) was admitted once and its reservation has since been settled
    or refunded, so it is not admitted again. What makes it happen: a request under an
    ``Idempotency-Key`` reserved the credits and died before creating its tale, and the
    sweep returned them once the grace period had passed (``shared.usecases.return_orphans``);
    a retry under the same key names the same tale, which must neither run without a
    reservation nor be charged a second time. Send the request again with a new key (HTTP
    409, CLI exit 2)."""

    def __init__(self, tale_id: str) -> None:
        super().__init__(
            f"the reservation of {tale_id} is closed (the request that made it did not create "
            "the tale, and its credits were returned): send the request again with a new "
            "Idempotency-Key"
        )
        self.tale_id = tale_id
