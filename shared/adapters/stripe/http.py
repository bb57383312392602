"""The ``stripe`` library's HTTP layer over an ``httpx`` client the composition root built.

``stripe.StripeClient`` takes any ``stripe.HTTPClient``; this one sends through the
``httpx.Client`` it is given — the egress policy's (scenario B: through the guard, with only
Stripe's API host added), or, in tests, one whose transport answers as Stripe does. Retries
stay the library's (``max_network_retries``: connection errors, 409 lock timeouts, 429 and
5xx, with the same idempotency key on every attempt).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, NoReturn

import httpx
import stripe

STRIPE_API_HOST = "api.stripe.com"


class HttpxStripeClient(stripe.HTTPClient):
    name: ClassVar[str] = "httpx-tale"

    def __init__(self, client: httpx.Client) -> None:
        super().__init__()
        self.client = client

    def request(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str] | None,
        post_data: Any = None,
        *,
        _usage: list[str] | None = None,
    ) -> tuple[str, int, Mapping[str, str]]:
        try:
            response = self.client.request(
                method, url, headers=dict(headers or {}), content=post_data or None
            )
        except httpx.HTTPError as exc:
            self._failed(exc)
        return response.text, response.status_code, response.headers

    def request_stream(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str] | None,
        post_data: Any = None,
        *,
        _usage: list[str] | None = None,
    ) -> tuple[Any, int, Mapping[str, str]]:
        content, status, response_headers = self.request(method, url, headers, post_data)
        return iter([content.encode()]), status, response_headers

    @staticmethod
    def _failed(exc: Exception) -> NoReturn:
        error: Exception = stripe.APIConnectionError(  # type: ignore[no-untyped-call]
            f"could not reach Stripe ({type(exc).__name__})", should_retry=True
        )
        raise error from exc

    def close(self) -> None:
        self.client.close()
