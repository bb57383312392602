"""The ``tale`` command's lines in the story's language: which language a story was taken to
be in, and how its tale ended. Operator lines (paths, ids, hints) stay in English."""

from __future__ import annotations

from shared.domain.tale import TaleRecord, TaleState
from shared.i18n import message
from shared.notify.templates import failure_reason, stage_name


def language_line(language: str, *, detected: bool) -> str:
    """``言語: 日本語（本文から判定）``: the story's language, detected or as given."""
    how = message(language, "cli.language.detected" if detected else "cli.language.given")
    return message(
        language, "cli.language", language=message(language, f"language.{language}"), how=how
    )


def said_in_story_language(tale: TaleRecord) -> str:
    """How the tale ended, in its own language."""
    lang = tale.language
    title = tale.title or tale.tale_id
    if tale.state is TaleState.COMPLETED:
        return message(lang, "cli.finished.completed", title=title, shots=tale.shot_count)
    if tale.state is TaleState.CANCELLED:
        return message(lang, "cli.finished.cancelled", title=title)
    reason, _ = failure_reason(tale.error_reason, lang)
    return message(
        lang,
        "cli.finished.failed",
        title=title,
        stage=stage_name(tale.error_stage, lang),
        reason=reason,
    )
