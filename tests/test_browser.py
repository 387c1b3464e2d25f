"""The course in a real browser, as learners use it: Chromium driving `make lab`'s JupyterLab.

* the lab opens on lessons/ with no dialog and without nbgrader's instructor tools
  (`make lab-instructor` shows them);
* every lesson runs all its cells (Run > Run All Cells) with zero error outputs;
* every widget renders, and moving each of its controls redraws its figure to a complete,
  non-blank picture that differs from the one before;
* a quiz answered in the browser: a right answer passes its visible check, a catalogued wrong
  answer shows its misconception message.

Playwright drives the system Chromium (never a downloaded one). Without Playwright or Chromium these
tests skip with the reason (and warn); on CI (CI=true) that is a failure. On failure a screenshot is
saved and its path is in the failure message. ATTNKIT_SCREENSHOTS=<dir> keeps a screenshot of
every screen the tests look at.
"""
from __future__ import annotations

import os
import re
import time
import warnings
from contextlib import contextmanager
from pathlib import Path

import pytest
from browser import jlab
from browser.lab import ROOT, running_lab

pytestmark = pytest.mark.browser

LESSONS = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "lessons").glob("*.ipynb"))
QUIZ = "quizzes/q4_qkv_math/q4_qkv_math.ipynb"
RUN_ALL_TIMEOUT = 600
# Running lessons must never write into the checkout: no autosave. Cells show their whole output.
LAB_SETTINGS = {"@jupyterlab/docmanager-extension:plugin": {"autosave": False}}


def _unavailable(reason: str) -> None:
    """No browser here: skip loudly; on CI, fail."""
    reason = f"browser tests cannot run: {reason}"
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"{reason} (CI=true: the browser tests must run on CI)", pytrace=False)
    warnings.warn(reason, pytest.PytestWarning, stacklevel=2)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("Playwright is not installed (pip install -e '.[dev]', or `make test`)")
    executable = jlab.chromium_path()
    if executable is None:
        where = (f"ATTNKIT_CHROMIUM={os.environ['ATTNKIT_CHROMIUM']} is not an executable"
                 if os.environ.get("ATTNKIT_CHROMIUM") else "no Chromium at /usr/bin/chromium or on the PATH")
        _unavailable(f"{where} (apt-get install chromium, or set ATTNKIT_CHROMIUM to a Chromium binary)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=jlab.CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def lab(browser, tmp_path_factory):
    with running_lab(tmp_path_factory.mktemp("lab"), settings=LAB_SETTINGS) as server:
        yield server


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    """Where screenshots go: $ATTNKIT_SCREENSHOTS, else a folder of this run's pytest basetemp."""
    folder = Path(os.environ.get("ATTNKIT_SCREENSHOTS") or tmp_path_factory.mktemp("browser-screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def page(browser, lab, shots, request):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    tab = context.new_page()
    name = re.sub(r"[^\w.-]+", "_", request.node.name)
    try:
        yield tab
        if os.environ.get("ATTNKIT_SCREENSHOTS"):
            tab.screenshot(path=str(shots / f"{name}.png"), full_page=True)
    finally:
        context.close()
        lab.shut_down_kernels()


@contextmanager
def screenshot_on_failure(tab, shots: Path, name: str):
    """Re-raise any failure with the path of a screenshot of the page as it was."""
    try:
        yield
    except BaseException as error:
        safe = re.sub(r"[^\w.-]+", "_", name)
        path = shots / f"FAILED_{safe}.png"
        try:
            tab.screenshot(path=str(path), full_page=True)
            where = f"screenshot of the failing screen: {path}"
        except Exception as shot_error:  # the page may be gone
            where = f"no screenshot ({shot_error})"
        raise AssertionError(f"{error}\n{where}") from error


def _shot(tab, shots: Path, name: str, element=None) -> None:
    if os.environ.get("ATTNKIT_SCREENSHOTS"):
        (element or tab).screenshot(path=str(shots / f"{name}.png"))


# the lab itself ------------------------------------------------------------------------------------

def _menu_labels(tab) -> list[str]:
    return [label.strip() for label in tab.locator(".lm-MenuBar-itemLabel").all_text_contents()]


def _instructor_tools(tab) -> list[str]:
    """Which of nbgrader's instructor tools a page shows (menu, sidebar tab, Validate button)."""
    shown = []
    if "Nbgrader" in _menu_labels(tab):
        shown.append("the Nbgrader menu")
    if tab.locator(".lm-TabBar-tab[title*='Create Assignment'], .lm-TabBar-tab:has-text('Create Assignment')").count():
        shown.append("the Create Assignment sidebar")
    if tab.locator(".jp-Toolbar button:has-text('Validate'), .jp-Toolbar [title*='Validate']").count():
        shown.append("the Validate button")
    return shown


def test_lab_opens_on_lessons_with_no_dialog_and_no_instructor_tools(lab, page, shots):
    with screenshot_on_failure(page, shots, "lab_opens"):
        page.goto(f"{lab.url}/?token={lab.token}")
        page.wait_for_selector(".jp-DirListing-item", timeout=60_000)
        assert page.url.split("?")[0].endswith("/lab/tree/lessons"), page.url
        listed = jlab.wait_until(lambda: page.locator(".jp-DirListing-itemText").all_text_contents(), 10,
                                 "the file browser's listing")
        assert sorted(listed) == [Path(p).name for p in LESSONS], "the file browser shows lessons/"
        cut = page.locator(".jp-DirListing-itemText").evaluate_all(
            "els => els.filter(e => e.scrollWidth > e.clientWidth + 1).map(e => e.textContent)")
        assert not cut, f"the file browser cuts these names short: {cut}"
        time.sleep(2)  # a dialog (news, build, kernel choice) would be up by now
        assert page.locator(".jp-Dialog").count() == 0, "a dialog opened: " + " / ".join(
            page.locator(".jp-Dialog").all_text_contents())
        assert "Run" in _menu_labels(page), "the lab's menu bar rendered"
        _shot(page, shots, "lab_landing")
        jlab.open_notebook(page, lab, QUIZ, kernel=False)
        page.wait_for_selector(f"{jlab.NOTEBOOK} .jp-Toolbar", timeout=30_000)
        time.sleep(1)
        _shot(page, shots, "lab_quiz_as_learner")
        assert _instructor_tools(page) == [], "learners see no instructor tools"


def test_make_lab_instructor_shows_nbgrader(browser, tmp_path, shots):
    """`make lab-instructor`: the same lab with nbgrader's menu, sidebar and Validate button."""
    with running_lab(tmp_path, target="lab-instructor", settings=LAB_SETTINGS) as instructor:
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        tab = context.new_page()
        try:
            with screenshot_on_failure(tab, shots, "lab_instructor"):
                jlab.open_notebook(tab, instructor, QUIZ, kernel=False)
                jlab.wait_until(lambda: "Nbgrader" in _menu_labels(tab), 30, "the Nbgrader menu")
                jlab.wait_until(lambda: len(_instructor_tools(tab)) == 3, 30,
                                "the Create Assignment sidebar and the Validate button")
                _shot(tab, shots, "lab_instructor")
        finally:
            context.close()
            instructor.shut_down_kernels()


# lessons and their widgets -------------------------------------------------------------------------

def _widget_views(tab) -> list:
    """Every top-level widget a cell displays."""
    return tab.locator(f"{jlab.CODE_CELL} .jp-Cell-outputArea > .jp-OutputArea-child > "
                       ".jp-OutputArea-output:has(> .jupyter-widgets)").all()


def _move(tab, control, kind: str) -> str:
    """Move one control the way a learner would; returns what was done."""
    if kind == "slider":
        handle = control.locator(".noUi-handle").first
        at_max = handle.get_attribute("aria-valuenow") == handle.get_attribute("aria-valuemax")
        handle.focus()
        key = "ArrowLeft" if at_max else "ArrowRight"
        handle.press(key)
        return f"slider {key}"
    if kind == "dropdown":
        select = control.locator("select")
        options = select.locator("option").all_text_contents()
        current = select.evaluate("s => s.selectedIndex")
        index = (current + 1) % len(options)
        select.select_option(index=index)
        return f"dropdown -> {options[index]!r}"
    if kind == "text":
        box = control.locator("input, textarea").first
        words = box.input_value().split()
        new = " ".join(reversed(words)) if len(words) > 1 else words[0] + " " + words[0]
        box.fill(new)
        box.press("Enter")
        return f"text -> {new!r}"
    raise ValueError(kind)


CONTROLS = {"slider": ".widget-slider", "dropdown": ".widget-dropdown", "text": ".widget-text"}
MOVES = int(os.environ.get("ATTNKIT_WIDGET_MOVES", "1"))  # moves per control (the blank figure came on the first)


def _exercise_widget(tab, view, label: str, shots: Path) -> list[str]:
    """Move each control of one widget; every time its figure must redraw whole."""
    done = []
    view.scroll_into_view_if_needed()
    jlab.wait_until(lambda: jlab.widget_images(view), 60, f"{label}: a figure in the widget")
    _shot(tab, shots, f"{label}_0_initial", view)
    reference = jlab.decode_png(jlab.widget_images(view)[-1])
    step = 0
    for kind, selector in CONTROLS.items():
        for i, control in enumerate(view.locator(selector).all()):
            label_text = control.locator(".widget-label").first.text_content() if control.locator(
                ".widget-label").count() else ""
            for _ in range(MOVES):
                before = jlab.widget_images(view)
                step += 1
                action = _move(tab, control, kind)
                what = f"{label}: {label_text or kind} {i}: {action}"
                after = jlab.settled_images(tab, view, before, 120)
                _shot(tab, shots, f"{label}_{step}_{kind}{i}", view)
                assert after, f"{what}: the figure disappeared"
                old, new = jlab.decode_png(before[-1]), jlab.decode_png(after[-1])
                jlab.check_whole(new, reference, what)
                assert new.differs_from(old), f"{what}: the figure did not change"
                done.append(what)
    assert done, f"{label}: a widget with no control to move"
    return done


@pytest.mark.parametrize("lesson", LESSONS)
def test_lesson_runs_in_jupyterlab_and_its_widgets_redraw(lab, page, shots, lesson):
    name = Path(lesson).stem
    with screenshot_on_failure(page, shots, name):
        jlab.open_notebook(page, lab, lesson)
        assert _instructor_tools(page) == [], "learners see no instructor tools"
        seconds = jlab.run_all(page, RUN_ALL_TIMEOUT)
        errors = jlab.error_outputs(page)
        assert not errors, f"{lesson}: {len(errors)} error output(s) after Run All:\n" + "\n---\n".join(
            e[-1500:] for e in errors)
        left = jlab.not_run(page)
        assert not left, f"{lesson}: code cells {left} (0-based among code cells) did not run"
        views = _widget_views(page)
        for view in views:  # scroll each into view: it must render there, not stay "Loading widget"
            view.scroll_into_view_if_needed()
            jlab.wait_until(lambda v=view: v.locator(".jupyter-widgets").count(), 30, f"{lesson}: a widget to render")
        raw = [t for t in page.locator(f"{jlab.CODE_CELL} .jp-OutputArea-output").all_text_contents()
               if jlab.RAW_WIDGET_TEXT.search(t)]
        assert not raw, f"{lesson}: widgets shown as text, not rendered: {raw}"
        print(f"{lesson}: Run All {seconds:.1f} s, {len(views)} widget(s)")
        if os.environ.get("ATTNKIT_SCREENSHOTS"):  # every output with a picture, as the learner sees it
            for k, area in enumerate(page.locator(f"{jlab.CODE_CELL} .jp-Cell-outputArea:has(img)").all()):
                area.scroll_into_view_if_needed()
                _shot(page, shots, f"{name}_figure{k:02d}", area)
        interactive = [v for v in views if v.locator(", ".join(CONTROLS.values())).count()]  # not progress bars
        for n, view in enumerate(interactive):
            for line in _exercise_widget(page, view, f"{name}_w{n}", shots):
                print("  ok:", line)
        assert not jlab.error_outputs(page), f"{lesson}: an error output after moving the widgets"


# a quiz answered in the browser --------------------------------------------------------------------

RIGHT_SOFTMAX = '''def softmax(x, axis=-1):
    """Softmax of `x` along `axis`; the result has x's shape and sums to 1 along `axis`."""
    x = np.asarray(x, dtype=float)
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)
'''


# a learner's softmax without the shift: the catalogue's bug "softmax_no_max_subtraction"
WRONG_SOFTMAX = '''def softmax(x, axis=-1):
    x = np.asarray(x, dtype=float)
    e = np.exp(x)
    return e / np.sum(e, axis=axis, keepdims=True)
'''


def test_quiz_answered_in_the_browser(lab, page, shots):
    from attnkit.grading.content.bugs import BUGS

    message = BUGS["softmax_no_max_subtraction"].message
    with screenshot_on_failure(page, shots, "quiz"):
        jlab.open_notebook(page, lab, QUIZ)
        jlab.run_cell(page, jlab.find_cell(page, "import numpy as np"))
        answer = jlab.find_cell(page, "def softmax(", "YOUR CODE HERE")
        check = jlab.find_cell(page, "check_softmax(softmax)")

        jlab.replace_source(page, answer, RIGHT_SOFTMAX)
        jlab.run_cell(page, answer)
        jlab.run_cell(page, check)
        check.scroll_into_view_if_needed()
        _shot(page, shots, "quiz_right_answer")
        assert not jlab.error_outputs(page), "a right softmax passes the visible check: " + jlab.outputs_text(check)

        jlab.replace_source(page, answer, WRONG_SOFTMAX)
        jlab.run_cell(page, answer)
        jlab.run_cell(page, check)
        check.scroll_into_view_if_needed()
        _shot(page, shots, "quiz_wrong_answer")
        shown = " ".join(jlab.outputs_text(check).split())
        assert " ".join(message.split()) in shown, (
            f"the check names the misconception (exp overflows); it shows: {shown[-800:]}")
