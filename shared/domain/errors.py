"""Exceptions with meaning. Entry points map them to outcomes: retry (raise) or drop (ack)."""

from __future__ import annotations


class TaleError(Exception):
    """Base of Tale's own errors."""


class InvalidStory(TaleError):
    """A submission that can never be made into a tale (user error; HTTP 422, CLI exit 2)."""


class MalformedEvent(TaleError):
    """An event that cannot be decoded or validated.

    Raised so that the bus redelivers it; after the subscription's maximum delivery attempts it
    reaches the dead-letter handler, which fails the tale with the stage and this reason.
    """


class PermanentError(TaleError):
    """Retrying cannot help (content refused, impossible request): record, fail, acknowledge."""


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
