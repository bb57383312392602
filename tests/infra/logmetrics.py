"""The log-based metrics of ``terraform/monitoring.tf``, read and evaluated in Python.

``metrics()`` reads ``local.log_metrics`` (filters resolved); ``matches`` evaluates a filter
on a structured record exactly as far as the filters use Cloud Logging's query language —
``jsonPayload.F="v"``, ``jsonPayload.F=("a" OR "b")``, ``jsonPayload.F>N`` joined by
``AND`` — and refuses anything else, so a filter the tests cannot read fails loudly.
``measure`` counts records into a metric's label combinations (or collects the values of a
distribution), which is what Cloud Monitoring does with the log entries.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

from tests.infra import hcl

_TERM = re.compile(
    r'^jsonPayload\.(?P<field>[a-z_]+)(?:=(?P<value>"[^"]*"|\((?:"[^"]*"(?: OR )?)+\))'
    r"|>(?P<number>-?\d+(?:\.\d+)?))$"
)
_REF = re.compile(r"^\$\{local\.([a-z_]+)\}$")
_SPECIAL = ("severity", "message", "time", "logging.googleapis.com/")


@dataclass(frozen=True)
class LogMetric:
    name: str
    filter: str
    labels: dict[str, str]
    """Label → the jsonPayload field it is extracted from."""
    value: str | None
    """The jsonPayload field a distribution records (None: a counter)."""


def metrics() -> dict[str, LogMetric]:
    config = hcl.load()
    out = {}
    for name, spec in config.locals["log_metrics"].items():
        if name.startswith("__"):
            continue
        text = str(spec["filter"])
        ref = _REF.match(text)
        if ref:
            text = str(config.locals[ref.group(1)])
        out[name] = LogMetric(name, text, dict(spec["labels"]), spec["value"])
    return out


def terms(filter_: str) -> list[tuple[str, set[str] | None, float | None]]:
    """(field, allowed values, lower bound) of every term."""
    out: list[tuple[str, set[str] | None, float | None]] = []
    for term in filter_.split(" AND "):
        match = _TERM.match(term.strip())
        assert match, f"a filter term the tests cannot read: {term!r}"
        number = match.group("number")
        if number is not None:
            out.append((match.group("field"), None, float(number)))
        else:
            out.append((match.group("field"), set(re.findall(r'"([^"]*)"', match["value"])), None))
    return out


def payload(record: dict[str, Any]) -> dict[str, Any]:
    """What Cloud Logging keeps in jsonPayload (the special fields become the entry's own)."""
    return {k: v for k, v in record.items() if not k.startswith(_SPECIAL)}


def matches(filter_: str, record: dict[str, Any]) -> bool:
    body = payload(record)
    for field, values, bound in terms(filter_):
        value = body.get(field)
        if values is not None and (value is None or str(value) not in values):
            return False
        if bound is not None and not (isinstance(value, int | float) and value > bound):
            return False
    return True


def measure(metric: LogMetric, records: list[dict[str, Any]]) -> Counter[tuple[str, ...]]:
    """Counts per label combination (labels in sorted order; a missing field is "")."""
    counts: Counter[tuple[str, ...]] = Counter()
    for record in records:
        if matches(metric.filter, record):
            body = payload(record)
            counts[tuple(str(body.get(metric.labels[k], "")) for k in sorted(metric.labels))] += 1
    return counts


def values(metric: LogMetric, records: list[dict[str, Any]]) -> list[float]:
    assert metric.value is not None, f"{metric.name} is a counter"
    return [float(payload(r)[metric.value]) for r in records if matches(metric.filter, r)]
