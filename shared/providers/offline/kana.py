"""Japanese narration in kana, for espeak-ng.

espeak-ng's Japanese voice reads kana only: a kanji it has no reading for is skipped or
named, so 「月のうさぎ」 came out as 「のうさぎ」. Before the embedded default voices a
Japanese line, the line is rewritten as it is pronounced, in katakana, morpheme by morpheme,
with Janome (a pure-Python morphological analyser with the IPADIC dictionary, Apache-2.0;
installed with the ``local`` extra, which ``install.sh`` installs): 月 → ツキ, and the particle
は → ワ, as spoken. Latin letters, digits and punctuation stay as they are. Only the
placeholder voice needs this: Gemini TTS and Bark read kanji themselves.
"""

from __future__ import annotations

import functools
import re
from typing import Any

_JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff々〆ヶ]")


@functools.cache
def _tokenizer() -> Any:
    from janome.tokenizer import Tokenizer  # type: ignore[import-untyped, unused-ignore]

    return Tokenizer()


def to_kana(text: str) -> str:
    """``text`` with every Japanese word replaced by its pronunciation in katakana."""
    if not _JAPANESE.search(text):
        return text
    out = []
    for token in _tokenizer().tokenize(text):
        surface: str = token.surface
        spoken: str = token.phonetic if token.phonetic not in ("", "*") else token.reading
        japanese = _JAPANESE.search(surface) is not None
        out.append(spoken if japanese and spoken not in ("", "*") else surface)
    return "".join(out)
