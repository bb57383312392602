"""The Supabase auth webhook: a new user gets a profile and this month's free-plan credits.

Deliveries are verified as Standard Webhooks (``webhook-id``, ``webhook-timestamp``,
``webhook-signature``; stale timestamps refused). Processing is idempotent (profile and grant
are each created at most once), and a webhook id is marked *after* it was processed, so a
retry of a delivery that crashed half way still completes while a replay of a processed one
is refused.

Accepted bodies: an auth hook (``{"user": {"id", "email"}}``) or a database webhook on
``auth.users`` (``{"type": "INSERT", "table": "users", "record": {"id", "email"}}``).
"""

from __future__ import annotations

import base64
import json
import logging
import os
import secrets
import time
from pathlib import Path
from uuid import UUID

from flask import Request, Response
from pydantic import BaseModel, ConfigDict

from shared import bootstrap
from shared.api.problems import Problem, said
from shared.api.requests import leave_unread, parse_json, read_body, validated
from shared.auth.webhooks import WebhookError, WebhookVerifier
from shared.domain.credits import period_of
from shared.observability.logs import ensure_logging
from shared.ports import claims as keys
from shared.ports.claims import Claims

log = logging.getLogger("tale.webhook")
MAX_BODY = 64 * 1024


class _User(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: UUID
    email: str = ""
    is_anonymous: bool = False


class SignupEvent(BaseModel):
    model_config = ConfigDict(extra="ignore")
    type: str | None = None
    table: str | None = None
    record: _User | None = None
    user: _User | None = None

    def new_user(self) -> _User:
        if self.user is not None:
            return self.user
        if self.type == "INSERT" and self.table == "users" and self.record is not None:
            return self.record
        raise ValueError("not a sign-up: expected {'user': …} or an INSERT on auth.users")


class _ProcessedGuard:
    """Replay guard over the store: a webhook id counts as seen once it was processed."""

    def __init__(self, claims: Claims) -> None:
        self.claims = claims

    def first_time(self, webhook_id: str, expires_at: float) -> bool:
        return not self.claims.marked(keys.webhook(webhook_id))


def local_secret(container: bootstrap.Container) -> str:
    """The configured secret, or (embedded default) one kept in the home's key folder."""
    if container.settings.webhook_secret:
        return container.settings.webhook_secret
    path: Path = container.home / "keys" / "webhook.secret"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        secret = "v1,whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
        # created 0600: never readable by others, not even for a moment
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as file:
            file.write(secret)
    path.chmod(0o600)
    return path.read_text().strip()


def _process(request: Request, container: bootstrap.Container) -> dict[str, str]:
    if request.method != "POST":
        raise said(405, "method-not-allowed", "send-post", headers={"Allow": "POST"})
    body = read_body(request, MAX_BODY)  # 413 before reading past the limit
    verifier = WebhookVerifier(local_secret(container), seen=_ProcessedGuard(container.claims))
    try:
        webhook_id = verifier.verify(dict(request.headers), body)
    except WebhookError as exc:
        raise Problem(401, "bad-signature", "Webhook rejected", str(exc)) from exc
    event = validated(SignupEvent, parse_json(body))
    try:
        user = event.new_user()
    except ValueError as exc:  # our own message
        raise Problem(422, "invalid-webhook", "Invalid webhook body", str(exc)) from exc
    ledger, settings = container.ledger, container.settings
    created = ledger.ensure_profile(str(user.id), user.email)
    profile = ledger.profile(str(user.id))
    assert profile is not None
    if not user.is_anonymous or settings.anonymous_credits:
        ledger.grant_monthly(
            profile.user_id, period_of(time.time()), settings.monthly_credits(profile.plan)
        )
    container.claims.claim_once(keys.webhook(webhook_id))
    log.info("sign-up webhook %s: profile %s", webhook_id, "created" if created else "existed")
    return {
        "id": webhook_id,
        "user_id": profile.user_id,
        "profile": "created" if created else "existed",
    }


def handle(request: Request) -> Response:
    container = bootstrap.container()
    ensure_logging(container.settings)  # structured logs on GCP, once per process
    try:
        result = _process(request, container)
    except Problem as problem:
        return leave_unread(request, problem.response(request.path))
    except Exception:
        log.exception("unexpected error on the sign-up webhook")
        failed = said(500, "internal", "internal-later")
        return leave_unread(request, failed.response())
    return Response(json.dumps(result), status=200, mimetype="application/json")
