"""Issue 17: a hostile submission's feedback page and formgrader view, opened in Chromium.

One submission holds the attacks of tests/adversarial/corpus_surfaces.py that reach a page: script,
event handlers, ``javascript:`` links, a remote image and iframe in its Markdown; HTML in the flag
evidence that becomes nbgrader's comment; a link to ``solutions/`` beside the notebook. (Outputs
forged by its kernel never get there: the runner sends text and errors only, so a forged output type
is a protocol violation that ends the kernel (corpus entry ``forged_outputs``); ``SafeOutputs``
behind it is tested in tests/test_feedback.py.) It goes through the real ``nbgrader
autograde`` and ``nbgrader generate_feedback`` of a course directory, then:

* the feedback page (as a student opens it, from the file) and the submission's formgrader view
  (``make lab-instructor``'s server, rooted at the course, on a free 127.0.0.1 port) run none of
  it: ``window.__pwned`` stays unset, the title unchanged, no dialog opens, and every request the
  page makes stays on its own origin (the file itself, its data: images, or the server);
* the link is copied into neither ``autograded/`` nor ``feedback/``;
* nbgrader's generate_feedback page (after the course's post-convert hook) has no axe-core WCAG 2.1
  A/AA violation; formgrader's pages are nbgrader's own: their violations are listed, not failed on.

ATTNKIT_SCREENSHOTS=<dir> keeps the screenshots (else they go to this run's pytest basetemp).
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import nbformat
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from adversarial import corpus  # noqa: E402  (corpus first: it registers corpus_surfaces)
from adversarial.corpus_surfaces import ENTRIES as SURFACES  # noqa: E402
from browser import axe, jlab  # noqa: E402
from browser.lab import running_lab  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.nbgrader, pytest.mark.slow,
              pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the sandbox is Linux-only")]
REPO = Path(__file__).resolve().parents[1]
QUIZ, STUDENT = corpus.QUIZ, "mallory"
HOSTILE = ("script_in_markdown", "html_in_evidence", "symlink_in_folder")


def _hostile(honest: nbformat.NotebookNode) -> tuple[nbformat.NotebookNode, dict[str, str]]:
    entries = [e for e in SURFACES if e.name in HOSTILE]
    nb = honest
    for entry in entries:
        nb = entry.make(nb)
    return nb, {name: kind for e in entries for name, kind in e.extra.items()}


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    from attnkit.grading.course.nbgrader_cli import make_course, nbgrader
    from attnkit.grading.grader import sandbox

    sandbox.check_available()
    course = make_course(tmp_path_factory.mktemp("surfaces") / "course", [QUIZ])
    release = nbformat.read(course / "quizzes" / QUIZ / f"{QUIZ}.ipynb", as_version=4)
    honest = corpus.honest_notebook(release, nbformat.read(REPO / "solutions" / QUIZ / f"{QUIZ}.ipynb", as_version=4))
    nb, extra = _hostile(honest)
    entry = corpus.Entry("mallory", "all the surfaces", lambda _: nb, (), "flagged", extra=extra)
    corpus.build(entry, honest, course / "submitted" / STUDENT / QUIZ, course=course, port=9, canary="/nonexistent")
    nbgrader(["autograde", QUIZ, "--force", "--JudgeInSandbox.timeout=20"], course)
    nbgrader(["generate_feedback", QUIZ, "--force"], course)
    return course


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    executable = jlab.chromium_path()
    if executable is None:
        pytest.skip("no Chromium at /usr/bin/chromium or on the PATH")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=jlab.CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    folder = Path(os.environ.get("ATTNKIT_SCREENSHOTS") or tmp_path_factory.mktemp("surface-screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _visit(browser, url: str, own_origin: tuple[str, ...], shot: Path, ready: str | None = None,
           headers: dict[str, str] | None = None) -> dict:
    """Open ``url`` (and wait for the JavaScript condition ``ready``); return what ran and what was
    asked for: requests, dialogs, script errors of the page, its state."""
    context = browser.new_context(viewport={"width": 1300, "height": 1000}, extra_http_headers=headers)
    page = context.new_page()
    requests: list[str] = []
    dialogs: list[str] = []
    errors: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("response", lambda r: errors.append(f"HTTP {r.status} {r.url}") if r.status >= 400 else None)
    try:
        page.goto(url, wait_until="load", timeout=60_000)
        if ready:
            try:
                page.wait_for_function(ready, timeout=60_000)
            except Exception as exc:  # noqa: BLE001  (reported with the rest below)
                errors.append(f"never ready ({ready}): {type(exc).__name__}")
        page.wait_for_timeout(2_000)  # late handlers (onerror of a failed image, timers) get their chance
        for link in page.locator("a").all()[:80]:  # a click on every link must not run script either
            href = link.get_attribute("href") or ""
            if href.startswith("javascript:"):
                dialogs.append(f"javascript: link left in the page: {href[:80]}")
        state = page.evaluate("() => ({pwned: window.__pwned === undefined ? null : String(window.__pwned),"
                              " title: document.title, text: document.body.innerText})")
        page.screenshot(path=str(shot), full_page=True)
    finally:
        context.close()
    leaving = [u for u in requests if not u.startswith(own_origin)]
    return {**state, "requests": requests, "leaving": leaving, "dialogs": dialogs, "errors": errors}


def _inert(seen: dict, where: str) -> None:
    assert seen["pwned"] is None, f"{where}: a script ran (window.__pwned = {seen['pwned']})"
    assert "PWNED" not in seen["title"], f"{where}: a script changed the title to {seen['title']!r}"
    assert seen["dialogs"] == [], f"{where}: {seen['dialogs']}"
    assert seen["leaving"] == [], f"{where}: requests left the page: {seen['leaving']}"
    assert seen["errors"] == [], f"{where}: the page's own scripts failed: {seen['errors']}"


def test_links_are_copied_nowhere(course: Path) -> None:
    for folder in ("autograded", "feedback"):
        copied = course / folder / STUDENT / QUIZ
        assert copied.is_dir(), f"nothing in {folder}/"
        names = sorted(p.name for p in copied.iterdir())
        assert "notes.txt" not in names and "answers" not in names, (folder, names)
        assert not any(p.is_symlink() for p in copied.rglob("*")), (folder, names)
    with open(course / "grading_status.csv") as fh:
        row = next(line for line in fh if line.startswith(STUDENT))
    assert "notes.txt is a symbolic link" in row and ",flagged," in row, row


def test_the_feedback_page_runs_nothing_and_loads_nothing(course: Path, browser, shots: Path) -> None:
    page = course / "feedback" / STUDENT / QUIZ / f"{QUIZ}.html"
    html = page.read_text()
    assert '<html lang="en"' in html and "attnkit-contrast" in html  # the post-convert hook's WCAG fixes
    seen = _visit(browser, page.as_uri(), (page.as_uri(), "data:"), shots / "feedback_hostile.png")
    _inert(seen, "feedback page")
    assert "onerror=" in seen["text"], "the learner's raw HTML should show as text"
    assert "<script>alert('PWNED')</script>" in seen["text"], "the flag evidence should show as text"


def test_the_formgrader_view_runs_nothing_and_loads_nothing(course: Path, browser, shots: Path,
                                                            tmp_path: Path) -> None:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        notebook_id = gb.find_submission_notebook(QUIZ, QUIZ, STUDENT).id
    with running_lab(tmp_path, target="lab-instructor", root=course) as lab:
        url = f"{lab.url}/formgrader/submissions/{notebook_id}/?index=0"
        # formgrader works: its scripts showed the autograded score and the status comment
        ready = ("() => document.getElementById('test_softmax')?.placeholder === '2'"
                 " && [...document.querySelectorAll('textarea.comment')].some("
                 "t => t.placeholder.includes('attnkit grading status: flagged'))")
        seen = _visit(browser, url, (lab.url + "/",), shots / "formgrader_hostile.png", ready,
                      headers={"Authorization": f"token {lab.token}"})  # the page and its API calls
    _inert(seen, "formgrader")
    assert "onerror=" in seen["text"], seen["text"][:2000]


def _axe_or_skip() -> None:
    if not axe.available():
        pytest.skip(f"axe-core is not installed ({axe.AXE_JS} missing: run `make install`)")


def test_the_generate_feedback_page_has_no_axe_violation(course: Path, browser, shots: Path) -> None:
    import json

    _axe_or_skip()
    page = course / "feedback" / STUDENT / QUIZ / f"{QUIZ}.html"
    report = axe.check_html_file(browser, page)
    (shots / "generate_feedback_axe.json").write_text(json.dumps({"course": report.by_rule("course")}))
    assert not report.course, (f"nbgrader's feedback page: axe finds {len(report.course)} violation(s):\n"
                               f"{report.describe('course')}")


def test_formgrader_pages_are_listed_not_failed(course: Path, browser, shots: Path, tmp_path: Path) -> None:
    """formgrader is nbgrader's: axe's findings on its assignment list and a submission are printed."""
    import json

    from nbgrader.api import Gradebook

    _axe_or_skip()
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        notebook_id = gb.find_submission_notebook(QUIZ, QUIZ, STUDENT).id
    found = {}
    with running_lab(tmp_path, target="lab-instructor", root=course) as lab:
        context = browser.new_context(viewport={"width": 1300, "height": 1000},
                                      extra_http_headers={"Authorization": f"token {lab.token}"})
        try:
            page = context.new_page()
            for name, path, ready in [
                    ("assignments", "/formgrader/manage_assignments",
                     f"() => document.body.innerText.includes('{QUIZ}')"),
                    ("submission", f"/formgrader/submissions/{notebook_id}/?index=0",
                     "() => document.getElementById('test_softmax')?.placeholder === '2'")]:
                page.goto(lab.url + path, wait_until="load", timeout=60_000)
                page.wait_for_function(ready, timeout=60_000)
                report = axe.check_page(page, course_scope=None)
                found[name] = report.by_rule("course")
        finally:
            context.close()
    (shots / "formgrader_axe.json").write_text(json.dumps(found, indent=1))
    print(f"formgrader (nbgrader's own, not failed on): {found}")
    assert set(found) == {"assignments", "submission"}
