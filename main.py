"""Every Cloud Function entry point, for ``--source=. --entry-point=<name>`` deployments."""

from functions.analyze_trends import analyze_trends
from functions.api import api
from functions.auth_webhook import auth_webhook
from functions.collect_shots import collect_shots
from functions.collect_trends import collect_trends
from functions.handle_dead_letter import handle_dead_letter
from functions.notify_user import notify_user
from functions.plan_story import plan_story
from functions.render_characters import render_characters
from functions.render_shot import render_shot
from functions.settle_credits import settle_credits
from functions.stitch_video import stitch_video
from functions.sweep_stuck import sweep_stuck

__all__ = [
    "analyze_trends",
    "api",
    "auth_webhook",
    "collect_shots",
    "collect_trends",
    "handle_dead_letter",
    "notify_user",
    "plan_story",
    "render_characters",
    "render_shot",
    "settle_credits",
    "stitch_video",
    "sweep_stuck",
]
