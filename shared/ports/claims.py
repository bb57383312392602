"""Claims port: one-time markers, work claims and counters that are not about one tale.

API rate limits, a provider's quota window, processed webhook ids, idempotency keys of API
requests, trend collections and digests, GPU job executions. (What concerns one tale — its
stage claims, "the owner was notified", its retry rounds — lives in the tale aggregate, see
``shared.domain.aggregate``.)

Keys are built only by the constructors below, so the spelling of a namespace lives in one
place; adapters store ``ClaimKey.value``. Every operation is atomic on its key.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass


@dataclass(frozen=True)
class ClaimKey:
    """A namespaced key; build it with a constructor of this module."""

    value: str

    def __str__(self) -> str:
        return self.value


def _key(namespace: str, *parts: object) -> ClaimKey:
    return ClaimKey(":".join((namespace, *(str(p) for p in parts))))


def rate_window(user: str, minute: int) -> ClaimKey:
    """The counter of one user's API requests in one minute."""
    return _key("rate", user, minute)


def provider_quota(model: str, minute: int) -> ClaimKey:
    """The counter of generations started with ``model`` in one minute (all instances)."""
    return _key("quota", model, minute)


def webhook(webhook_id: str) -> ClaimKey:
    """Marked once a signed webhook with this id was processed (replays are refused)."""
    return _key("webhook", webhook_id)


def idempotency(user: str, key: str) -> ClaimKey:
    """Claimed by the first request that carries this ``Idempotency-Key`` for this user."""
    return _key("idem", user, key)


def gpu_execution(tale_id: str, attempt: int) -> ClaimKey:
    """Claimed by the delivery that starts the GPU job execution of a tale's attempt."""
    return _key("gpu-execution", tale_id, f"a{attempt}")


def trends_collect(collection_id: str) -> ClaimKey:
    """Claimed by the delivery that collects one region's slot."""
    return _key("trends-collect", collection_id)


def trends_collected(collection_id: str) -> ClaimKey:
    """Marked once that slot is collected and announced."""
    return _key("trends-collected", collection_id)


def digest(digest_key: str) -> ClaimKey:
    """Claimed by the delivery that sends one digest."""
    return _key("digest", digest_key)


def digest_sent(digest_key: str) -> ClaimKey:
    """Marked once that digest was sent."""
    return _key("sent", digest_key)


def digest_trend(follower_id: str, trend_key: str) -> ClaimKey:
    """Marked once a digest that listed this trend (region and label) went to this follower:
    later digests carry only trends new to them."""
    return _key("digest-trend", follower_id, trend_key)


def email_sent(name: str) -> ClaimKey:
    """Marked once the email provider accepted the message ``name`` (``notification:<tale>-
    <outcome>`` or ``message:<key>``): a redelivery does not send it again."""
    return _key("email-sent", name)


class Claims(ABC):
    @abstractmethod
    def claim_once(self, key: ClaimKey) -> bool:
        """Record a one-time marker; True the first time."""

    @abstractmethod
    def claim(self, key: ClaimKey, claimant: str) -> str:
        """Claim a piece of work for ``claimant`` (a message id) unless someone holds it;
        return the holder. A duplicate message sees another holder and can drop itself; a
        redelivery of the holder's message sees itself and redoes the work."""

    @abstractmethod
    def bump(self, key: ClaimKey) -> int:
        """Atomically add one to the counter ``key`` and return its new value."""

    @abstractmethod
    def marked(self, key: ClaimKey) -> bool:
        """Whether ``claim_once(key)`` (or ``claim``) has happened."""
