"""JSON from the outside, parsed within limits.

Python's ``json`` has none that matter here: 5,000 nested brackets raise ``RecursionError``, a
5,000-digit integer ``ValueError``, ``1e400`` becomes infinity and ``NaN`` is accepted. ``loads``
checks the nesting depth and the length of every string before parsing (one pass of a regular
expression over the text, no recursion), refuses numbers longer than a limit and every
non-finite number while parsing, and raises ``JsonRefused`` with a sentence in our words.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any

__all__ = ["JsonLimits", "JsonRefused", "loads"]

_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_BRACKET = re.compile(r"[\[\]{}]")


@dataclass(frozen=True)
class JsonLimits:
    depth: int = 32
    """Arrays and objects nested deeper than this are refused."""
    string_chars: int = 131_072
    """Characters of one string as written (escapes included): a 20,000-character story in
    ``\\uXXXX`` escapes is 120,000."""
    number_chars: int = 40
    """Characters of one number as written (digits, sign, point and exponent)."""


class JsonRefused(ValueError):
    """The text is not JSON, or not JSON within the limits; the message says which."""


def loads(raw: bytes | str, limits: JsonLimits | None = None) -> Any:
    limits = limits or JsonLimits()
    if isinstance(raw, bytes):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise JsonRefused(f"the body is not UTF-8 (byte {exc.start})") from None
    else:
        text = raw
    _check_structure(text, limits)
    try:
        return json.loads(
            text,
            parse_int=lambda s: _number(s, int, limits),
            parse_float=lambda s: _number(s, float, limits),
            parse_constant=_constant,
        )
    except json.JSONDecodeError as exc:
        raise JsonRefused(
            f"the body is not valid JSON (line {exc.lineno}, column {exc.colno})"
        ) from None
    except RecursionError:  # unreachable after the depth check; never a 500 all the same
        raise JsonRefused(f"the JSON is nested deeper than {limits.depth} levels") from None


def _check_structure(text: str, limits: JsonLimits) -> None:
    """Depth and string lengths, on the text with its strings taken out."""
    outside: list[str] = []
    start = 0
    for found in _STRING.finditer(text):
        if found.end() - found.start() - 2 > limits.string_chars:
            raise JsonRefused(f"a string is longer than {limits.string_chars} characters")
        outside.append(text[start : found.start()])
        start = found.end()
    outside.append(text[start:])
    depth = 0
    for bracket in _BRACKET.finditer("".join(outside)):
        if bracket.group() in "[{":
            depth += 1
            if depth > limits.depth:
                raise JsonRefused(f"the JSON is nested deeper than {limits.depth} levels")
        else:
            depth -= 1


def _number(text: str, kind: type[int] | type[float], limits: JsonLimits) -> int | float:
    if len(text) > limits.number_chars:
        raise JsonRefused(f"a number is longer than {limits.number_chars} characters")
    value = kind(text)
    if isinstance(value, float) and not math.isfinite(value):
        raise JsonRefused(f"the number {text} is out of range")
    return value


def _constant(name: str) -> Any:
    raise JsonRefused(f"{name} is not a JSON number")
