"""Read ``terraform/`` with python-hcl2 for static checks.

Strings come back unquoted (``strip_string_quotes``); an expression is a string wrapped in
``${…}`` (``"${each.key}"``), a template keeps its interpolations (``"tale-${each.key}"``).
Blocks are lists of dicts; comments inside a block are in its ``__comments__``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import hcl2
from hcl2 import SerializationOptions

ROOT = Path(__file__).resolve().parents[2]
TERRAFORM = ROOT / "terraform"

_OPTIONS = SerializationOptions(strip_string_quotes=True, explicit_blocks=False)


@dataclass(frozen=True)
class Resource:
    type: str
    name: str
    file: str
    body: dict[str, Any]

    @property
    def address(self) -> str:
        return f"{self.type}.{self.name}"

    def block(self, *path: str) -> dict[str, Any]:
        """The only nested block at ``path`` (``block("service_config")``)."""
        node: dict[str, Any] = self.body
        for key in path:
            blocks = node.get(key)
            assert isinstance(blocks, list) and len(blocks) == 1, f"{self.address}: {key}"
            node = blocks[0]
        return node

    def comments(self) -> list[str]:
        return [str(c["value"]).strip() for c in self.body.get("__comments__", [])]


@dataclass
class Config:
    files: dict[str, dict[str, Any]] = field(default_factory=dict)
    resources: dict[str, Resource] = field(default_factory=dict)
    data: dict[str, Resource] = field(default_factory=dict)
    locals: dict[str, Any] = field(default_factory=dict)
    variables: dict[str, dict[str, Any]] = field(default_factory=dict)
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    terraform: list[dict[str, Any]] = field(default_factory=list)

    def of_type(self, type_: str) -> list[Resource]:
        return [r for r in self.resources.values() if r.type == type_]

    def resource(self, address: str) -> Resource:
        return self.resources[address]


def _typed(blocks: list[dict[str, Any]]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for entry in blocks:
        for type_, named in entry.items():
            for name, body in named.items():
                yield type_, name, body


@cache
def load(directory: Path = TERRAFORM) -> Config:
    """Every ``*.tf`` in ``directory`` (not recursive), merged."""
    config = Config()
    for path in sorted(directory.glob("*.tf")):
        with path.open(encoding="utf-8") as f:
            doc = hcl2.load(f, serialization_options=_OPTIONS)
        config.files[path.name] = doc
        for type_, name, body in _typed(doc.get("resource", [])):
            address = f"{type_}.{name}"
            assert address not in config.resources, f"{address} declared twice"
            config.resources[address] = Resource(type_, name, path.name, body)
        for type_, name, body in _typed(doc.get("data", [])):
            config.data[f"data.{type_}.{name}"] = Resource(type_, name, path.name, body)
        for block in doc.get("locals", []):
            for key, value in block.items():
                if key.startswith("__"):
                    continue
                assert key not in config.locals, f"local.{key} declared twice"
                config.locals[key] = value
        for block in doc.get("variable", []):
            config.variables.update(block)
        for block in doc.get("output", []):
            config.outputs.update(block)
        config.terraform += doc.get("terraform", [])
    return config


def expr(value: Any) -> str:
    """The expression inside ``${…}``, whitespace-normalized (a literal is returned as is)."""
    text = str(value)
    if _is_one_interpolation(text):
        text = text[2:-1]
    return re.sub(r"\s+", " ", text).strip()


def source(value: Any) -> str:
    """A parsed value back as an HCL expression (for evaluating it with terraform)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(source(v) for v in value) + "]"
    if isinstance(value, dict):
        items = (
            f"{json.dumps(k)} = {source(v)}" for k, v in value.items() if not k.startswith("__")
        )
        return "{" + ", ".join(items) + "}"
    text = str(value)
    if _is_one_interpolation(text):
        return text[2:-1]
    return json.dumps(text)  # a literal or a template: "${…}" interpolations stay live


def _is_one_interpolation(text: str) -> bool:
    """``${…}`` around the whole text (an expression), not a template like ``a-${b}``."""
    if not text.startswith("${"):
        return False
    depth, i, quoted = 1, 2, False
    while i < len(text):
        c = text[i]
        if quoted:
            if c == "\\":
                i += 1
            elif c == '"':
                quoted = False
        elif c == '"':
            quoted = True
        elif c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return i == len(text) - 1
        i += 1
    return False


def iter_values(node: Any) -> Iterator[Any]:
    """Every scalar in a parsed document."""
    if isinstance(node, dict):
        for key, value in node.items():
            if not key.startswith("__"):  # __comments__, __inline_comments__
                yield from iter_values(value)
    elif isinstance(node, list):
        for item in node:
            yield from iter_values(item)
    else:
        yield node


def iter_attributes(node: Any, name: str) -> Iterator[Any]:
    """Every value of attribute ``name``, at any depth."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == name:
                yield value
            yield from iter_attributes(value, name)
    elif isinstance(node, list):
        for item in node:
            yield from iter_attributes(item, name)
