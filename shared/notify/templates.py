"""Email templates (plain text and HTML) in Korean and English, chosen by the tale's language."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from string import Template

from shared.domain.tale import TaleRecord


@dataclass(frozen=True)
class _Texts:
    subject: dict[str, str]
    body: dict[str, str]
    links: str
    footer: str


_TEXTS: dict[str, _Texts] = {
    "en": _Texts(
        subject={
            "completed": "Your tale “$title” is ready",
            "failed": "Your tale “$title” could not be finished",
            "cancelled": "Your tale “$title” was cancelled",
        },
        body={
            "completed": "Good news: “$title” is finished — $shots shots, ready to watch.",
            "failed": "We are sorry: “$title” stopped at the $stage stage ($reason). "
            "Your credits for it are returned.",
            "cancelled": "“$title” was cancelled as you asked. Nothing more will be rendered.",
        },
        links="Your files",
        footer="Tale · tale id $tale_id",
    ),
    "ko": _Texts(
        subject={
            "completed": "“$title” 영상이 완성되었습니다",
            "failed": "“$title” 영상을 완성하지 못했습니다",
            "cancelled": "“$title” 영상 제작이 취소되었습니다",
        },
        body={
            "completed": "“$title” 영상이 완성되었습니다. "
            "샷 $shots개로 만든 영상을 지금 확인해 보세요.",
            "failed": "죄송합니다. “$title” 영상 제작이 $stage 단계에서 멈췄습니다 ($reason). "
            "사용한 크레딧은 돌려드립니다.",
            "cancelled": "요청하신 대로 “$title” 영상 제작을 취소했습니다.",
        },
        links="파일",
        footer="Tale · 테일 ID $tale_id",
    ),
}

_LABELS = {
    "en": {"video": "Video", "poster": "Poster", "storyboard": "Storyboard"},
    "ko": {"video": "영상", "poster": "포스터", "storyboard": "스토리보드"},
}


def render(tale: TaleRecord, outcome: str, links: dict[str, str]) -> tuple[str, str, str]:
    """(subject, text, html) for one tale's terminal state."""
    lang = tale.language if tale.language in _TEXTS else "en"
    texts = _TEXTS[lang]
    values = {
        "title": tale.title or tale.tale_id,
        "shots": str(tale.shot_count),
        "stage": tale.error_stage or "-",
        "reason": tale.error_reason or "-",
        "tale_id": tale.tale_id,
    }
    subject = Template(texts.subject[outcome]).safe_substitute(values)
    body = Template(texts.body[outcome]).safe_substitute(values)
    footer = Template(texts.footer).safe_substitute(values)
    labels = _LABELS[lang]
    link_lines = [f"{labels.get(k, k)}: {url}" for k, url in links.items()]
    text = (
        "\n".join(
            [body, "", *([texts.links + ":", *link_lines, ""] if links else []), "--", footer]
        )
        + "\n"
    )
    html_links = "".join(
        f'<li><a href="{escape(url)}">{escape(labels.get(k, k))}</a></li>'
        for k, url in links.items()
    )
    html = (
        f'<!doctype html><html lang="{lang}"><meta charset="utf-8">'
        f"<title>{escape(subject)}</title><body>"
        f"<h1>{escape(values['title'])}</h1><p>{escape(body)}</p>"
        + (f"<h2>{escape(texts.links)}</h2><ul>{html_links}</ul>" if links else "")
        + f"<hr><p><small>{escape(footer)}</small></p></body></html>"
    )
    return subject, text, html
