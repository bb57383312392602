#!/usr/bin/env python3
"""Build the Cloud Functions source archive: a reproducible zip of the code every function
deploys (``main.py`` exports every entry point), plus a ``requirements.txt`` made from
``pyproject.toml``'s dependencies — what the Python buildpack installs.

The archive is deterministic (sorted entries, fixed timestamps and modes), so its object name
can be its content hash: unchanged code uploads to the same object, and Terraform redeploys
the functions only when the code really changed::

    python terraform/scripts/package_source.py --out build/source.zip --name-file build/object
    # → build/source.zip, and build/object containing functions/<hash>.zip

Standard library only: it runs in CI before any dependency is installed.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import sys
import tomllib
import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

#: What the functions import: the entry points and the packages behind them.
INCLUDE_FILES = ("main.py",)
INCLUDE_PACKAGES = ("functions", "shared", "schemas")
EXCLUDE_DIRS = {"__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache"}
EXCLUDE_SUFFIXES = {".pyc", ".pyo"}
EPOCH = (1980, 1, 1, 0, 0, 0)


def requirements(root: Path, extras: Sequence[str] = ()) -> str:
    """``requirements.txt``: the project's dependencies and those of the named extras."""
    project = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    deps = list(project.get("dependencies", []))
    optional = project.get("optional-dependencies", {})
    for extra in extras:
        if extra not in optional:
            raise SystemExit(f"pyproject.toml has no optional dependency group {extra!r}")
        deps += [d for d in optional[extra] if d not in deps]
    return "".join(f"{d}\n" for d in deps)


def source_files(root: Path) -> Iterator[tuple[str, Path]]:
    """(archive name, path) of every file to ship, sorted."""
    found: list[tuple[str, Path]] = [(name, root / name) for name in INCLUDE_FILES]
    for package in INCLUDE_PACKAGES:
        for path in (root / package).rglob("*"):
            rel = path.relative_to(root)
            if not path.is_file() or EXCLUDE_DIRS.intersection(rel.parts[:-1]):
                continue
            if path.suffix in EXCLUDE_SUFFIXES:
                continue
            found.append((rel.as_posix(), path))
    yield from sorted(found)


#: Where a shipped font lands in the archive; functions find it at /workspace/fonts/… through
#: ``TALE_FONT`` (Cloud Functions has no system font with Hangul).
FONT_DIR = "fonts"


def build(root: Path, extras: Sequence[str] = (), fonts: Sequence[Path] = ()) -> bytes:
    """The archive's bytes (identical for identical sources)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        entries: list[tuple[str, Path | None]] = [*source_files(root), ("requirements.txt", None)]
        entries += [(f"{FONT_DIR}/{font.name}", font) for font in fonts]
        for name, path in sorted(entries, key=lambda e: e[0]):
            data = requirements(root, extras).encode() if path is None else path.read_bytes()
            info = zipfile.ZipInfo(name, date_time=EPOCH)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)
    return buf.getvalue()


def object_name(archive: bytes, prefix: str = "functions/") -> str:
    return f"{prefix}{hashlib.sha256(archive).hexdigest()[:20]}.zip"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="where to write the zip")
    parser.add_argument("--name-file", type=Path, help="write the object name here")
    parser.add_argument(
        "--extra", action="append", default=[], help="also install this optional extra"
    )
    parser.add_argument(
        "--font",
        type=Path,
        action="append",
        default=[],
        help="ship this font file in fonts/ (Korean text needs one with Hangul)",
    )
    parser.add_argument("--root", type=Path, default=ROOT, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    for font in args.font:
        if not font.is_file():
            raise SystemExit(f"no such font file: {font}")

    archive = build(args.root, args.extra, args.font)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(archive)
    name = object_name(archive)
    if args.name_file:
        args.name_file.parent.mkdir(parents=True, exist_ok=True)
        args.name_file.write_text(name + "\n", encoding="utf-8")
    print(name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
