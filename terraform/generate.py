"""Write ``terraform/locals.tf`` — the deployment's copy of ``shared/registry.py``.

Terraform cannot import Python, so the registry (topics, the dead-letter topic, and every
function's trigger, memory, timeout, concurrency, delivery attempts and clients) is mirrored
into one generated HCL file that every ``for_each`` in ``terraform/`` iterates over.
``tests/infra/test_registry_sync.py`` fails when the file is stale, so code and deployment
cannot drift. Run from the repository root::

    python -m terraform.generate          # rewrite terraform/locals.tf
    python -m terraform.generate --check  # exit 1 when it is stale
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from annotated_types import Le

from schemas.events import ShotRequested
from shared.registry import DEAD_LETTER_TOPIC, FUNCTIONS, TOPICS

ROOT = Path(__file__).resolve().parents[1]
TARGET = ROOT / "terraform" / "locals.tf"

HEADER = """\
# GENERATED from shared/registry.py by `python -m terraform.generate`. Do not edit:
# change the registry and regenerate (tests/infra/test_registry_sync.py fails when stale).
"""


def registry_map() -> dict[str, dict[str, Any]]:
    """Function name → the deployment settings the registry declares for it."""
    return {
        spec.name: {
            "trigger": spec.trigger,
            "memory": spec.memory,
            "timeout_s": spec.timeout_s,
            "concurrency": spec.concurrency,
            "max_delivery_attempts": spec.max_delivery_attempts,
            "needs": list(spec.needs),
            "schedule": spec.schedule,
        }
        for spec in FUNCTIONS
    }


def shot_clip_max_attempt() -> int:
    """The highest shot attempt number (shot clips are ``…/shots/NN-a<attempt>.mp4``)."""
    for constraint in ShotRequested.model_fields["attempt"].metadata:
        if isinstance(constraint, Le):
            bound: int = constraint.le  # type: ignore[assignment]
            return bound
    raise RuntimeError("ShotRequested.attempt has no upper bound")


def _literal(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value)  # an HCL string literal for these plain values
    if isinstance(value, list):
        return "[" + ", ".join(_literal(v) for v in value) + "]"
    raise TypeError(f"cannot render {value!r}")


def _object(fields: dict[str, Any], indent: str) -> list[str]:
    """Attributes aligned on '=' as ``terraform fmt`` does."""
    width = max(len(k) for k in fields)
    return [f"{indent}{k.ljust(width)} = {_literal(v)}" for k, v in fields.items()]


def render() -> str:
    lines = [HEADER, "locals {"]
    lines += _object(
        {
            "dead_letter_topic": DEAD_LETTER_TOPIC,
            "shot_clip_max_attempt": shot_clip_max_attempt(),
        },
        "  ",
    )
    lines += ["", "  # Every topic the code publishes to or subscribes from.", "  topics = ["]
    lines += [f"    {_literal(t)}," for t in TOPICS]
    lines += ["  ]", "", "  # Every Cloud Function, by name (= entry point).", "  functions = {"]
    for name, fields in registry_map().items():
        lines.append(f"    {name} = {{")
        lines += _object(fields, "      ")
        lines.append("    }")
    lines += ["  }", "}", ""]
    return "\n".join(lines)


def is_stale() -> bool:
    return not TARGET.exists() or TARGET.read_text(encoding="utf-8") != render()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when the file is stale")
    args = parser.parse_args(argv)
    if args.check:
        if is_stale():
            print(f"{TARGET.relative_to(ROOT)} is stale: run python -m terraform.generate")
            return 1
        return 0
    TARGET.write_text(render(), encoding="utf-8")
    print(f"wrote {TARGET.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
