"""``tale trends keys``: business API keys — issued to a business customer, shown once,
metered per call and month, expiring, rotated with a grace period, revocable."""

from __future__ import annotations

import time
from typing import Annotated

import typer
from rich.table import Table

from shared import bootstrap
from shared.cli.common import fail_input, out

keys_app = typer.Typer(
    help="API keys for business customers (GET /v1/trends).", no_args_is_help=True
)


def _day(at: float | None) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(at)) if at is not None else "-"


@keys_app.command("issue")
def issue_key(
    customer: Annotated[str, typer.Option(help="The business account's user id.")],
    name: Annotated[str, typer.Option(help="What the key is for (shown in listings).")],
    rate: Annotated[
        int | None,
        typer.Option(help="Requests a minute (default: TALE_TRENDS_KEY_RATE_PER_MINUTE)."),
    ] = None,
    monthly: Annotated[
        int | None,
        typer.Option(help="Calls a month (default: TALE_TRENDS_KEY_MONTHLY_CALLS)."),
    ] = None,
    days: Annotated[
        int | None, typer.Option(help="Days until it expires (default: TALE_TRENDS_KEY_DAYS).")
    ] = None,
) -> None:
    """Issue a key for a business customer; it is shown once (only its SHA-256 is stored)."""
    from shared.trends.apikeys import issue

    c = bootstrap.container()
    s = c.settings
    per_minute = rate if rate is not None else s.trends_key_rate_per_minute
    per_month = monthly if monthly is not None else 0
    lifetime = days if days is not None else s.trends_key_days
    if not 1 <= per_minute <= 100_000 or not name.strip() or len(name) > 100:
        fail_input("--name must be 1-100 characters and --rate between 1 and 100000")
    if per_month < 0 or not 1 <= lifetime <= 3650:
        fail_input("--monthly must be positive and --days between 1 and 3650")
    profile = c.ledger.profile(customer)
    if profile is None or profile.plan != "business":
        fail_input(f"{customer} is not an account on the business plan")
    key, record = issue(
        c.trends,
        customer=customer,
        name=name.strip(),
        rate_per_minute=per_minute,
        monthly_calls=per_month,
        days=lifetime,
        at=time.time(),
    )
    out.print(
        f"{record.key_id} for {record.name} ({customer}; {per_minute}/min, "
        f"{per_month or s.trends_key_monthly_calls:,}/month, expires {_day(record.expires_at)}). "
        "The key (shown once):",
        highlight=False,
    )
    print(key)


@keys_app.command("rotate")
def rotate_key(
    key_id: Annotated[str, typer.Argument(help="The key's id (key-…).")],
    grace_days: Annotated[
        int | None,
        typer.Option(help="Days the old key keeps working (default: TALE_TRENDS_KEY_GRACE_DAYS)."),
    ] = None,
) -> None:
    """Issue a new key in place of one; the old one expires after the grace period."""
    from shared.trends.apikeys import rotate

    c = bootstrap.container()
    s = c.settings
    grace = s.trends_key_grace_days if grace_days is None else grace_days
    if not 0 <= grace <= 90:
        fail_input("--grace-days must be between 0 and 90")
    try:
        key, new, old = rotate(
            c.trends, key_id, grace_days=grace, days=s.trends_key_days, at=time.time()
        )
    except LookupError:
        fail_input(f"no active key {key_id}")
    out.print(
        f"{new.key_id} replaces {key_id}, which expires {_day(old.expires_at)}. "
        "The new key (shown once):",
        highlight=False,
    )
    print(key)


@keys_app.command("revoke")
def revoke_key(key_id: Annotated[str, typer.Argument(help="The key's id (key-…).")]) -> None:
    """Revoke a key: it is refused (401) from now on."""
    if not bootstrap.container().trends.revoke_key(key_id, time.time()):
        fail_input(f"no active key {key_id}")
    out.print(f"revoked {key_id}")


@keys_app.command("list")
def list_keys() -> None:
    """Every key (never the key itself), with this month's calls."""
    from shared.trends.apikeys import month

    c = bootstrap.container()
    keys = c.trends.api_keys()
    calls = c.trends.calls([k.key_id for k in keys], month(time.time()))
    table = Table(title="API keys")
    for col in ("id", "customer", "name", "/min", "calls", "expires", "revoked"):
        table.add_column(col)
    for k in keys:
        limit = k.monthly_calls or c.settings.trends_key_monthly_calls
        table.add_row(
            k.key_id,
            k.customer or "-",
            k.name,
            str(k.rate_per_minute),
            f"{calls[k.key_id]:,}/{limit:,}",
            _day(k.expires_at),
            _day(k.revoked_at),
        )
    out.print(table)
