"""From ranked videos to trends: de-duplicate, link related videos, name and rank the groups.

- **De-duplication**: a re-upload (the same title once hashtags, case, punctuation and spaces
  are removed) keeps only its best-scoring copy.
- **Related**: among the ``candidates`` best videos, two are related when they share a
  hashtag, or at least two title keywords. The search topics themselves do not link videos
  (every result carries its query). Related videos form one group (connected components).
- **Label**: the term most members share (hashtags first), else the best video's first
  hashtag or keyword, else its title.
- **Score**: the best member's score plus ``SIZE_BONUS`` · log2(channels) — a wave on several
  channels beats a lone video (or one channel's series) of the same strength.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from shared.trends.keywords import hashtags
from shared.trends.models import VideoInfo
from shared.trends.scoring import VideoScore

SIZE_BONUS = 0.3
_NOT_WORD = re.compile(r"[\W_]+")
_HASHTAG = re.compile(r"#\w+")


@dataclass(frozen=True)
class Group:
    members: tuple[VideoScore, ...]
    """Best first."""
    label: str
    keywords: tuple[str, ...]
    score: float
    channels: int = 1


def normalized_title(title: str) -> str:
    return _NOT_WORD.sub("", _HASHTAG.sub("", title).lower())


def dedupe(scores: list[VideoScore], videos: Mapping[str, VideoInfo]) -> list[VideoScore]:
    """Keep the best-scoring video of each normalized title (``scores`` best first)."""
    seen: set[str] = set()
    kept: list[VideoScore] = []
    for s in scores:
        key = normalized_title(videos[s.video_id].title) or s.video_id
        if key not in seen:
            seen.add(key)
            kept.append(s)
    return kept


def _related(a: frozenset[str], b: frozenset[str]) -> bool:
    shared = a & b
    return any(t.startswith("#") for t in shared) or len(shared) >= 2


def _components(ids: list[str], terms: Mapping[str, frozenset[str]]) -> list[list[str]]:
    parent = {i: i for i in ids}

    def root(i: str) -> str:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for n, a in enumerate(ids):
        for b in ids[n + 1 :]:
            if _related(terms[a], terms[b]):
                parent[root(b)] = root(a)
    groups: dict[str, list[str]] = {}
    for i in ids:
        groups.setdefault(root(i), []).append(i)
    return list(groups.values())


def _label(members: list[VideoScore], terms: Mapping[str, frozenset[str]], title: str) -> str:
    counts = Counter(t for m in members for t in terms[m.video_id])
    shared = [t for t, n in counts.items() if n >= 2]
    if shared:
        return max(shared, key=lambda t: (counts[t], t.startswith("#"), -len(t), t))
    own = [t for t in hashtags(title) if t in terms[members[0].video_id]]
    if own:
        return own[0]
    plain = " ".join(_HASHTAG.sub(" ", title).split())
    return plain if len(plain) <= 40 else plain[:39].rstrip() + "…"


def group(
    scores: list[VideoScore],
    videos: Mapping[str, VideoInfo],
    terms: Mapping[str, frozenset[str]],
    *,
    candidates: int = 50,
    exclude: Iterable[str] = (),
) -> list[Group]:
    """Trends among the best ``candidates`` videos (``scores`` best first), best first."""
    skip = {e.lower() for e in exclude}
    kept = dedupe(scores, videos)[:candidates]
    linking = {s.video_id: frozenset(terms[s.video_id] - skip) for s in kept}
    by_id = {s.video_id: s for s in kept}
    groups: list[Group] = []
    for ids in _components([s.video_id for s in kept], linking):
        members = sorted((by_id[i] for i in ids), key=lambda s: (-s.score, s.video_id))
        counts = Counter(t for m in members for t in linking[m.video_id])
        keywords = tuple(t for t, _ in sorted(counts.items(), key=lambda p: (-p[1], p[0]))[:8])
        label = _label(members, linking, videos[members[0].video_id].title)
        channels = len({videos[m.video_id].channel_id for m in members})
        score = members[0].score + SIZE_BONUS * math.log2(channels)
        groups.append(Group(tuple(members), label, keywords, score, channels))
    return sorted(groups, key=lambda g: (-g.score, g.label))
