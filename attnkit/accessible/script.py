"""The page script shipped with the course's figures and status lines (live regions, slider names)."""
from __future__ import annotations

__all__ = ["A11Y_SCRIPT"]

# What the browser needs besides the outputs, run once per page by the first figure or status line
# shown (JupyterLab runs the scripts of trusted outputs: a cell's own outputs are):
# * ipywidgets' HTML view replaces its content on every change, and screen readers announce changes
#   only inside a live region that already exists: the status widget's own element, which stays, is
#   made the live region (role=status);
# * an Output widget that shows attnkit figures (interact, interactive_output) is made a polite live
#   region, so a redraw is announced with the new figure's alt text (not where a status line of its
#   box says it already: once is enough);
# * ipywidgets' slider handle (noUiSlider, role=slider) has no accessible name: it gets its
#   widget's label. Arrow keys already move it.
A11Y_SCRIPT = """<script>(function () {
  if (window.attnkitA11y) return;
  window.attnkitA11y = true;
  const live = (el, role) => { if (role) el.setAttribute('role', role); el.setAttribute('aria-live', 'polite'); };
  const mark = () => {
    document.querySelectorAll('.attnkit-live:not([aria-live])').forEach(el => live(el, 'status'));
    document.querySelectorAll('.widget-output:not([aria-live])').forEach(el => {
      const box = el.closest('.widget-box');  // a box with its own status line is announced by it
      if (el.querySelector('.attnkit-figure') && !(box && box.querySelector('.attnkit-live'))) live(el, null); });
    document.querySelectorAll('.widget-slider .noUi-handle:not([aria-label])').forEach(el => {
      const label = el.closest('.widget-slider').querySelector('.widget-label');
      if (label && label.textContent.trim()) el.setAttribute('aria-label', label.textContent.trim()); });
  };
  let queued = false;
  mark();
  new MutationObserver(() => { if (!queued) { queued = true;
    requestAnimationFrame(() => { queued = false; mark(); }); } })
    .observe(document.body, {childList: true, subtree: true});
})();</script>"""

