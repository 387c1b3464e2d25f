"""The status comment a submission gets in the gradebook, with its evidence made inert.

nbgrader shows a notebook's automatic comment in two places: formgrader (the grader's view, as the
placeholder text of the comment box) and the student's feedback page, which renders it as Markdown
(``markdown2html``: attnkit's safe filter, or nbconvert's, which passes raw HTML through). Notes
and flags quote what a submission did (a file name, a module it patched, a line it wrote), all
chosen by the student, so every character that could start Markdown or HTML markup is
backslash-escaped (CommonMark: an escaped punctuation character is literal text, which mistune
HTML-escapes whichever way it is configured): the text renders as text, never as a tag, entity,
link, image or script.
"""
from __future__ import annotations

from collections.abc import Sequence

__all__ = ["escape_markdown", "status_text", "PREFIX"]

PREFIX = "attnkit grading status: "
# what could start markup in Markdown or HTML: tags, autolinks and entities, links and images, code
# spans, emphasis and strike-through, tables, headings, backslash escapes ("_" only joins words here)
_MARKUP = set("<>&[]!`*~|#\\")


def escape_markdown(text: str) -> str:
    """``text`` as Markdown that renders to exactly ``text``, with no markup (one line: newlines and
    other control characters become spaces).

    >>> escape_markdown("<img src=x onerror=alert(1)> [a](javascript:b)")
    '\\\\<img src=x onerror=alert(1)\\\\> \\\\[a\\\\](javascript:b)'
    """
    return "".join("\\" + c if c in _MARKUP else (" " if not c.isprintable() else c) for c in text)


def status_text(status: str, notes: Sequence[str] = (), flags: Sequence[str] = ()) -> str:
    """The automatic comment: the status, the flags (one list item each) and the notes, every note
    and flag escaped by :func:`escape_markdown`."""
    parts = [PREFIX + escape_markdown(status)]  # paragraphs: Markdown keeps them apart
    if flags:
        parts.append("flags (for review; they do not change the grade):\n\n" + "\n".join(
            f"- {escape_markdown(flag)}" for flag in flags))
    notes = [n for n in notes if n]
    if notes:
        parts.append("notes: " + "; ".join(escape_markdown(n) for n in notes))
    return "\n\n".join(parts)
