"""terraform/scripts/package_source.py: the archive every function deploys."""

from __future__ import annotations

import importlib.util
import io
import tomllib
import zipfile
from pathlib import Path
from types import ModuleType

import pytest

from shared.registry import FUNCTIONS

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "terraform" / "scripts" / "package_source.py"


@pytest.fixture(scope="module")
def package() -> ModuleType:
    spec = importlib.util.spec_from_file_location("package_source", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def archive(package: ModuleType) -> bytes:
    data: bytes = package.build(ROOT)
    return data


def test_the_archive_has_the_entry_points_and_their_packages(archive: bytes) -> None:
    names = set(zipfile.ZipFile(io.BytesIO(archive)).namelist())
    assert "main.py" in names
    assert "requirements.txt" in names
    for spec in FUNCTIONS:
        assert f"functions/{spec.name}.py" in names
    assert "shared/registry.py" in names
    assert "shared/__init__.py" in names
    assert any(n.startswith("schemas/json/") and n.endswith(".json") for n in names)
    for name in names:
        top = name.split("/", 1)[0]
        assert top in {"main.py", "requirements.txt", "functions", "shared", "schemas"}, name
        assert "__pycache__" not in name and not name.endswith(".pyc"), name


def test_main_exports_every_entry_point(archive: bytes) -> None:
    main = zipfile.ZipFile(io.BytesIO(archive)).read("main.py").decode()
    for spec in FUNCTIONS:
        assert f"import {spec.name}" in main, spec.name


def test_requirements_are_the_project_dependencies(archive: bytes) -> None:
    text = zipfile.ZipFile(io.BytesIO(archive)).read("requirements.txt").decode()
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert text.splitlines() == project["dependencies"]
    assert any(line.startswith("functions-framework") for line in text.splitlines())


def test_the_archive_is_reproducible_and_named_by_its_content(
    package: ModuleType, archive: bytes, tmp_path: Path
) -> None:
    assert package.build(ROOT) == archive
    name = package.object_name(archive)
    assert name.startswith("functions/") and name.endswith(".zip")
    out, name_file = tmp_path / "source.zip", tmp_path / "object"
    assert package.main(["--out", str(out), "--name-file", str(name_file)]) == 0
    assert out.read_bytes() == archive
    assert name_file.read_text().strip() == name


def test_an_unknown_extra_is_refused(package: ModuleType) -> None:
    with pytest.raises(SystemExit):
        package.requirements(ROOT, ["no-such-extra"])


def test_a_shipped_font_lands_where_tale_font_points(package: ModuleType) -> None:
    """Cloud Functions has no CJK font: the archive carries one at fonts/, and terraform
    points TALE_FONT at /workspace/fonts/ (where the source is unpacked)."""
    from shared.media.fonts import find_font

    font = find_font()
    archive = zipfile.ZipFile(io.BytesIO(package.build(ROOT, fonts=[font])))
    assert f"fonts/{font.name}" in archive.namelist()
    assert archive.read(f"fonts/{font.name}") == font.read_bytes()
    functions_tf = (ROOT / "terraform" / "functions.tf").read_text()
    assert 'TALE_FONT = "/workspace/fonts/NotoSansCJK-Regular.ttc"' in functions_tf
    cloudbuild = (ROOT / "cloudbuild.yaml").read_text()
    assert "--font=/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc" in cloudbuild
