"""Email templates (plain text and HTML) in the tale's language: Korean, English, Japanese or
Chinese, from the message catalogues (``shared.i18n``).

A failed tale's email names the stage and the reason in the reader's language: the reasons
Tale writes itself (gave up after retries, no progress before the deadline, content refused
by a model) are recognised and said in our words; anything else is "an error we could not
recover from", with the recorded text as a detail line.
"""

from __future__ import annotations

import re
from html import escape

from shared.domain.tale import TaleRecord
from shared.i18n import language_of, message

_LINK_KEYS = ("video", "poster", "storyboard")
_GAVE_UP = re.compile(r"gave up after (\d+) attempts")
_STUCK = re.compile(r"no progress for (\d+) min")
_REFUSED = re.compile(r"\b(refus|blocked|safety|content polic)", re.IGNORECASE)


def stage_name(stage: str | None, language: str) -> str:
    """A stage as the reader calls it (the recorded name when it is not one of ours)."""
    if not stage:
        return "-"
    key = f"stage.{stage.replace(' ', '-')}"
    try:
        return message(language, key)
    except KeyError:
        return stage


def failure_reason(reason: str | None, language: str) -> tuple[str, str | None]:
    """(the reason in our words, the recorded text when ours does not say it all)."""
    if not reason:
        return message(language, "reason.error"), None
    if found := _GAVE_UP.search(reason):
        return message(language, "reason.gave-up", attempts=found.group(1)), reason
    if found := _STUCK.search(reason):
        return message(language, "reason.stuck", minutes=found.group(1)), None
    if _REFUSED.search(reason):
        return message(language, "reason.refused"), reason
    return message(language, "reason.error"), reason


def render(tale: TaleRecord, outcome: str, links: dict[str, str]) -> tuple[str, str, str]:
    """(subject, text, html) for one tale's terminal state, in the tale's language."""
    lang = language_of(tale.language) or "en"
    title = tale.title or tale.tale_id
    reason, detail = failure_reason(tale.error_reason, lang)
    values = {
        "title": title,
        "shots": tale.shot_count,
        "stage": stage_name(tale.error_stage, lang),
        "reason": reason,
        "tale_id": tale.tale_id,
    }
    subject = message(lang, f"email.subject.{outcome}", **values)
    body = message(lang, f"email.body.{outcome}", **values)
    details = ""
    if outcome == "failed" and detail:
        details = message(lang, "email.details", detail=detail)
    footer = message(lang, "email.footer", tale_id=tale.tale_id)
    heading = message(lang, "email.links")

    def label(key: str) -> str:
        return message(lang, f"email.label.{key}") if key in _LINK_KEYS else key

    link_lines = [f"{label(k)}: {url}" for k, url in links.items()]
    text = (
        "\n".join(
            [
                body,
                *([details] if details else []),
                "",
                *([heading + ":", *link_lines, ""] if links else []),
                "--",
                footer,
            ]
        )
        + "\n"
    )
    html_links = "".join(
        f'<li><a href="{escape(url)}">{escape(label(k))}</a></li>' for k, url in links.items()
    )
    html = (
        f'<!doctype html><html lang="{lang}"><meta charset="utf-8">'
        f"<title>{escape(subject)}</title><body>"
        f"<h1>{escape(title)}</h1><p>{escape(body)}</p>"
        + (f"<p><small>{escape(details)}</small></p>" if details else "")
        + (f"<h2>{escape(heading)}</h2><ul>{html_links}</ul>" if links else "")
        + f"<hr><p><small>{escape(footer)}</small></p></body></html>"
    )
    return subject, text, html
