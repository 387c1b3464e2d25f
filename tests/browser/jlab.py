"""Driving JupyterLab 4 in Chromium as a learner does: open, Run All, type, move widgets, read pictures.

Cells and widgets are found by their content and their DOM (``.jp-CodeCell``, ``.jupyter-widgets``,
``.widget-slider``...), never by cell index: the lessons change while these tests stand.
"""
from __future__ import annotations

import base64
import io
import os
import re
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Debian's Chromium, headless; Playwright never downloads a browser of its own here.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
NOTEBOOK = ".jp-NotebookPanel:not(.lm-mod-hidden)"  # the notebook in the current tab
CODE_CELL = f"{NOTEBOOK} .jp-Notebook .jp-CodeCell"
# an error output: IPython's traceback header, or a widget that failed to render
ERROR_TEXT = re.compile(r"Traceback \(most recent call last\)|Error displaying widget")
RAW_WIDGET_TEXT = re.compile(r"\b(interactive|VBox|HBox|FloatSlider|IntSlider|Dropdown)\(children=|Loading widget")


def chromium_path() -> str | None:
    """The system Chromium: $ATTNKIT_CHROMIUM if set (only it), else /usr/bin/chromium or chromium on the PATH."""
    chosen = os.environ.get("ATTNKIT_CHROMIUM")
    candidates = ([chosen] if chosen else
                  ["/usr/bin/chromium", shutil.which("chromium"), shutil.which("chromium-browser")])
    for candidate in candidates:
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


def wait_until(condition: Callable[[], Any], timeout: float, what: str, every: float = 0.25) -> Any:
    """Poll `condition` until it returns something truthy; fail naming `what` after `timeout` s."""
    deadline = time.time() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.time() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(every)


def open_notebook(page: Any, lab: Any, path: str, kernel: bool = True) -> None:
    """Open a notebook by its URL (in a fresh workspace: no tabs of earlier tests); wait for its kernel."""
    page.goto(f"{lab.url}/lab/tree/{path}?reset&token={lab.token}")
    page.wait_for_selector(CODE_CELL, state="attached", timeout=60_000)
    if not kernel:
        return
    wait_idle(page, 120, "the kernel to start")
    # focus the notebook, as a learner does
    page.locator(f"{NOTEBOOK} .jp-Notebook").first.click(position={"x": 5, "y": 5})


def kernel_status(page: Any) -> str:
    indicator = page.locator(f"{NOTEBOOK} .jp-Notebook-ExecutionIndicator").first
    return indicator.get_attribute("data-status") if indicator.count() else ""


def wait_idle(page: Any, timeout: float, what: str = "the kernel to be idle") -> None:
    wait_until(lambda: kernel_status(page) == "idle", timeout, what)


def menu(page: Any, top: str, item: str) -> None:
    """Click a menu bar entry, then one of its items (exact labels); the item must be enabled."""
    entry = page.locator(".lm-Menu-item", has=page.locator(
        ".lm-Menu-itemLabel", has_text=re.compile(f"^{re.escape(item)}$")))
    for _ in range(20):
        page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(f"^{re.escape(top)}$")).click()
        entry.wait_for(timeout=10_000)
        if "lm-mod-disabled" not in (entry.get_attribute("class") or ""):
            entry.click()
            return
        page.keyboard.press("Escape")  # not ready yet (the notebook is still loading)
        time.sleep(0.5)
    raise AssertionError(f"the menu item {top} > {item} stayed disabled")


def prompts(page: Any) -> list[str]:
    """The input prompt of every code cell ("[3]:", "[*]:" while queued or running, "[ ]:" never run)."""
    return [text.strip() for text in page.locator(f"{CODE_CELL} .jp-InputPrompt").all_text_contents()]


def not_run(page: Any) -> list[int]:
    """Indices (among code cells) of the cells whose prompt has no execution count: never run."""
    return [i for i, p in enumerate(prompts(page)) if not re.search(r"\d", p)]


def run_all(page: Any, timeout: float) -> float:
    """Run > Run All Cells, then wait until no cell is queued and the kernel is idle; returns seconds.

    Once more if it ended with cells that never ran and no error: JupyterLab once started two
    kernels for a freshly opened notebook and shut the first down under the page, so part of the
    first Run All went nowhere (the cells were left "[ ]" and the kernel idle)."""
    def finished() -> bool:
        return kernel_status(page) == "idle" and not any("*" in p for p in prompts(page))

    start = time.time()
    for again in range(2):
        before = prompts(page)
        for attempt in range(3):  # a click can be lost while the page is busy
            menu(page, "Run", "Run All Cells")
            try:
                # a prompt must change: the kernel alone turning busy (its start-up handshake) proves nothing
                wait_until(lambda b=before: prompts(page) != b, 15, "Run All to start")
                break
            except AssertionError:
                if attempt == 2:
                    raise

        wait_until(finished, timeout, "Run All to finish")
        time.sleep(0.5)  # outputs that arrive with the idle message
        wait_until(finished, 30, "Run All to finish")
        left = not_run(page)
        if not left or error_outputs(page) or again:
            break
        print(f"Run All left code cells {left} unrun without an error: running all again")
    return time.time() - start


def cell_text(cell: Any) -> str:
    """A cell's source as the editor shows it."""
    return "\n".join(cell.locator(".cm-line").all_text_contents())


def code_cells(page: Any) -> list[Any]:
    return page.locator(CODE_CELL).all()


def error_outputs(page: Any) -> list[str]:
    """The text of every output that is a traceback or a widget that failed to render."""
    texts = page.locator(f"{CODE_CELL} .jp-OutputArea-output").all_text_contents()
    return [text for text in texts if ERROR_TEXT.search(text)]


def find_cell(page: Any, *needles: str) -> Any:
    """The one code cell whose source contains every needle."""
    found = [cell for cell in code_cells(page) if all(n in cell_text(cell) for n in needles)]
    assert len(found) == 1, f"expected one code cell containing {needles}, found {len(found)}"
    return found[0]


def replace_source(page: Any, cell: Any, source: str) -> None:
    """Click into a cell's editor, select everything and type `source` (inserted as is, no auto-indent)."""
    cell.locator(".cm-content").click()
    page.keyboard.press("Control+a")
    page.keyboard.press("Delete")
    page.keyboard.insert_text(source)
    wait_until(lambda: cell_text(cell).split() == source.split(), 10, "the new source in the editor")


def run_cell(page: Any, cell: Any, timeout: float = 120) -> None:
    """Select a cell and press the toolbar's Run button, as a learner does; wait for its new execution count."""
    prompt = cell.locator(".jp-InputPrompt")
    before = prompt.text_content().strip()
    button = page.locator(f"{NOTEBOOK} .jp-Toolbar [data-command='notebook:run-cell-and-select-next']").first

    def ran() -> bool:
        now = prompt.text_content().strip()
        return bool(re.search(r"\d", now)) and now != before

    for attempt in range(3):  # a click can be lost while the page is busy; a run is never repeated
        prompt.click()  # select the cell (command mode)
        button.click()
        try:
            wait_until(lambda: ran() or "*" in prompt.text_content(), 10, "the cell to start")
            break
        except AssertionError:
            if attempt == 2:
                raise
    wait_until(ran, timeout, "the cell to run")
    wait_idle(page, timeout)


def outputs_text(cell: Any) -> str:
    return "\n".join(cell.locator(".jp-OutputArea-output").all_text_contents())


# pictures ------------------------------------------------------------------------------------------

@dataclass
class Picture:
    png: bytes
    size: tuple[int, int]
    ink: float  # share of pixels that are not (nearly) white
    pixels: Any  # numpy (h, w, 3) uint8

    def differs_from(self, other: Picture) -> bool:
        if self.size != other.size:
            return True
        import numpy as np

        return bool(np.mean(np.abs(self.pixels.astype(int) - other.pixels.astype(int)) > 16) > 0.001)


def decode_png(data_uri: str) -> Picture:
    """A data: URI's PNG, decoded whole (a truncated file raises)."""
    import numpy as np
    from PIL import Image

    assert data_uri.startswith("data:image/png;base64,"), f"not a PNG data URI: {data_uri[:40]!r}"
    png = base64.b64decode(data_uri.split(",", 1)[1])
    with Image.open(io.BytesIO(png)) as image:
        image.load()
        pixels = np.asarray(image.convert("RGB"))
    ink = float(np.mean(np.any(pixels < 240, axis=-1)))
    return Picture(png, (pixels.shape[1], pixels.shape[0]), ink, pixels)


def widget_images(view: Any) -> list[str]:
    """The src of each image inside a widget view (its Output widgets)."""
    return view.locator("img").evaluate_all("imgs => imgs.map(i => i.getAttribute('src') || '')")


def settled_images(page: Any, view: Any, before: list[str], timeout: float) -> list[str]:
    """Wait until the widget's images changed from `before`, the kernel is idle and they stayed put for 1.5 s."""
    wait_until(lambda: widget_images(view) != before, timeout, "the widget's figure to change")
    last, since = widget_images(view), time.time()
    deadline = time.time() + timeout
    while time.time() - since < 1.5 or kernel_status(page) != "idle":
        assert time.time() < deadline, "the widget's figure did not settle"
        time.sleep(0.2)
        now = widget_images(view)
        if now != last:
            last, since = now, time.time()
    return last


def check_whole(picture: Picture, reference: Picture, what: str) -> None:
    """A complete, non-blank figure: about the reference's size, with most of its ink, and not tiny."""
    (w, h), (rw, rh) = picture.size, reference.size
    assert 0.5 * rw <= w <= 2 * rw and 0.5 * rh <= h <= 2 * rh, (
        f"{what}: the figure is {w}x{h} px, the one before was {rw}x{rh} px")
    assert picture.ink >= max(0.02, 0.5 * reference.ink), (
        f"{what}: the figure is mostly blank ({picture.ink:.1%} of its pixels drawn, "
        f"{reference.ink:.1%} before): a half-drawn figure ({len(picture.png)} bytes, {len(reference.png)} before)")
    assert len(picture.png) >= 0.3 * len(reference.png), (
        f"{what}: the PNG is {len(picture.png)} bytes, {len(reference.png)} before: a half-drawn figure")
