"""The web app's real peers: npm (its build and Vitest), a real ``tale serve`` in its own
process with the local runtime rendering tales, and Debian's Chromium driven by Playwright.

Each is found or started here; where one is missing the tests that need it are skipped with
the reason — except under ``CI=true``, where that is a failure, as for every real part.
Chromium is ``/usr/bin/chromium`` (``install.sh`` installs Debian's package; ``TALE_CHROMIUM``
names another); Playwright's own browser download does not work here and is never used.
Screenshots of every page go to ``build/web-screenshots/`` (the README says so).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bench.served import Served, ServeProcess
from tests.peers import missing_peer

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "web"
SCREENSHOTS = ROOT / "build" / "web-screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
    "--autoplay-policy=no-user-gesture-required",
]
SERVE_ENV = {
    # Small tales render in seconds: small frames, quick retries, frequent progress polls.
    "TALE_OFFLINE_HEIGHT": "160",
    "TALE_OFFLINE_FPS": "8",
    "TALE_RETRY_MIN_BACKOFF_S": "0.05",
    "TALE_RETRY_MAX_BACKOFF_S": "0.2",
    "TALE_EVENTS_POLL_S": "0.2",
    "TALE_API_RATE_PER_MINUTE": "100000",
    "TALE_API_MAX_RUNNING_TALES": "10",
}


def unavailable(reason: str) -> None:
    missing_peer(reason)


def npm(*args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """``npm`` in ``web/``; a missing npm skips (fails under CI=true)."""
    binary = shutil.which("npm")
    if binary is None or shutil.which("node") is None:
        unavailable("npm and Node.js are needed for the web app (install Node.js 20 and npm)")
    assert binary is not None
    return subprocess.run(
        [binary, *args],
        cwd=WEB,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env={**os.environ, "NO_COLOR": "1", "FORCE_COLOR": "0"},
    )


def _installed() -> bool:
    marker = WEB / "node_modules" / ".package-lock.json"
    lock = WEB / "package-lock.json"
    return marker.exists() and marker.stat().st_mtime >= lock.stat().st_mtime


@pytest.fixture(scope="session")
def node_modules() -> Path:
    """``web/node_modules`` as package-lock.json pins it (``install.sh`` does this first)."""
    if not _installed():
        done = npm("ci", "--no-audit", "--no-fund", "--loglevel=error")
        if done.returncode != 0:
            unavailable(f"npm ci in web/ failed: {done.stderr[-2000:]}")
    return WEB / "node_modules"


@pytest.fixture(scope="session")
def web_build(node_modules: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The app built from the current sources (type-checked, then Vite) into a folder of its
    own, so a developer's ``web/dist`` is neither used nor touched."""
    out = tmp_path_factory.mktemp("web") / "dist"
    done = npm("run", "build", "--", "--outDir", str(out), "--emptyOutDir", "--logLevel", "warn")
    output = (done.stdout + done.stderr)[-6000:]
    assert done.returncode == 0, f"npm run build failed:\n{output}"
    return out


@pytest.fixture(scope="session")
def served(web_build: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """``tale serve`` in its own process, serving the build, rendering small tales."""
    home = tmp_path_factory.mktemp("web-serve") / "home"
    env = {**os.environ, **SERVE_ENV, "TALE_HOME": str(home)}
    # Trends to start a tale from: the trend scout on its shipped sample data (offline).
    trends = subprocess.run(
        [sys.executable, "-m", "shared.cli.main", "trends", "run", "--sample"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert trends.returncode == 0, trends.stdout + trends.stderr
    with ServeProcess(home, {**SERVE_ENV, "TALE_WEB_DIR": str(web_build)}) as running:
        yield running


def chromium_path() -> str:
    path = os.environ.get("TALE_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).exists():
        unavailable("Chromium is needed for the browser tests (apt-get install chromium)")
    return path


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's Chromium, headless, driven by Playwright."""
    executable = chromium_path()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("Playwright is needed for the browser tests (pip install -e '.[dev]')")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="session")
def axe_source(node_modules: Path) -> str:
    """axe-core, from the npm package pinned in web/package-lock.json (never fetched)."""
    return (node_modules / "axe-core" / "axe.min.js").read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
