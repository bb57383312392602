"""Evaluate Terraform expressions of ``terraform/`` with the real ``terraform`` binary, offline.

Only the provider-free files are copied (variables, the generated registry mirror and the
derivations in ``wiring.tf``); each expression becomes an output of a throwaway root module,
which ``terraform apply`` computes without any provider or cloud access. Expressions written
for a resource (``each.key``, ``each.value``) are evaluated for every instance by rewriting
them into a ``for`` expression over the resource's ``for_each``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tests.infra.hcl import TERRAFORM, Resource, expr

_LOCALS = re.compile(r"^locals\s*\{", re.M)
EXAMPLE_VARS = TERRAFORM / "environments" / "dev.tfvars"


def binary() -> str | None:
    return shutil.which("terraform")


def env(tmp: Path) -> dict[str, str]:
    rc = tmp / "terraformrc"
    rc.write_text("", encoding="utf-8")
    return {
        **os.environ,
        "TF_CLI_CONFIG_FILE": str(rc),
        "TF_IN_AUTOMATION": "1",
        "TF_INPUT": "0",
        "CHECKPOINT_DISABLE": "1",  # no version check over the network
    }


def _block_end(text: str, start: int) -> int:
    """Index after the brace that closes the block opened at ``text[start - 1]``."""
    depth, i, in_string = 1, start, False
    while depth:
        c = text[i]
        if in_string:
            if c == "\\":
                i += 1
            elif c == '"':
                in_string = False
        elif c == '"':
            in_string = True
        elif c == "#" or text.startswith("//", i):
            i = text.index("\n", i)
        elif c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
        i += 1
    return i


def pure_sources() -> dict[str, str]:
    """The variables and every provider-free ``locals`` block of terraform/, by file."""
    out = {"variables.tf": (TERRAFORM / "variables.tf").read_text(encoding="utf-8")}
    for path in sorted(TERRAFORM.glob("*.tf")):
        text = path.read_text(encoding="utf-8")
        blocks = [text[m.start() : _block_end(text, m.end())] for m in _LOCALS.finditer(text)]
        pure = [b for b in blocks if is_pure(b)]
        if pure:
            out[f"locals_{path.name}"] = "\n\n".join(pure) + "\n"
    return out


def is_pure(expression: str) -> bool:
    """No reference to a resource or data source (those need a provider)."""
    return not re.search(r"\b(google_[a-z0-9_]+|data)\.", expression)


def per_instance(resource: Resource, expression: str) -> str:
    """``expression`` (written with each.key / each.value) for every instance of ``resource``,
    as a map from the instance key."""
    for_each = expr(resource.body["for_each"])
    body = re.sub(r"\beach\.key\b", "k", expression)
    body = re.sub(r"\beach\.value\b", "v", body)
    if for_each.startswith("toset("):
        body = re.sub(r"\bv\b", "k", body)
        return f"{{ for k in {for_each} : k => ({body}) }}"
    return f"{{ for k, v in {for_each} : k => ({body}) }}"


def evaluate(
    expressions: Mapping[str, str], variables: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """name → value of each expression, with environments/dev.tfvars plus ``variables``."""
    terraform = binary()
    assert terraform is not None, "terraform is not installed"
    with tempfile.TemporaryDirectory(prefix="tale-tfeval-") as name:
        tmp = Path(name)
        module = tmp / "module"
        module.mkdir()
        for file, source in pure_sources().items():
            (module / file).write_text(source, encoding="utf-8")
        outputs = "".join(
            f'output "{key}" {{\n  value = {value}\n}}\n' for key, value in expressions.items()
        )
        (module / "probe.tf").write_text(outputs, encoding="utf-8")
        values = {"source_object": "functions/test.zip", **(variables or {})}
        overrides = tmp / "probe.tfvars.json"  # given after the example: it wins
        overrides.write_text(json.dumps(values), encoding="utf-8")
        run_env = env(tmp)

        def run(*args: str) -> str:
            done = subprocess.run(
                [terraform, f"-chdir={module}", *args],
                capture_output=True,
                text=True,
                env=run_env,
                timeout=120,
                check=False,
            )
            if done.returncode != 0:
                raise AssertionError(f"terraform {args[0]} failed:\n{done.stdout}\n{done.stderr}")
            return done.stdout

        run("init", "-backend=false", "-input=false", "-no-color")
        run(
            "apply",
            "-auto-approve",
            "-input=false",
            "-no-color",
            f"-var-file={EXAMPLE_VARS}",
            f"-var-file={overrides}",
        )
        raw = json.loads(run("output", "-json", "-no-color"))
        return {key: raw[key]["value"] for key in expressions}
