"""The web app in a real browser: Debian's Chromium driven by Playwright against a real
``tale serve`` subprocess whose local runtime renders the tales (2 shots of 4 s, small frames).

A person signs in with a development account, writes a story with approval on (the cost shown
before submitting), sees the storyboard, edits one shot's narration, approves, watches the
progress reach 100 %, plays the video (its time advances, its length is the tale's, it has a
captions track) and downloads it — on a desktop screen and on a 390×844 phone. Another user's
tale is "not found". Every page passes axe-core with no serious or critical violation and is
saved as a screenshot in build/web-screenshots/.
"""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bench.served import Served
from tests.web.browsing import DESKTOP, PHONE, Visit

pytestmark = pytest.mark.slow

STORY = "Mina walked to the sea. Mina saw a fox. The fox and Mina became friends."
EDITED = "The fox and Mina were friends at last."


@pytest.fixture
def visit_factory(
    browser: Any, served: Served, screenshots: Path, axe_source: str
) -> Iterator[Any]:
    opened: list[Visit] = []

    def open_visit(label: str, viewport: dict[str, int], locale: str = "en-US") -> Visit:
        visit = Visit.open(browser, served.base, label, viewport, screenshots, axe_source, locale)
        opened.append(visit)
        return visit

    yield open_visit
    problems = [f"{v.label}: {p}" for v in opened for p in v.problems]
    for visit in opened:
        visit.close()
    assert not problems, "\n".join(problems)


def api(served: Served, visit: Visit, path: str) -> Any:
    """The API as the signed-in page sees it (the page's own token)."""
    token = visit.page.evaluate("() => localStorage.getItem('tale.dev-token')")
    headers = {"Authorization": f"Bearer {token}"}
    request = urllib.request.Request(served.base + path, headers=headers)
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def captions_endpoint(served: Served) -> bool:
    with urllib.request.urlopen(served.base + "/v1/openapi.json", timeout=10) as response:
        return "/v1/tales/{tale_id}/captions.vtt" in json.loads(response.read())["paths"]


def watch_progress(visit: Visit, timeout_s: float = 120) -> list[int]:
    """The progress bar's values until the video is there."""
    seen: list[int] = []
    deadline = time.monotonic() + timeout_s
    page = visit.page
    while time.monotonic() < deadline:
        value = page.evaluate(
            "() => { const p = document.querySelector('#tale-progress');"
            " return p ? Number(p.value) : null; }"
        )
        if value is not None and (not seen or seen[-1] != value):
            seen.append(int(value))
        if page.locator("video#tale-video").count() and value == 100:
            return seen
        failed = page.get_by_text("This tale failed").count()
        assert not failed, page.inner_text("main")
        page.wait_for_timeout(50)
    raise AssertionError(f"the tale did not finish; progress seen: {seen}")


def write_story(visit: Visit) -> str:
    page = visit.page
    page.get_by_role("link", name="New tale").first.click()
    page.get_by_role("heading", name="Write a story").wait_for()
    page.get_by_label("Your story").fill(STORY)
    page.get_by_label("Shots (1–16)").fill("2")
    page.get_by_label("Seconds a shot").select_option("4")
    assert page.get_by_label("Show me the storyboard to approve before rendering").is_checked()
    page.get_by_text("Cost: 1 credit (you have 16)").wait_for()
    page.get_by_text("Estimated generation cost: $").wait_for()
    visit.check("new-tale")
    page.get_by_role("button", name="Create the tale").click()
    page.get_by_role("heading", name="Your storyboard").wait_for()
    return page.url.rsplit("/", 1)[-1]


def edit_and_approve(visit: Visit, served: Served, tale_id: str) -> None:
    page = visit.page
    assert page.get_by_label("Narration").count() == 2
    page.get_by_text("Cost: 1 credit", exact=True).wait_for()
    visit.check("storyboard-editor")
    page.locator("#narration-2").fill(EDITED)
    page.get_by_role("button", name="Save changes").click()
    page.get_by_text("Saved.").wait_for()
    stored = api(served, visit, f"/v1/tales/{tale_id}/storyboard")
    assert stored["version"] == 2 and stored["shots"][1]["narration"] == EDITED
    assert stored["status"] == "awaiting_approval"
    page.get_by_role("button", name="Approve and render").click()


def check_storyboard_images(visit: Visit) -> None:
    page = visit.page
    reference = page.get_by_role("img", name="Reference image of Mina")
    reference.wait_for()
    thumbs = page.locator(".storyboard img.thumb")
    assert thumbs.count() == 2
    for n in range(thumbs.count()):  # lazy images load once they come into view
        thumbs.nth(n).scroll_into_view_if_needed()
    page.wait_for_function(
        "() => [...document.querySelectorAll('.storyboard img')]"
        ".every(i => i.complete && i.naturalWidth > 0)",
        timeout=10_000,
    )
    loaded = page.evaluate(
        "() => [...document.querySelectorAll('.storyboard img')]"
        ".map(i => i.complete && i.naturalWidth > 0)"
    )
    assert loaded and all(loaded), loaded
    assert page.locator(".storyboard .narration").nth(1).inner_text().endswith(EDITED)


def check_video(visit: Visit, served: Served, tmp_path: Path, *, captions: bool) -> None:
    page = visit.page
    video = page.locator("video#tale-video")
    page.wait_for_function(
        "() => { const v = document.querySelector('#tale-video'); return v && v.readyState >= 1; }"
    )
    duration = video.evaluate("v => v.duration")
    assert abs(duration - 8.0) < 0.3, duration  # 2 shots of 4 s
    assert video.get_attribute("poster")
    if captions:
        page.wait_for_function(
            "() => { const v = document.querySelector('#tale-video');"
            " const t = v.querySelector('track[kind=captions]');"
            " return t && t.readyState === 2 && v.textTracks[0].cues.length > 0; }"
        )
    started = video.evaluate("v => { v.muted = true; return v.play().then(() => v.currentTime); }")
    page.wait_for_timeout(1200)
    later = video.evaluate("v => v.currentTime")
    assert later > started + 0.3, (started, later)
    assert video.evaluate("v => v.error") is None
    with page.expect_download() as download:
        page.get_by_role("link", name="Video (MP4)").click()
    saved = tmp_path / f"{visit.label}.mp4"
    download.value.save_as(saved)
    data = saved.read_bytes()
    assert len(data) > 1000 and data[4:8] == b"ftyp"


@pytest.mark.parametrize("label,viewport", [("desktop", DESKTOP), ("phone", PHONE)])
def test_write_approve_watch_and_play_a_tale(
    visit_factory: Any, served: Served, tmp_path: Path, label: str, viewport: dict[str, int]
) -> None:
    visit: Visit = visit_factory(label, viewport)
    visit.goto("/")
    visit.page.get_by_role("heading", name="Sign in").wait_for()
    visit.check("sign-in")
    visit.sign_in(f"{label}-writer@localhost")
    tale_id = write_story(visit)
    edit_and_approve(visit, served, tale_id)
    visit.page.locator("#tale-progress").wait_for()
    visit.check("progress")
    seen = watch_progress(visit)
    assert seen[-1] == 100 and seen == sorted(seen), seen
    visit.page.get_by_text("100 %").wait_for()
    check_storyboard_images(visit)
    check_video(visit, served, tmp_path, captions=captions_endpoint(served))
    visit.check("video")
    if label == "phone":
        width = visit.page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= viewport["width"], f"the page scrolls sideways: {width} px"
    visit.goto("/")
    visit.page.get_by_role("link", name="Mina walked to the sea").wait_for()
    assert visit.page.get_by_text("Finished").count() >= 1
    visit.check("my-tales")


def test_revise_a_shot_of_a_finished_tale(visit_factory: Any, served: Served) -> None:
    visit: Visit = visit_factory("desktop", DESKTOP)
    visit.sign_in("reviser@localhost")
    page = visit.page
    tale_id = write_story(visit)
    page.get_by_role("button", name="Approve and render").click()
    watch_progress(visit)
    page.get_by_role("heading", name="Revise a shot").wait_for()
    page.get_by_label("Shot", exact=True).select_option("2")
    page.get_by_label("New narration (optional)").fill("Mina waved goodbye.")
    page.get_by_text("Cost: 1 credit").wait_for()
    visit.check("revision")
    page.get_by_role("button", name="Render shot 2 again").click()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        cuts = api(served, visit, f"/v1/tales/{tale_id}/revisions")
        if cuts["revision"] == 1 and cuts["status"] == "completed":
            break
        time.sleep(0.2)
    assert cuts["revision"] == 1 and len(cuts["cuts"]) == 2, cuts
    page.get_by_role("link", name="Revision 1").wait_for()
    page.get_by_text("Mina waved goodbye.").first.wait_for()


def test_another_users_tale_is_not_found(visit_factory: Any, served: Served) -> None:
    owner = served.token()
    status, tale = served.call(
        "POST",
        "/v1/tales",
        owner,
        {
            "text": "A secret lighthouse keeper counted ships.",
            "shot_count": 1,
            "shot_seconds": 4,
            "options": {"approval_required": True},
        },
    )
    assert status == 201, tale
    visit: Visit = visit_factory("desktop", DESKTOP)
    visit.sign_in("stranger@localhost")
    for tale_id in (tale["id"], "tale-0000000000"):
        visit.goto(f"/tales/{tale_id}")
        visit.page.get_by_role("heading", name="Tale not found").wait_for()
        text = visit.page.inner_text("main")
        assert "lighthouse" not in text.lower() and "Your storyboard" not in text
    visit.check("tale-not-found")


def test_a_refusal_is_shown_in_words(visit_factory: Any, served: Served) -> None:
    """Not enough credits: the estimate warns before, the problem document explains after."""
    visit: Visit = visit_factory("phone", PHONE)
    visit.sign_in("spender@localhost")
    token = visit.page.evaluate("() => localStorage.getItem('tale.dev-token')")
    status, _ = served.call(
        "POST",
        "/v1/tales",
        token,
        {
            "text": "A long voyage.",
            "shot_count": 15,
            "shot_seconds": 8,
            "options": {"approval_required": True},
        },
    )
    assert status == 201
    page = visit.page
    page.get_by_role("link", name="New tale").first.click()
    page.get_by_label("Your story").fill(STORY)
    page.get_by_text("Cost: 8 credits (you have 1)").wait_for()
    page.get_by_text("Your balance does not cover this tale.").wait_for()
    page.get_by_role("button", name="Create the tale").click()
    alert = page.get_by_role("alert").filter(has_text="Not enough credits for this.")
    alert.wait_for()
    assert "credit" in alert.inner_text().split("\n", 1)[-1]  # the API's own detail
    visit.check("insufficient-credits")


def test_every_other_page(visit_factory: Any, served: Served) -> None:
    visit: Visit = visit_factory("phone", PHONE)
    visit.sign_in("reader@localhost")
    page = visit.page
    page.get_by_role("link", name="Plan & credits").click()
    page.get_by_text("16 credits").first.wait_for()
    visit.check("account")
    page.get_by_role("button", name="Upgrade to Pro").click()
    page.wait_for_function(
        "() => !location.hash.startsWith('#/account') || document.querySelector('[role=alert]')"
    )
    if page.url.startswith(served.base + "/#/account"):  # no billing here: its problem, in words
        assert page.get_by_role("alert").inner_text().strip()
    else:  # the billing API's checkout page (the local provider's, or Stripe's)
        assert "/billing" in page.url or "stripe" in page.url, page.url
    visit.goto("/trends")
    page.get_by_role("heading", name="Trends").wait_for()
    page.locator(".trend-list > li").first.wait_for()
    visit.check("trends")
    page.get_by_role("link", name="Start a tale from this").first.click()
    page.get_by_role("heading", name="Write a story").wait_for()
    idea = page.locator(".card h2").inner_text()
    page.get_by_label("Shots (1–16)").fill("1")
    page.get_by_label("Seconds a shot").select_option("4")
    page.get_by_text("Cost: 1 credit (you have 16)").wait_for()
    visit.check("new-tale-from-trend")
    page.get_by_role("button", name="Create the tale").click()
    page.get_by_role("heading", name="Your storyboard").wait_for()  # a trend's tale stops there
    assert page.get_by_role("heading", level=1).inner_text() == idea
    visit.goto("/nowhere")
    page.get_by_role("heading", name="Page not found").wait_for()
    visit.check("not-found")


def test_korean_and_japanese(visit_factory: Any) -> None:
    visit: Visit = visit_factory("phone-ko", PHONE, locale="ko-KR")
    page = visit.page
    visit.goto("/")
    page.get_by_role("heading", name="로그인").wait_for()
    assert page.evaluate("() => document.documentElement.lang") == "ko"
    visit.check("sign-in")
    page.get_by_label("이메일").fill("hana@localhost")
    page.get_by_role("button", name="개발용으로 로그인").click()
    page.get_by_role("heading", name="내 이야기").wait_for()
    page.get_by_role("link", name="새 이야기").first.click()
    page.get_by_text("비용: 8 크레딧 (보유 16)").wait_for()
    visit.check("new-tale")
    page.get_by_label("언어", exact=True).select_option("ja")
    page.get_by_role("heading", name="物語を書く").wait_for()
    assert page.evaluate("() => document.documentElement.lang") == "ja"
    visit.check("new-tale-ja")


def test_keyboard_only(visit_factory: Any) -> None:
    visit: Visit = visit_factory("keyboard", DESKTOP)
    page = visit.page
    visit.goto("/")
    page.get_by_role("heading", name="Sign in").wait_for()
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.textContent") == "Skip to content"
    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.id") == "main"
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.id") == "dev-email"
    page.keyboard.press("Control+A")
    page.keyboard.type("keys@localhost")
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="My tales").wait_for()
    for _ in range(10):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.textContent") == "New tale":
            break
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Write a story").wait_for()
    focused = page.evaluate("() => document.activeElement.id")
    assert focused == "main"  # a new page starts at its content


def test_the_page_carries_its_security_policy(served: Served) -> None:
    with urllib.request.urlopen(served.base + "/", timeout=10) as response:
        policy = response.headers["Content-Security-Policy"]
        page = response.read().decode()
    assert "script-src 'self';" in policy and "'unsafe-inline'" not in policy
    assert "<script>" not in page and "style=" not in page  # nothing inline to allow
