"""What is wrong with a request body, field by field, in our words.

A problem document names the field and what is wrong with it; it never carries the
validator's own text (its wording, its internal type names, links to its documentation). The
messages of our own validators (``ValueError`` raised in ``schemas/``) are ours and kept.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

_MESSAGES: dict[str, str] = {
    "missing": "is required",
    "extra_forbidden": "is not a field of this request",
    "string_type": "must be a string",
    "string_unicode": "must be a string",
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "int_parsing_size": "is too large a number",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "finite_number": "must be a finite number",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "dict_type": "must be an object",
    "model_type": "must be an object",
    "model_attributes_type": "must be an object",
    "list_type": "must be a list",
    "tuple_type": "must be a list",
    "set_type": "must be a list",
    "none_required": "must be null",
    "uuid_type": "must be a UUID",
    "uuid_parsing": "must be a UUID",
    "string_too_short": "must have at least {min_length} characters",
    "string_too_long": "must have at most {max_length} characters",
    "too_short": "must have at least {min_length} items",
    "too_long": "must have at most {max_length} items",
    "greater_than": "must be greater than {gt}",
    "greater_than_equal": "must be at least {ge}",
    "less_than": "must be less than {lt}",
    "less_than_equal": "must be at most {le}",
    "multiple_of": "must be a multiple of {multiple_of}",
    "literal_error": "must be one of {expected}",
    "enum": "must be one of {expected}",
    "string_pattern_mismatch": "does not have the expected form",
    "url_parsing": "must be a URL",
    "url_type": "must be a URL",
    "datetime_parsing": "must be a date and time (ISO 8601)",
    "date_parsing": "must be a date (YYYY-MM-DD)",
    "union_tag_invalid": "has an unknown kind",
    "union_tag_not_found": "does not say which kind it is",
    "json_invalid": "is not valid JSON",
    "frozen_field": "cannot be changed",
}
_OURS = ("value_error", "assertion_error")
"""Errors raised by our own validators: their messages are ours."""
_GENERIC = "is not valid"


def field_errors(exc: ValidationError) -> list[dict[str, str]]:
    """One ``{"field", "message"}`` per error, in the order found."""
    found = [
        {"field": _field(e["loc"]), "message": _message(e)}
        for e in exc.errors(include_url=False, include_input=False)
    ]
    return found or [{"field": "body", "message": _GENERIC}]


def _field(loc: tuple[int | str, ...]) -> str:
    """The dotted path of the field; the validator's names of union members are left out."""
    parts = [str(p) for p in loc if not _internal(p)]
    return ".".join(parts) or "body"


def _internal(part: int | str) -> bool:
    return isinstance(part, str) and any(c in part for c in "[]()")


def _message(error: Any) -> str:
    kind = str(error.get("type", ""))
    if kind in _OURS:
        message = str(error.get("msg", ""))
        return message.removeprefix("Value error, ").removeprefix("Assertion failed, ")
    template = _MESSAGES.get(kind)
    if template is None:
        return _GENERIC
    try:
        return template.format(**(error.get("ctx") or {}))
    except (KeyError, IndexError, ValueError):
        return _GENERIC
