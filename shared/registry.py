"""The single source of truth for topics and functions.

Every Cloud Function, its trigger, its handler and its deployment settings are listed here;
the local runtime subscribes from it and the deployment (terraform) is checked against it.
"""

from __future__ import annotations

from dataclasses import dataclass

from schemas.events import EVENT_TYPES

DEAD_LETTER_TOPIC = "tale.dead-letter"
TOPICS: tuple[str, ...] = (*EVENT_TYPES, DEAD_LETTER_TOPIC)


@dataclass(frozen=True)
class FunctionSpec:
    name: str
    """Cloud Function name, entry point and subscription name."""
    trigger: str
    """The topic whose messages trigger it."""
    handler: str
    """``module:function`` of the stage handler in ``shared.stages``."""
    stage: str
    """The stage name users see."""
    memory: str = "512Mi"
    timeout_s: int = 540
    concurrency: int = 1
    max_delivery_attempts: int = 5

    @property
    def module(self) -> str:
        return f"functions.{self.name}"


FUNCTIONS: tuple[FunctionSpec, ...] = (
    FunctionSpec("plan_story", "tale.submitted", "shared.stages.plan:plan_story", "planning"),
    FunctionSpec(
        "render_characters",
        "characters.requested",
        "shared.stages.characters:render_characters",
        "characters",
        memory="1Gi",
    ),
    FunctionSpec(
        "render_shot",
        "shot.requested",
        "shared.stages.shots:render_shot",
        "rendering",
        memory="2Gi",
    ),
    FunctionSpec(
        "collect_shots",
        "shot.rendered",
        "shared.stages.collect:collect_shots",
        "rendering",
        memory="256Mi",
        timeout_s=60,
    ),
    FunctionSpec(
        "stitch_video",
        "stitch.requested",
        "shared.stages.stitch:stitch_video",
        "stitching",
        memory="4Gi",
    ),
    FunctionSpec(
        "notify_user",
        "tale.finished",
        "shared.stages.notify:notify_user",
        "notify",
        memory="256Mi",
        timeout_s=60,
    ),
    FunctionSpec(
        "settle_credits",
        "tale.finished",
        "shared.stages.settle:settle_credits",
        "billing",
        memory="256Mi",
        timeout_s=60,
    ),
    FunctionSpec(
        "handle_dead_letter",
        DEAD_LETTER_TOPIC,
        "shared.stages.dead_letter:handle_dead_letter",
        "dead-letter",
        memory="256Mi",
        timeout_s=60,
    ),
)

BY_NAME: dict[str, FunctionSpec] = {f.name: f for f in FUNCTIONS}


def subscriptions() -> dict[str, list[str]]:
    """Topic → names of the subscriptions (one per function) that receive it."""
    out: dict[str, list[str]] = {t: [] for t in TOPICS}
    for spec in FUNCTIONS:
        out[spec.trigger].append(spec.name)
    return out
