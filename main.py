"""Every Cloud Function entry point, for ``--source=main.py --target=<name>`` deployments.

Each deployed function loads this file and asks it for one name: functions-framework runs
the module, then ``getattr(main, target)``. The entry points are therefore exported lazily
(PEP 562): ``main.render_shot`` imports ``functions.render_shot`` and nothing else, so a
function's cold start loads only its own entry module — not the twelve others and the clients
they bring (``tests/unit/test_cold_start.py`` checks it, ``bench/bench_cold_start.py``
measures it).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # for readers and type checkers; at run time each loads on first use
    from functions.analyze_trends import analyze_trends
    from functions.api import api
    from functions.auth_webhook import auth_webhook
    from functions.collect_shots import collect_shots
    from functions.collect_trends import collect_trends
    from functions.handle_dead_letter import handle_dead_letter
    from functions.narrate_shot import narrate_shot
    from functions.notify_user import notify_user
    from functions.plan_story import plan_story
    from functions.render_characters import render_characters
    from functions.render_shot import render_shot
    from functions.settle_credits import settle_credits
    from functions.stitch_video import stitch_video
    from functions.stripe_webhook import stripe_webhook
    from functions.sweep_stuck import sweep_stuck

__all__ = [
    "analyze_trends",
    "api",
    "auth_webhook",
    "collect_shots",
    "collect_trends",
    "handle_dead_letter",
    "narrate_shot",
    "notify_user",
    "plan_story",
    "render_characters",
    "render_shot",
    "settle_credits",
    "stitch_video",
    "stripe_webhook",
    "sweep_stuck",
]


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    function = getattr(importlib.import_module(f"functions.{name}"), name)
    globals()[name] = function  # later lookups skip this hook
    return function


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
