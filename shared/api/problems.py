"""RFC 9457 problem details: every error the API returns is one of these."""

from __future__ import annotations

import json
from typing import Any

from flask import Response

PROBLEM_BASE = "https://tale.dev/problems/"


class Problem(Exception):
    """An HTTP error with a machine-readable type and a human-readable detail."""

    def __init__(
        self,
        status: int,
        kind: str,
        title: str,
        detail: str,
        *,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.kind = kind
        self.title = title
        self.detail = detail
        self.headers = headers or {}
        self.extra = extra

    def body(self, instance: str | None = None) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "type": PROBLEM_BASE + self.kind,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if instance:
            doc["instance"] = instance
        doc.update(self.extra)
        return doc

    def response(self, instance: str | None = None) -> Response:
        return Response(
            json.dumps(self.body(instance), ensure_ascii=False),
            status=self.status,
            headers=self.headers,
            mimetype="application/problem+json",
        )


def not_found(what: str) -> Problem:
    return Problem(404, "not-found", "Not found", f"{what} does not exist")


def conflict(detail: str) -> Problem:
    return Problem(409, "conflict", "Conflict", detail)
