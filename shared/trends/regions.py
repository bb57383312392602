"""Regions the scout knows by name and language: the digest and the prompt name a region (in
Korean, English, Japanese or Chinese); a region's own readers get its trends written in its
language (``reader_language``); and a region's seed searches prefer its language
(``relevanceLanguage``, ISO 639-1) and use the niche queries written for it (``ko:먹방`` is
searched where Korean is spoken)."""

from __future__ import annotations

from schemas.story import Language

#: A region's name in each language Tale writes (English is also the name for the prompt).
REGION_NAMES: dict[str, dict[Language, str]] = {
    "KR": {"en": "South Korea", "ko": "한국", "ja": "韓国", "zh": "韩国"},
    "US": {"en": "the United States", "ko": "미국", "ja": "アメリカ", "zh": "美国"},
    "JP": {"en": "Japan", "ko": "일본", "ja": "日本", "zh": "日本"},
    "GB": {"en": "the United Kingdom", "ko": "영국", "ja": "イギリス", "zh": "英国"},
    "CA": {"en": "Canada", "ko": "캐나다", "ja": "カナダ", "zh": "加拿大"},
    "AU": {"en": "Australia", "ko": "호주", "ja": "オーストラリア", "zh": "澳大利亚"},
    "IN": {"en": "India", "ko": "인도", "ja": "インド", "zh": "印度"},
    "DE": {"en": "Germany", "ko": "독일", "ja": "ドイツ", "zh": "德国"},
    "FR": {"en": "France", "ko": "프랑스", "ja": "フランス", "zh": "法国"},
    "TW": {"en": "Taiwan", "ko": "대만", "ja": "台湾", "zh": "台湾"},
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


_WRITTEN: dict[str, Language] = {"ko": "ko", "en": "en", "ja": "ja", "zh": "zh"}


def region_name(region: str, language: Language) -> str:
    """The region's name in ``language`` (its code when the scout does not know it)."""
    names = REGION_NAMES.get(region)
    return names.get(language, names["en"]) if names else region


def region_language(region: str) -> str:
    """The language a region's searches prefer ("" when unknown: no preference)."""
    return REGION_LANGUAGES.get(region, "")


def reader_language(region: str) -> Language | None:
    """The language Tale writes for a region's own readers (``JP`` → ``ja``, ``TW`` → ``zh``:
    Chinese covers both scripts), or None when that is not one Tale writes (``DE``)."""
    return _WRITTEN.get(region_language(region).split("-")[0])


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
