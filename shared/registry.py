"""The single source of truth for topics and functions.

Every Cloud Function — its trigger (a Pub/Sub topic or HTTP), entry point, deployment
settings and the clients it needs — is listed here. The local runtime subscribes from it, and
the deployment (``terraform/``) is checked against it by the tests.

What a function runs is code, not data: its entry module ``functions/<name>.py`` imports its
stage handler (or request handler) and passes it on, so a reader and the type checker follow
``functions/render_shot.py`` → ``shared/stages/shots.py`` directly.
"""

from __future__ import annotations

from dataclasses import dataclass

from schemas.events import EVENT_TYPES

DEAD_LETTER_TOPIC = "tale.dead-letter"
SWEEP_TOPIC = "tale.sweep"
"""Cloud Scheduler publishes ``{}`` here; the ``sweep_stuck`` function fails stuck tales and
returns orphan reservations."""
TRENDS_COLLECT_TOPIC = "trends.collect"
"""Cloud Scheduler publishes ``{}`` (every region) or ``{"region": "KR"}``: collect trends."""
TRENDS_COLLECTED_TOPIC = "trends.collected"
"""A region's collection is stored: analyse it and mail the digest."""
CONTROL_TOPICS: tuple[str, ...] = (
    DEAD_LETTER_TOPIC,
    SWEEP_TOPIC,
    TRENDS_COLLECT_TOPIC,
    TRENDS_COLLECTED_TOPIC,
)
"""Topics whose messages are not pipeline events: their handlers receive the raw envelope."""
TOPICS: tuple[str, ...] = (*EVENT_TYPES, *CONTROL_TOPICS)
HTTP = "http"

#: What a function may need, by the names the composition root injects (plus secrets).
CLIENTS = frozenset(
    {
        "store",
        "claims",
        "bus",
        "blobs",
        "ledger",
        "records",
        "keys",
        "planner",
        "images",
        "videos",
        "voices",
        "notifier",
        "verifier",
        "usage",
        "audit",
        "trends",
        "youtube",
        "explainer",
        "payments",
    }
)


@dataclass(frozen=True)
class FunctionSpec:
    name: str
    """Cloud Function name, entry point, subscription name and service account suffix."""
    trigger: str
    """The topic whose messages trigger it, or ``HTTP``."""
    stage: str
    """The stage name users see."""
    needs: tuple[str, ...] = ()
    """The clients it uses; the deployment grants exactly the matching roles. Every Pub/Sub
    function needs ``bus``: a permanent failure announces ``tale.finished``."""
    memory: str = "512Mi"
    timeout_s: int = 540
    concurrency: int = 1
    max_delivery_attempts: int = 5
    schedule: str | None = None
    """A cron expression (UTC): Cloud Scheduler publishes ``{}`` to the trigger topic on it
    (the local runtime runs the same work on a timer)."""

    @property
    def module(self) -> str:
        """The entry module (``functions-framework --target=<name>`` finds it through
        ``main.py``)."""
        return f"functions.{self.name}"

    @property
    def is_http(self) -> bool:
        return self.trigger == HTTP

    @property
    def signature(self) -> str:
        """functions-framework's signature type."""
        return "http" if self.is_http else "cloudevent"


FUNCTIONS: tuple[FunctionSpec, ...] = (
    FunctionSpec(
        "plan_story",
        "tale.submitted",
        "planning",
        needs=("store", "keys", "planner", "bus", "records", "usage", "audit"),
    ),
    FunctionSpec(
        "render_characters",
        "characters.requested",
        "characters",
        needs=("store", "images", "blobs", "bus", "records", "usage"),
        memory="1Gi",
    ),
    FunctionSpec(
        "render_shot",
        "shot.requested",
        "rendering",
        needs=("store", "videos", "bus", "blobs", "records", "usage", "claims"),
        memory="2Gi",
    ),
    FunctionSpec(
        "narrate_shot",
        "narration.requested",
        "rendering",
        needs=("store", "voices", "blobs", "bus", "records", "usage"),
        memory="1Gi",
        timeout_s=300,
    ),
    FunctionSpec(
        "collect_shots",
        "shot.rendered",
        "rendering",
        needs=("store", "bus", "records"),
        memory="256Mi",
        timeout_s=60,
    ),
    FunctionSpec(
        "stitch_video",
        "stitch.requested",
        "stitching",
        needs=("store", "blobs", "bus", "records"),
        memory="4Gi",
    ),
    FunctionSpec(
        "notify_user",
        "tale.finished",
        "notify",
        needs=("store", "claims", "notifier", "blobs", "bus", "records", "ledger"),
        memory="256Mi",
        timeout_s=60,
    ),
    FunctionSpec(
        "settle_credits",
        "tale.finished",
        "billing",
        needs=("ledger", "store", "bus", "records"),
        memory="256Mi",
        timeout_s=60,
    ),
    FunctionSpec(
        "handle_dead_letter",
        DEAD_LETTER_TOPIC,
        "dead-letter",
        needs=("store", "bus", "records"),
        memory="256Mi",
        timeout_s=60,
    ),
    FunctionSpec(
        "sweep_stuck",
        SWEEP_TOPIC,
        "sweep",
        # The ledger: orphan reservations (credits reserved for a tale never created).
        needs=("store", "bus", "records", "ledger"),
        memory="256Mi",
        timeout_s=300,
        schedule="*/5 * * * *",
    ),
    FunctionSpec(
        "collect_trends",
        TRENDS_COLLECT_TOPIC,
        "trends",
        # The trend store is in Firestore, like the tale store: ``store`` grants it.
        needs=("trends", "youtube", "store", "claims", "bus"),
        memory="512Mi",
        timeout_s=300,
        schedule="0 */4 * * *",
    ),
    FunctionSpec(
        "analyze_trends",
        TRENDS_COLLECTED_TOPIC,
        "trends",
        needs=("trends", "explainer", "notifier", "store", "claims", "bus", "usage", "audit"),
        memory="512Mi",
        timeout_s=540,
    ),
    FunctionSpec(
        "api",
        HTTP,
        "api",
        needs=(
            "store",
            "claims",
            "keys",
            "bus",
            "blobs",
            "ledger",
            "records",
            "verifier",
            "payments",
        ),
        memory="512Mi",
        timeout_s=60,
        concurrency=40,
    ),
    FunctionSpec(
        "auth_webhook",
        HTTP,
        "signup",
        needs=("store", "claims", "ledger", "records"),
        memory="256Mi",
        timeout_s=30,
        concurrency=20,
    ),
    FunctionSpec(
        "stripe_webhook",
        HTTP,
        "billing",
        # The billing book is in the ledger's database: ``ledger`` grants it. Billing mail
        # goes through the notifier, whose sent-markers are claims (Firestore: ``store``);
        # the outbox keeps its messages in the media bucket (``blobs``).
        needs=("ledger", "payments", "notifier", "claims", "store", "blobs"),
        memory="256Mi",
        timeout_s=60,
        concurrency=20,
    ),
)

BY_NAME: dict[str, FunctionSpec] = {f.name: f for f in FUNCTIONS}


def subscriptions() -> dict[str, list[str]]:
    """Topic → names of the subscriptions (one per Pub/Sub function) that receive it."""
    out: dict[str, list[str]] = {t: [] for t in TOPICS}
    for spec in FUNCTIONS:
        if not spec.is_http:
            out[spec.trigger].append(spec.name)
    return out
