"""The web app's budgets: the JavaScript and CSS of its first page, gzipped (at most 150 KB),
and its first render against ``tale serve`` on loopback (under a second).

Size: the files ``index.html`` loads (its module script, stylesheets and module preloads),
each gzipped at level 9, summed; and, for a deployment with Supabase sign-in, the same plus
the chunk that sign-in loads at start (supabase-js, loaded only when ``/config.json`` asks
for it). Every other chunk is listed too.

Render: Debian's Chromium (Playwright, headless) against ``tale serve`` in a subprocess serving
the build. Each run opens a fresh browser context (an empty cache) and measures, in the page's
own clock (``performance.now()`` from the navigation's start, polled every animation frame),
when the page shows its first heading: the sign-in page for a visitor, and the list of tales
for a signed-in user (which also waits for ``/config.json`` and ``GET /v1/tales``). Warm runs
reload the same context (the hashed assets come from the cache). Medians and the slowest run.

    .venv/bin/python bench/bench_web.py --runs 10
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.served import ServeProcess

ROOT = Path(__file__).resolve().parents[1]
SIZE_BUDGET_KB = 150.0
RENDER_BUDGET_MS = 1000.0
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]
SERVE_ENV = {"TALE_OFFLINE_HEIGHT": "160", "TALE_OFFLINE_FPS": "8"}
_ASSET = re.compile(r'<(?:script|link)\b[^>]*?(?:src|href)="(/assets/[^"]+\.(?:js|css))"')


def build(out: Path) -> Path:
    subprocess.run(
        ["npm", "run", "--silent", "build", "--", "--outDir", str(out), "--emptyOutDir"],
        cwd=ROOT / "web",
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return out


def gzipped(path: Path) -> int:
    return len(gzip.compress(path.read_bytes(), compresslevel=9))


def sizes(dist: Path) -> dict[str, Any]:
    index = (dist / "index.html").read_text(encoding="utf-8")
    first = sorted(set(_ASSET.findall(index)))
    everything = sorted(f"/{p.relative_to(dist)}" for p in (dist / "assets").iterdir())
    files = {
        name: {"bytes": (dist / name[1:]).stat().st_size, "gzip": gzipped(dist / name[1:])}
        for name in everything
    }
    first_kb = sum(files[name]["gzip"] for name in first) / 1000
    supabase = [n for n in everything if "supabase" in n and n.endswith(".js")]
    with_supabase_kb = first_kb + sum(files[n]["gzip"] for n in supabase) / 1000
    return {
        "first_page": first,
        "first_page_gzip_kb": round(first_kb, 1),
        "with_supabase_gzip_kb": round(with_supabase_kb, 1),
        "files": files,
    }


def _signed_in_token(base: str) -> str:
    request = urllib.request.Request(
        base + "/dev/token",
        data=json.dumps({"email": "bench@localhost"}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return str(json.loads(response.read())["token"])


HEADING = "() => { const h = document.querySelector('main h1'); return h && performance.now(); }"
TALES = "() => document.querySelector('.tale-list, .empty') && performance.now()"


def render_times(base: str, runs: int, chromium: str) -> dict[str, list[float]]:
    from playwright.sync_api import sync_playwright

    token = _signed_in_token(base)
    out: dict[str, list[float]] = {"sign_in_cold": [], "tales_cold": [], "tales_warm": []}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        warmup = browser.new_context()
        warmup.new_page().goto(base + "/")  # the server's first answers, not the browser's
        warmup.close()
        for _ in range(runs):
            context = browser.new_context(viewport={"width": 390, "height": 844})
            page = context.new_page()
            page.goto(base + "/", wait_until="commit")
            out["sign_in_cold"].append(page.wait_for_function(HEADING, polling="raf").json_value())
            context.close()

            context = browser.new_context(viewport={"width": 390, "height": 844})
            context.add_init_script(f"localStorage.setItem('tale.dev-token', {json.dumps(token)})")
            page = context.new_page()
            page.goto(base + "/", wait_until="commit")
            out["tales_cold"].append(page.wait_for_function(TALES, polling="raf").json_value())
            page.reload(wait_until="commit")
            out["tales_warm"].append(page.wait_for_function(TALES, polling="raf").json_value())
            context.close()
        browser.close()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--dist", type=Path, help="a build to measure (default: build one)")
    parser.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="tale-bench-web-") as tmp:
        dist = args.dist or build(Path(tmp) / "dist")
        size = sizes(dist)
        with ServeProcess(Path(tmp) / "home", {**SERVE_ENV, "TALE_WEB_DIR": str(dist)}) as served:
            times = render_times(served.base, args.runs, args.chromium)
    summary = {
        name: {"median_ms": round(statistics.median(v), 1), "max_ms": round(max(v), 1)}
        for name, v in times.items()
    }
    over = [
        size["first_page_gzip_kb"] > SIZE_BUDGET_KB,
        size["with_supabase_gzip_kb"] > SIZE_BUDGET_KB,
        *(s["median_ms"] > RENDER_BUDGET_MS for s in summary.values()),
    ]
    if args.json:
        print(json.dumps({"size": size, "render": summary, "runs": times}, indent=2))
        return 1 if any(over) else 0
    print(
        f"first page, JS+CSS gzipped: {size['first_page_gzip_kb']} KB "
        f"(budget {SIZE_BUDGET_KB:.0f} KB): {', '.join(size['first_page'])}"
    )
    print(f"with Supabase sign-in (production): {size['with_supabase_gzip_kb']} KB")
    for name, figures in size["files"].items():
        print(
            f"  {name}: {figures['bytes'] / 1000:.1f} KB, gzipped {figures['gzip'] / 1000:.1f} KB"
        )
    print(
        f"first render against tale serve on loopback, {args.runs} runs "
        f"(budget {RENDER_BUDGET_MS:.0f} ms):"
    )
    labels = {
        "sign_in_cold": "sign-in page, empty cache",
        "tales_cold": "my tales (signed in), empty cache",
        "tales_warm": "my tales (signed in), cached assets",
    }
    for name, figures in summary.items():
        print(f"  {labels[name]}: median {figures['median_ms']} ms, slowest {figures['max_ms']} ms")
    return 1 if any(over) else 0


if __name__ == "__main__":
    raise SystemExit(main())
