"""A person at the web app, as the browser tests drive it: one Chromium context per visit
(its own storage, viewport and downloads), every page's problems collected (uncaught errors,
console errors, content security policy violations), axe-core run on a page, screenshots."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BLOCKING = ("serious", "critical")
"""axe-core impacts that fail a page."""
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


@dataclass
class Visit:
    page: Any
    base: str
    label: str
    screenshots: Path
    axe_source: str
    problems: list[str] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)

    @classmethod
    def open(
        cls,
        browser: Any,
        base: str,
        label: str,
        viewport: dict[str, int],
        screenshots: Path,
        axe_source: str,
        locale: str = "en-US",
    ) -> Visit:
        context = browser.new_context(viewport=viewport, accept_downloads=True, locale=locale)
        context.set_default_timeout(30_000)
        visit = cls(context.new_page(), base, label, screenshots, axe_source)
        visit.page.on("pageerror", lambda exc: visit.problems.append(f"page error: {exc}"))
        visit.page.on("console", visit._console)
        return visit

    def _console(self, message: Any) -> None:
        text = message.text
        if "Content Security Policy" in text or "Content-Security-Policy" in text:
            self.problems.append(f"CSP: {text}")
        elif message.type == "error" and not _expected_error(text):
            where = message.location.get("url", "")
            self.problems.append(f"console error: {text} {where[:120]}")

    def close(self) -> None:
        self.page.context.close()

    def goto(self, route: str = "/") -> None:
        self.page.goto(f"{self.base}/#{route}")

    def sign_in(self, email: str) -> None:
        """The development sign-in, as a developer uses it."""
        self.page.goto(f"{self.base}/")
        self.page.get_by_label("Email").fill(email)
        self.page.get_by_role("button", name="Sign in for development").click()
        self.page.get_by_role("heading", name="My tales").wait_for()

    def shot(self, name: str) -> Path:
        path = self.screenshots / self.label / f"{name}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def axe(self, name: str) -> list[dict[str, Any]]:
        """axe-core on the page as it is; the serious and critical violations."""
        if not self.page.evaluate("() => typeof window.axe !== 'undefined'"):
            # Evaluated by the DevTools protocol, so the page's CSP (no inline script) holds.
            self.page.evaluate(self.axe_source + "\n;undefined")
        result = self.page.evaluate(
            "async () => { const r = await axe.run(document, {resultTypes: ['violations']});"
            " return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
            " nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))})); }"
        )
        self.checked.append(name)
        return [v for v in result if v["impact"] in BLOCKING]

    def check(self, name: str) -> None:
        """A page as a person sees it: a screenshot, and axe-core with nothing serious."""
        self.shot(name)
        blocking = self.axe(name)
        assert not blocking, f"{self.label}/{name}: " + json.dumps(blocking, indent=1)


def _expected_error(text: str) -> bool:
    """Console lines the browser writes for answers the app handles itself: a 4xx it shows
    as a problem document (another user's tale, a refused submission)."""
    return bool(re.search(r"status of (4\d\d)", text))
