"""Regions the scout knows by name and language: the digest and the prompt name a region,
and a region's seed searches prefer its language (``relevanceLanguage``, ISO 639-1) and use
the niche queries written for it (``ko:먹방`` is searched where Korean is spoken)."""

from __future__ import annotations

from schemas.story import Language

REGION_NAMES: dict[str, tuple[str, str]] = {
    "KR": ("South Korea", "한국"),
    "US": ("the United States", "미국"),
    "JP": ("Japan", "일본"),
    "GB": ("the United Kingdom", "영국"),
    "CA": ("Canada", "캐나다"),
    "AU": ("Australia", "호주"),
    "IN": ("India", "인도"),
    "DE": ("Germany", "독일"),
    "FR": ("France", "프랑스"),
    "TW": ("Taiwan", "대만"),
}
REGION_LANGUAGES: dict[str, str] = {
    "KR": "ko",
    "US": "en",
    "JP": "ja",
    "GB": "en",
    "CA": "en",
    "AU": "en",
    "IN": "en",
    "DE": "de",
    "FR": "fr",
    "TW": "zh-Hant",
}


def region_name(region: str, language: Language) -> str:
    en, ko = REGION_NAMES.get(region, (region, region))
    return ko if language == "ko" else en


def region_language(region: str) -> str:
    """The language a region's searches prefer ("" when unknown: no preference)."""
    return REGION_LANGUAGES.get(region, "")


def queries_for(niches: dict[str, list[str]], region: str) -> list[tuple[str, str]]:
    """(niche, query) pairs a region searches: queries without a ``xx:`` language prefix, and
    those whose prefix is the region's language."""
    language = region_language(region).split("-")[0]
    found: list[tuple[str, str]] = []
    for niche, queries in niches.items():
        for raw in queries:
            prefix, sep, query = raw.partition(":")
            if not sep or len(prefix) not in (2, 3) or not prefix.isalpha():
                prefix, query = "", raw
            if (not prefix or prefix == language) and query.strip():
                found.append((niche, query.strip()))
    return found
