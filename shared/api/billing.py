"""``/v1/billing``: choose a paid plan (a checkout) and manage it (the provider's portal).

The web app's upgrade button posts the plan and sends the browser to the answer's ``url`` —
Stripe Checkout, or in the embedded default the local provider's page (a test double, see
``shared.adapters.local.payments``). Whatever happens there reaches Tale through the
provider's webhook, never through these answers.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from shared.api.problems import Problem, conflict
from shared.api.requests import json_body, no_body
from shared.api.routes import Call
from shared.billing.service import AlreadySubscribed, NotACustomer, open_portal, start_checkout
from shared.domain.errors import TransientError
from shared.ports.payments import PaymentRefused

LANGUAGES = ("ko", "en", "ja", "zh")


class CheckoutRequestBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    plan: Literal["pro", "business"]
    language: Literal["ko", "en", "ja", "zh"] | None = None
    """The language of the checkout page and of billing mail (default: Accept-Language)."""


class CheckoutView(BaseModel):
    url: str
    """Send the browser here to pay."""
    session_id: str
    provider: str


class PortalView(BaseModel):
    url: str
    """Send the browser here: change plan, cancel, payment method, invoices."""
    provider: str


def _language(call: Call, chosen: str | None) -> str | None:
    if chosen is not None:
        return chosen
    accepted = call.request.accept_languages.best_match(LANGUAGES)
    return accepted if isinstance(accepted, str) else None


def _provider_problem(exc: Exception) -> Problem:
    if isinstance(exc, TransientError):
        return Problem(
            503,
            "payments-unavailable",
            "Payments temporarily unavailable",
            "the payment provider did not answer; try again in a moment",
            headers={"Retry-After": "10"},
        )
    return Problem(502, "payments-refused", "The payment provider refused", str(exc))


def checkout(call: Call) -> CheckoutView:
    c = call.container
    body = json_body(call.request, CheckoutRequestBody, 4096)
    try:
        session = start_checkout(
            call.user,
            call.identity.email or "",
            body.plan,
            _language(call, body.language),
            book=c.billing,
            payments=c.payments,
            ledger=c.ledger,
            settings=c.settings,
        )
    except AlreadySubscribed as exc:
        raise conflict(str(exc)) from exc
    except (TransientError, PaymentRefused) as exc:
        raise _provider_problem(exc) from exc
    return CheckoutView(url=session.url, session_id=session.session_id, provider=c.payments.name)


def portal(call: Call) -> PortalView:
    no_body(call.request)
    c = call.container
    try:
        url = open_portal(call.user, book=c.billing, payments=c.payments, settings=c.settings)
    except NotACustomer as exc:
        raise conflict(str(exc)) from exc
    except (TransientError, PaymentRefused) as exc:
        raise _provider_problem(exc) from exc
    return PortalView(url=url, provider=c.payments.name)
