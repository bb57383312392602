"""The error raised for every rejected credential."""

from __future__ import annotations


class AuthError(Exception):
    """A request could not be authenticated.

    ``status`` is the HTTP status to answer with: 401 (no valid credential), 403 (a valid
    credential that is not allowed here) or 503 (the signing keys could not be fetched).
    ``reason`` is a short human explanation; it never contains the token itself.
    """

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason

    def __repr__(self) -> str:
        return f"AuthError(status={self.status}, reason={self.reason!r})"
