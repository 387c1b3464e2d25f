"""axe-core in Chromium: WCAG 2.1 A/AA checks of a page, split into the course's content and the rest.

axe-core comes from npm (``package.json``, pinned in ``package-lock.json``, installed by ``make install``
into ``node_modules/``); it is injected from that file, so the check runs offline. In JupyterLab the
course controls what its notebooks show (rendered markdown, outputs: figures, text, widgets); the
lab's own chrome (menus, toolbars, prompts, editors, side bars) is JupyterLab's, reported apart.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
AXE_JS = ROOT / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
# what a notebook shows that the course wrote: rendered markdown cells and every cell output
COURSE_CONTENT = ".jp-MarkdownOutput, .jp-OutputArea-output"

_RUN = """async ([scope]) => {
  const result = await axe.run(document, {runOnly: {type: 'tag', values: %s}, resultTypes: ['violations']});
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map(n => {
      let el = null;
      try { el = document.querySelector(n.target[n.target.length - 1]); } catch (e) {}
      return {target: n.target.join(' '), html: n.html.slice(0, 300), summary: n.failureSummary,
              course: scope === null ? true : !!(el && el.closest(scope))};
    }),
  }));
}"""


@dataclass
class Violation:
    rule: str
    impact: str
    help: str
    target: str
    html: str
    summary: str


@dataclass
class AxeReport:
    """One page's violations, split by who controls the element: the course or the host (JupyterLab)."""

    course: list[Violation] = field(default_factory=list)
    host: list[Violation] = field(default_factory=list)

    def by_rule(self, which: str = "course") -> dict[str, int]:
        return dict(sorted(Counter(v.rule for v in getattr(self, which)).items()))

    def describe(self, which: str = "course", limit: int = 12) -> str:
        found = getattr(self, which)
        lines = [f"{v.rule} ({v.impact}): {v.help}\n    at {v.target}\n    {v.html[:200]}\n    {v.summary[:300]}"
                 for v in found[:limit]]
        more = f"\n... and {len(found) - limit} more" if len(found) > limit else ""
        return "\n".join(lines) + more


def available() -> bool:
    return AXE_JS.is_file()


def check_page(page: Any, course_scope: str | None = COURSE_CONTENT) -> AxeReport:
    """Run axe-core's WCAG 2.1 A/AA rules on the page as it is now.

    Args:
        page: a Playwright page.
        course_scope: a CSS selector of the elements the course controls (a violation inside one is
            the course's); None when the whole page is the course's (a page the course generates).
    """
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE_JS))
    import json

    found = page.evaluate(_RUN % json.dumps(WCAG_TAGS), [course_scope])
    report = AxeReport()
    for rule in found:
        for node in rule["nodes"]:
            v = Violation(rule["id"], rule["impact"] or "", rule["help"], node["target"], node["html"],
                          node["summary"] or "")
            (report.course if node["course"] else report.host).append(v)
    return report


def check_html_file(browser: Any, path: str | Path) -> AxeReport:
    """Open any HTML file the course generates (a feedback page, a class report) and check all of it."""
    # bypass_csp: a page with a strict Content-Security-Policy (the class report) still lets axe in
    context = browser.new_context(viewport={"width": 1280, "height": 900}, offline=True, bypass_csp=True)
    try:
        page = context.new_page()
        page.goto(Path(path).resolve().as_uri(), wait_until="load")
        return check_page(page, course_scope=None)
    finally:
        context.close()
