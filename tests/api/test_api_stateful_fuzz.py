"""A stateful fuzz run of the whole API, generated from its OpenAPI document.

Every operation, parameter and request body comes from ``shared.api.openapi.document()`` (what
``/v1/openapi.json`` serves): bodies are drawn from the request schemas — valid ones and near
misses (a required field dropped, a value of the wrong type) — and parameters from their
schemas. The *links* are the document's too: an operation whose success answer is a schema with
an ``id`` (``POST /v1/tales`` → ``TaleView``) feeds that id to every operation whose path has
the matching ``{tale_id}``, so the run walks create → read → edit → approve → cancel → revise
on tales that exist, as their owner and as a stranger. After every call: no 5xx, every error a
problem document with its status, every success carries the required fields of its schema.
"""

from __future__ import annotations

import json
import re
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, multiple, rule

from shared import bootstrap
from shared.api.openapi import document
from shared.config import Settings

DOC = document()
SCHEMAS: dict[str, Any] = DOC["components"]["schemas"]
MAX_DEPTH = 4


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    name: str
    parameters: tuple[dict[str, Any], ...]
    body: dict[str, Any] | None
    success: str
    answer: str | None
    """The success answer's schema name (application/json), if any."""


def _operations() -> list[Operation]:
    found = []
    for path, methods in DOC["paths"].items():
        for method, op in methods.items():
            body = op.get("requestBody", {}).get("content", {}).get("application/json", {})
            success = next(code for code in op["responses"] if code.startswith("2"))
            content = op["responses"][success].get("content", {})
            ref = content.get("application/json", {}).get("schema", {}).get("$ref")
            found.append(
                Operation(
                    method.upper(),
                    path,
                    op["operationId"],
                    tuple(op.get("parameters", [])),
                    body.get("schema"),
                    success,
                    ref.rsplit("/", 1)[1] if ref else None,
                )
            )
    return found


OPERATIONS = _operations()
#: The links: operations whose answer has an ``id`` that a ``{tale_id}`` path takes.
PRODUCERS = [
    op
    for op in OPERATIONS
    if op.method == "POST"
    and op.answer
    and "id" in SCHEMAS[op.answer].get("properties", {})
    and op.answer == "TaleView"
]
LINKED = [op for op in OPERATIONS if "{tale_id}" in op.path]


def schema_strategy(schema: dict[str, Any], depth: int = 0) -> st.SearchStrategy[Any]:
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        return st.deferred(lambda: schema_strategy(SCHEMAS[name], depth + 1))
    if "const" in schema:
        return st.just(schema["const"])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return st.one_of([schema_strategy(s, depth) for s in schema[key]])
    if "allOf" in schema:
        return schema_strategy(schema["allOf"][0], depth)
    kind = schema.get("type")
    if isinstance(kind, list):
        return st.one_of([schema_strategy({**schema, "type": k}, depth) for k in kind])
    return _typed(schema, kind, depth)


def _typed(schema: dict[str, Any], kind: Any, depth: int) -> st.SearchStrategy[Any]:
    if kind == "string":
        return _string(schema)
    if kind == "integer":
        low = schema.get("minimum", schema.get("exclusiveMinimum", -11) + 1)
        high = schema.get("maximum", schema.get("exclusiveMaximum", 101) - 1)
        return st.integers(low, max(low, high))
    if kind == "number":
        return st.floats(schema.get("minimum", -1e6), schema.get("maximum", 1e6), allow_nan=False)
    if kind == "boolean":
        return st.booleans()
    if kind == "null":
        return st.none()
    if kind == "array":
        low = schema.get("minItems", 0)
        high = min(schema.get("maxItems", low + 3), low + 3)
        items = schema_strategy(schema.get("items", {}), depth + 1)
        return st.lists(items, min_size=low, max_size=high)
    if kind == "object" or "properties" in schema:
        return _object(schema, depth)
    return st.none() | st.booleans() | st.integers(-5, 5) | st.text(max_size=8)


def _string(schema: dict[str, Any]) -> st.SearchStrategy[str]:
    low, high = schema.get("minLength", 0), min(schema.get("maxLength", 60), 60)
    if "pattern" in schema:
        pattern = schema["pattern"]
        return st.from_regex(pattern, fullmatch=True).filter(lambda s: low <= len(s) <= 200)
    if schema.get("format") == "uuid":
        return st.uuids().map(str)
    return st.text(min_size=low, max_size=max(low, high))


def _object(schema: dict[str, Any], depth: int) -> st.SearchStrategy[dict[str, Any]]:
    properties = schema.get("properties", {})
    required = set(schema.get("required", []))
    fixed = {k: schema_strategy(v, depth + 1) for k, v in properties.items() if k in required}
    optional = {
        k: schema_strategy(v, depth + 1)
        for k, v in properties.items()
        if k not in required and depth < MAX_DEPTH
    }
    return st.fixed_dictionaries(fixed, optional=optional)


def near_miss(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """A body that is almost valid: a required field dropped or given a value of another
    type, or a field the schema does not have."""
    valid = schema_strategy(schema)

    def spoil(body: Any, draw_key: int, junk: Any) -> Any:
        if not isinstance(body, dict) or not body:
            return junk
        keys = sorted(body)
        key = keys[draw_key % len(keys)]
        spoiled = dict(body)
        if draw_key % 3 == 0:
            del spoiled[key]
        elif draw_key % 3 == 1:
            spoiled[key] = junk
        else:
            spoiled["unknown_" + key] = junk
        return spoiled

    junk = st.none() | st.integers() | st.text(max_size=5) | st.lists(st.integers(), max_size=2)
    return st.builds(spoil, valid, st.integers(0, 99), junk)


def body_strategy(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    return st.one_of(schema_strategy(schema), schema_strategy(schema), near_miss(schema))


@dataclass
class Call:
    url: str
    headers: dict[str, str]
    body: bytes | None


def build_call(data: st.DataObject, op: Operation, params: dict[str, str]) -> Call:
    path, query, headers = op.path, {}, {}
    for parameter in op.parameters:
        name, where = parameter["name"], parameter["in"]
        if where == "path":
            value = params.get(name) or data.draw(schema_strategy(parameter["schema"]), label=name)
            path = path.replace("{" + name + "}", str(value))
        elif parameter.get("required") or data.draw(st.booleans(), label=f"send {name}"):
            value = data.draw(schema_strategy(parameter["schema"]), label=name)
            if where == "query":
                query[name] = value
            elif where == "header" and isinstance(value, str) and _header_safe(value):
                headers[name] = value
    body = None
    if op.body is not None:
        body = json.dumps(data.draw(body_strategy(op.body), label="body")).encode()
    url = path + ("?" + urlencode(query) if query else "")
    return Call(url, headers, body)


def _header_safe(value: str) -> bool:
    return value.isascii() and value.isprintable()


def check(op: Operation, response: Any) -> Any:
    status = response.status_code
    ApiMachine.seen[op.name, status] += 1
    assert status < 500, (op.method, op.path, status, response.data[:300])
    if status >= 400:
        assert response.mimetype == "application/problem+json", (op.name, status)
        problem = json.loads(response.data)
        assert problem["status"] == status
        assert {"type", "title", "detail"} <= set(problem)
        return None
    if op.answer is None:
        return None
    answer = json.loads(response.data)
    required = set(SCHEMAS[op.answer].get("required", []))
    assert required <= set(answer), (op.name, required - set(answer))
    return answer


class ApiMachine(RuleBasedStateMachine):
    """Users create tales and call every operation on them, and on others' tales."""

    client: Any = None
    seen: ClassVar[Counter[tuple[str, int]]] = Counter()
    tales = Bundle("tales")

    def __init__(self) -> None:
        super().__init__()
        signer = bootstrap.container().signer
        assert signer is not None
        self.owner = {"Authorization": "Bearer " + signer.mint(str(uuid.uuid4()), "o@x.dev")}
        self.stranger = {"Authorization": "Bearer " + signer.mint(str(uuid.uuid4()), "s@x.dev")}

    def send(self, op: Operation, call: Call, user: dict[str, str]) -> Any:
        headers = {**user, **call.headers}
        if call.body is not None:
            headers["Content-Type"] = "application/json"
        response = self.client.open(call.url, method=op.method, headers=headers, data=call.body)
        return check(op, response)

    @rule(target=tales, data=st.data(), producer=st.sampled_from(PRODUCERS))
    def create(self, data: st.DataObject, producer: Operation) -> Any:
        answer = self.send(producer, build_call(data, producer, {}), self.owner)
        return answer["id"] if answer and "id" in answer else multiple()

    @rule(data=st.data(), tale=tales, op=st.sampled_from(LINKED))
    def on_a_tale(self, data: st.DataObject, tale: str, op: Operation) -> None:
        self.send(op, build_call(data, op, {"tale_id": tale}), self.owner)

    @rule(data=st.data(), tale=tales, op=st.sampled_from(LINKED))
    def on_someone_elses_tale(self, data: st.DataObject, tale: str, op: Operation) -> None:
        response = self.client.open(
            build_call(data, op, {"tale_id": tale}).url, method=op.method, headers=self.stranger
        )
        check(op, response)
        assert response.status_code in (404, 405, 413, 415, 422, 428), response.status_code

    @rule(data=st.data(), op=st.sampled_from(OPERATIONS))
    def anything(self, data: st.DataObject, op: Operation) -> None:
        self.send(op, build_call(data, op, {}), self.owner)


@pytest.fixture
def api_settings(tmp_path: Path) -> Settings:
    return Settings(
        home=tmp_path / "home",
        api_rate_per_minute=100_000,
        api_max_running_tales=1_000,
        free_tales_per_month=1_000,
        max_story_chars=300,
        events_max_s=0.2,
        events_poll_s=0.05,
    )


def test_the_documented_links_reach_the_operations_they_feed() -> None:
    assert [op.name for op in PRODUCERS] == ["create_tale", "create_trend_tale"]
    assert {op.name for op in LINKED} >= {"get_tale", "approve_tale", "cancel_tale", "video_link"}
    assert all(re.search(r"\{tale_id\}", op.path) for op in LINKED)


def test_a_stateful_run_over_the_whole_api(client: Any) -> None:
    ApiMachine.client = client
    run = ApiMachine.TestCase
    run.settings = settings(
        max_examples=120,
        phases=(Phase.explicit, Phase.reuse, Phase.generate),
        stateful_step_count=20,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    run().runTest()
    seen = ApiMachine.seen
    assert seen["create_tale", 201] > 0  # the run made tales ...
    linked = {name for (name, status), n in seen.items() if status < 300 and n}
    assert {"get_tale", "list_revisions", "tale_events"} & linked  # ... and used them
    assert len({name for name, _ in seen}) >= len(OPERATIONS) - 2  # (nearly) every operation
