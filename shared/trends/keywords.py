"""Hashtags and keywords of a video (Korean and English), and how fast each one is rising.

A video's terms are its hashtags (``#먹방``, ``#cooking``: from the title, the description and
single-word tags, lower-cased) and the content words of its title — English words of three
letters or more outside a stop list, and Korean words of two syllables or more with a
trailing particle removed (``강아지가`` → ``강아지``). Platform-wide tags that say nothing
about a trend (``#shorts``, ``#쇼츠``, ``#fyp``…) are dropped.

A term's rise compares two windows of equal length: the views its videos gained in the last
window against the views they gained in the one before. Views at a moment are interpolated
between snapshots (and between the publication, at zero views, and the first snapshot), so
a video published mid-window counts only what it gained since.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import pairwise

from shared.providers.offline.sentences import word_set
from shared.trends.models import Snapshot, VideoInfo

_HASHTAG = re.compile(r"#(\w+)")
_WORD = re.compile(r"[A-Za-z][A-Za-z']+|[\uac00-\ud7a3]+")
_HANGUL = re.compile(r"^[\uac00-\ud7a3]+$")

#: Tags on nearly every Short: no signal of any one trend.
GENERIC_TAGS = word_set(
    "#shorts #short #youtubeshorts #shortsvideo #shortvideo #viral #fyp #foryou #trending "
    "#trend #youtube #쇼츠 #숏츠 #유튜브쇼츠 #추천 #인기 #fypシ"
)
_EN_STOP = word_set(
    "the and for with this that you your are was were how what when why who can not but "
    "all just new best most very one two day days get got make made from out our its it's "
    "his her they them have has had will would into about over more than then only also "
    "shorts short video videos watch part ever like see"
)
_KO_STOP = word_set("쇼츠 영상 오늘 진짜 너무 그리고 그래서 하지만 우리 이거 저거 그냥 정말 완전")
#: Korean particles stripped from the end of a word (longest first).
_KO_PARTICLES = tuple(
    sorted(
        word_set(
            "에서 으로 이랑 하고 처럼 까지 부터 에게 한테 은 는 이 가 을 를 에 의 도 로 와 과 랑 만"
        ),
        key=lambda p: (-len(p), p),
    )
)
#: Views added to both windows so that a term going from 0 to 50 views is not "∞× up".
SMOOTHING_VIEWS = 1_000.0


def hashtags(text: str) -> list[str]:
    """``#tag`` terms of ``text`` in order, lower-cased, without numbers-only tags."""
    found = [f"#{m.lower()}" for m in _HASHTAG.findall(text) if not m.isdigit()]
    return list(dict.fromkeys(found))


def _korean_stem(word: str) -> str:
    for particle in _KO_PARTICLES:
        if word.endswith(particle) and len(word) - len(particle) >= 2:
            return word[: -len(particle)]
    return word


def title_keywords(title: str) -> list[str]:
    """Content words of a title (hashtags removed), lower-cased, in order."""
    text = _HASHTAG.sub(" ", title)
    words: list[str] = []
    for raw in _WORD.findall(text):
        if _HANGUL.match(raw):
            word = _korean_stem(raw)
            if len(word) >= 2 and word not in _KO_STOP:
                words.append(word)
        else:
            word = raw.lower().strip("'")
            if len(word) >= 3 and word not in _EN_STOP:
                words.append(word)
    return list(dict.fromkeys(words))


def terms(video: VideoInfo) -> frozenset[str]:
    """A video's hashtags and title keywords, generic tags dropped."""
    tags = [f"#{t.lower()}" for t in video.tags if t and " " not in t.strip()]
    found = {*hashtags(video.title), *hashtags(video.description), *tags}
    found -= GENERIC_TAGS
    return frozenset(found | set(title_keywords(video.title)))


def views_at(series: list[Snapshot], published_at: float, t: float) -> float:
    """A video's views at ``t``, interpolated (0 at publication; the last count after it)."""
    if t <= published_at or not series:
        return 0.0
    points = [(published_at, 0.0), *((s.at, float(s.views)) for s in series)]
    if t >= points[-1][0]:
        return points[-1][1]
    for (t0, v0), (t1, v1) in pairwise(points):
        if t0 <= t <= t1:
            return v0 if t1 == t0 else v0 + (v1 - v0) * (t - t0) / (t1 - t0)
    return 0.0


def gained(series: list[Snapshot], published_at: float, start: float, end: float) -> float:
    """Views gained in [start, end] (never negative: counts are sometimes corrected down)."""
    return max(0.0, views_at(series, published_at, end) - views_at(series, published_at, start))


@dataclass(frozen=True)
class KeywordRise:
    term: str
    current: float
    """Views gained by the term's videos in the last window."""
    previous: float
    """… and in the window before."""
    videos: int

    @property
    def ratio(self) -> float:
        """How many times faster than in the previous window (smoothed)."""
        return (self.current + SMOOTHING_VIEWS) / (self.previous + SMOOTHING_VIEWS)


def keyword_rises(
    videos: Mapping[str, VideoInfo],
    series: Mapping[str, list[Snapshot]],
    now: float,
    window_h: float,
    *,
    min_videos: int = 2,
    exclude: Iterable[str] = (),
) -> list[KeywordRise]:
    """Every term carried by at least ``min_videos`` videos, fastest rising first."""
    window = window_h * 3600
    skip = {e.lower() for e in exclude}
    current: dict[str, float] = defaultdict(float)
    previous: dict[str, float] = defaultdict(float)
    carriers: dict[str, int] = defaultdict(int)
    for video_id, snaps in series.items():
        video = videos.get(video_id)
        if video is None or not snaps:
            continue
        cur = gained(snaps, video.published_at, now - window, now)
        prev = gained(snaps, video.published_at, now - 2 * window, now - window)
        for term in terms(video):
            if term in skip:
                continue
            current[term] += cur
            previous[term] += prev
            carriers[term] += 1
    rises = [
        KeywordRise(t, current[t], previous[t], carriers[t])
        for t in carriers
        if carriers[t] >= min_videos
    ]
    return sorted(rises, key=lambda r: (-r.ratio, -r.current, r.term))
