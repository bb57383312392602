"""What is wrong with a request body, field by field, in our words.

A problem document names the field and what is wrong with it; it never carries the
validator's own text (its wording, its internal type names, links to its documentation). The
messages of our own validators (``ValueError`` raised in ``schemas/``) are ours and kept; the
others are said in the reader's language from the catalogues (``validation.<key>``).
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from shared.i18n import message

#: The validator's error types → our message (``validation.<key>`` in the catalogues).
_MESSAGES: dict[str, str] = {
    "missing": "missing",
    "extra_forbidden": "extra_forbidden",
    "string_type": "string_type",
    "string_unicode": "string_type",
    "int_type": "int_type",
    "int_parsing": "int_type",
    "int_from_float": "int_type",
    "int_parsing_size": "int_parsing_size",
    "float_type": "float_type",
    "float_parsing": "float_type",
    "finite_number": "finite_number",
    "bool_type": "bool_type",
    "bool_parsing": "bool_type",
    "dict_type": "dict_type",
    "model_type": "dict_type",
    "model_attributes_type": "dict_type",
    "list_type": "list_type",
    "tuple_type": "list_type",
    "set_type": "list_type",
    "none_required": "none_required",
    "uuid_type": "uuid_type",
    "uuid_parsing": "uuid_type",
    "string_too_short": "string_too_short",
    "string_too_long": "string_too_long",
    "too_short": "too_short",
    "too_long": "too_long",
    "greater_than": "greater_than",
    "greater_than_equal": "greater_than_equal",
    "less_than": "less_than",
    "less_than_equal": "less_than_equal",
    "multiple_of": "multiple_of",
    "literal_error": "literal_error",
    "enum": "literal_error",
    "string_pattern_mismatch": "string_pattern_mismatch",
    "url_parsing": "url_type",
    "url_type": "url_type",
    "datetime_parsing": "datetime_parsing",
    "date_parsing": "date_parsing",
    "union_tag_invalid": "union_tag_invalid",
    "union_tag_not_found": "union_tag_not_found",
    "json_invalid": "json_invalid",
    "frozen_field": "frozen_field",
}
_OURS = ("value_error", "assertion_error")
"""Errors raised by our own validators: their messages are ours."""
_GENERIC = "generic"


def field_errors(exc: ValidationError, language: str = "en") -> list[dict[str, str]]:
    """One ``{"field", "message"}`` per error, in the order found, in ``language``."""
    found = [
        {"field": _field(e["loc"]), "message": _message(e, language)}
        for e in exc.errors(include_url=False, include_input=False)
    ]
    return found or [{"field": "body", "message": message(language, "validation." + _GENERIC)}]


def _field(loc: tuple[int | str, ...]) -> str:
    """The dotted path of the field; the validator's names of union members are left out."""
    parts = [str(p) for p in loc if not _internal(p)]
    return ".".join(parts) or "body"


def _internal(part: int | str) -> bool:
    return isinstance(part, str) and any(c in part for c in "[]()")


def _message(error: Any, language: str) -> str:
    kind = str(error.get("type", ""))
    if kind in _OURS:
        said = str(error.get("msg", ""))
        return said.removeprefix("Value error, ").removeprefix("Assertion failed, ")
    key = _MESSAGES.get(kind, _GENERIC)
    try:
        return message(language, "validation." + key, **(error.get("ctx") or {}))
    except (KeyError, IndexError, ValueError):
        return message(language, "validation." + _GENERIC)
