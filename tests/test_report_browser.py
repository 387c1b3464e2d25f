"""Issue 21: the report opened in Chromium (Playwright, the system Chromium, as tests/test_browser.py).

It renders, its three plots are loaded and visible, the console stays free of errors, nothing is
fetched but the page itself (no CDN, no font, no request for the hostile ``<img src=x>`` a student
id carries), no dialog opens, and a feedback link leads to the feedback page. A full-page
screenshot is kept in $ATTNKIT_SCREENSHOTS (else the test's temporary folder).
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from browser import jlab
from test_report import HOSTILE_FLAG, HOSTILE_ID, QUIZ, make_course

from attnkit.grading.course import synthetic
from attnkit.grading.report import command

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def chromium():
    playwright_api = pytest.importorskip("playwright.sync_api")
    executable = jlab.chromium_path()
    if executable is None:
        pytest.skip("no Chromium at /usr/bin/chromium or on the PATH")
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=jlab.CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def report_page(tmp_path_factory) -> Path:
    course = make_course(tmp_path_factory.mktemp("report-browser"))
    sol = synthetic.solution(course, QUIZ)
    students = synthetic.synthetic_class(sol, QUIZ, 200, seed=7, ids=[HOSTILE_ID, "timmy"])
    students[0].status, students[0].flags = "flagged", [HOSTILE_FLAG]
    students[1].status = "timed out"
    synthetic.write_gradebook(f"sqlite:///{course / 'gradebook.db'}", sol, QUIZ, students)
    page = course / "feedback" / "timmy" / QUIZ / f"{QUIZ}.html"
    page.parent.mkdir(parents=True)
    page.write_text("<!DOCTYPE html><html lang='en'><head><title>timmy's feedback</title></head>"
                    "<body><h1>feedback</h1></body></html>")
    _, paths = command.build(course, [QUIZ])
    return paths[0]


def test_the_report_renders_offline_in_chromium(chromium, report_page, tmp_path):
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    errors, requests, dialogs = [], [], []
    tab.on("console", lambda m: errors.append(m.text) if m.type in ("error", "warning") else None)
    tab.on("pageerror", lambda e: errors.append(str(e)))
    tab.on("request", lambda r: requests.append(r.url))
    tab.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    url = report_page.as_uri()
    tab.goto(url, wait_until="load")
    assert tab.title() == f"{QUIZ}: what the class got wrong"
    images = tab.locator("img")
    assert images.count() == 3, "three plots, and no image made from a student id"
    for i in range(3):
        image = images.nth(i)
        image.scroll_into_view_if_needed()
        assert image.is_visible()
        assert image.evaluate("i => i.complete && i.naturalWidth > 300 && i.naturalHeight > 150")
        assert len(image.get_attribute("alt")) > 80
    assert tab.get_by_text(HOSTILE_ID, exact=True).count() >= 1, "the hostile id is shown as text"
    assert tab.get_by_text(HOSTILE_FLAG).count() == 1
    shots = Path(os.environ.get("ATTNKIT_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    tab.evaluate("window.scrollTo(0, 0)")
    tab.screenshot(path=str(shots / "report_q4_top.png"))
    tab.screenshot(path=str(shots / "report_q4_full.png"), full_page=True)
    link = tab.get_by_role("link", name="timmy").first
    link.click()
    tab.wait_for_load_state("load")
    assert tab.title() == "timmy's feedback"
    assert not errors, errors
    assert not dialogs, dialogs
    fetched = [r for r in requests if not r.startswith(("data:", url)) and not r.endswith("/timmy/q4_qkv_math/"
                                                                                          "q4_qkv_math.html")]
    assert not fetched, f"the report fetched {fetched}"
    context.close()


def test_the_report_has_no_axe_violation(chromium, report_page, tmp_path):
    """axe-core's WCAG 2.1 A/AA rules on the whole report (every element of it is the course's)."""
    import json

    from browser import axe

    if not axe.available():
        pytest.skip(f"axe-core is not installed ({axe.AXE_JS} missing: run `make install`)")
    report = axe.check_html_file(chromium, report_page)
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, offline=True)
    try:  # how the plots are shown: their PNG width and the width on screen (text sizes scale with it)
        tab = context.new_page()
        tab.goto(report_page.as_uri(), wait_until="load")
        shown = tab.locator("img").evaluate_all("imgs => imgs.map(i => [i.naturalWidth, i.clientWidth])")
    finally:
        context.close()
    shots = Path(os.environ.get("ATTNKIT_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    found = {"course": report.by_rule("course"), "plots_png_and_shown_px": shown}
    (shots / "report_axe.json").write_text(json.dumps(found))
    assert not report.course, f"the report: axe finds {len(report.course)} violation(s):\n{report.describe('course')}"
