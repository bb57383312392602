"""Write (or check) the JSON Schema files of every model: ``python -m schemas.export [--check]``."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from pydantic import BaseModel

from schemas.events import EVENT_TYPES
from schemas.plan import StoryPlan
from schemas.story import StorySubmission
from schemas.storyboard import StoryboardEdit
from schemas.trends import CollectTrends, TrendsCollected

SCHEMA_DIR = Path(__file__).with_name("json")


def documents() -> dict[str, str]:
    """File name → JSON Schema text for every wire model."""
    models: dict[str, tuple[type[BaseModel], str]] = {
        "story-submission": (StorySubmission, "validation"),
        "story-plan": (StoryPlan, "validation"),
        "storyboard-edit": (StoryboardEdit, "validation"),
    }
    for topic, model in EVENT_TYPES.items():
        models[f"event.{topic}"] = (model, "serialization")
    for control in (CollectTrends, TrendsCollected):
        models[f"message.{control.TYPE}"] = (control, "validation")
    out: dict[str, str] = {}
    for name, (model_cls, mode) in models.items():
        schema = model_cls.model_json_schema(mode=mode)  # type: ignore[arg-type]
        schema["$id"] = f"https://schemas.tale.dev/{name}.v1.json"
        out[f"{name}.json"] = (
            json.dumps(schema, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
        )
    return out


def stale(directory: Path = SCHEMA_DIR) -> list[str]:
    """Names of schema files that are missing, different, or no longer generated."""
    wanted = documents()
    bad = [
        n
        for n, text in wanted.items()
        if not (directory / n).exists() or (directory / n).read_text(encoding="utf-8") != text
    ]
    bad += [p.name for p in directory.glob("*.json") if p.name not in wanted]
    return sorted(bad)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if "--check" in args:
        bad = stale()
        if bad:
            print("stale JSON Schema files (run python -m schemas.export):", ", ".join(bad))
            return 1
        return 0
    SCHEMA_DIR.mkdir(exist_ok=True)
    for old in SCHEMA_DIR.glob("*.json"):
        old.unlink()
    for name, text in documents().items():
        (SCHEMA_DIR / name).write_text(text, encoding="utf-8")
    print(f"wrote {len(documents())} schema files to {SCHEMA_DIR}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
