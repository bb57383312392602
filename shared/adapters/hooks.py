"""Hooks shared by the tale store adapters."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from shared.domain.tale import TaleRecord


class _Mirrors(Protocol):
    on_change: Callable[[TaleRecord], None] | None

    def find(self, tale_id: str) -> TaleRecord | None: ...


F = TypeVar("F", bound=Callable[..., Any])


def mirrored(method: F) -> F:
    """Call ``on_change`` with the tale after the method (its tale id is the first argument,
    or the record's for ``create``)."""

    @functools.wraps(method)
    def wrapper(self: _Mirrors, first: Any, *args: Any, **kwargs: Any) -> Any:
        result = method(self, first, *args, **kwargs)
        if self.on_change is not None:
            tale = self.find(first if isinstance(first, str) else first.tale_id)
            if tale is not None:
                self.on_change(tale)
        return result

    return wrapper  # type: ignore[return-value]
