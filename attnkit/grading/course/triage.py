"""Triage of submission folders, decided without running or following anything a student put there.

Used by every entry point: ``attnkit grade-class`` (:func:`triage` before its workers start),
plain ``nbgrader autograde`` (its pre-convert hook, :func:`attnkit.grading.course.autograde.triage_files`)
and ``attnkit grade`` (:func:`unsafe_entries` on the notebook's folder).

* A notebook saved under another name is copied to ``<quiz>.ipynb`` (status *renamed*).
* A file that is not a notebook (invalid JSON, not nbformat) gets 0 and the status *malformed*
  without being run.
* Only regular files are grading material. A symbolic link, FIFO, socket or device node anywhere
  in the folder is never opened, never followed and never copied (:func:`copy_regular_files_only`
  keeps nbgrader's copy of the folder into ``autograded/`` and ``feedback/`` to regular files):
  the submission is flagged with the evidence (status *flagged*). An honest hand-in never holds
  one (``nbgrader submit`` copies file contents); a link pointing at ``solutions/`` would
  otherwise come back, through nbgrader's ``shutil.copy``, in ``autograded/`` and ``feedback/``,
  and reading a FIFO would stall the grader. If the notebook itself is such an entry, there is
  nothing safe to read: status *malformed*, 0 points.
"""
from __future__ import annotations

import os
import shutil
import stat
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat

__all__ = ["Triaged", "triage", "unsafe_entries", "folder_flags", "describe", "copy_regular_files_only",
           "MAX_ENTRIES"]

MAX_ENTRIES = 10_000  # entries of one submission folder looked at (a folder with more is flagged)
_KINDS = ((stat.S_ISLNK, "a symbolic link"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket"),
          (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"))


@dataclass
class Triaged:
    student: str
    notes: list[str]
    ok: bool  # run it through nbgrader
    flags: list[str] = field(default_factory=list)  # evidence for the reviewer


def describe(path: Path) -> str | None:
    """What ``path`` is if it is neither a regular file nor a directory (``"a symbolic link to X"``,
    ``"a FIFO"``, ...), from ``lstat`` alone (nothing is opened or followed); None otherwise."""
    try:
        mode = os.lstat(path).st_mode
    except OSError as exc:
        return f"unreadable ({type(exc).__name__})"
    for test, kind in _KINDS:
        if test(mode):
            if kind == "a symbolic link":
                try:
                    return f"{kind} to {os.readlink(path)!r}"[:200]
                except OSError:
                    return kind
            return kind
    return None if stat.S_ISREG(mode) or stat.S_ISDIR(mode) else "not a regular file"


def unsafe_entries(folder: Path, limit: int = MAX_ENTRIES) -> list[str]:
    """Every entry under ``folder`` that is not a regular file or a directory, as flag evidence
    (``"notes.txt is a symbolic link to '../../solutions'"``); symbolic links to folders are listed,
    never entered. Stops after ``limit`` entries (and says so)."""
    found: list[str] = []
    seen = 0
    stack = [folder]
    while stack:
        current = stack.pop()
        try:
            entries = sorted(os.scandir(current), key=lambda e: e.name)
        except OSError:
            continue
        for entry in entries:
            seen += 1
            if seen > limit:
                return found + [f"more than {limit} entries in the submission folder (not all checked)"]
            rel = Path(entry.path).relative_to(folder).as_posix()
            kind = describe(Path(entry.path))
            if kind is not None:
                found.append(f"{rel} is {kind}")
            elif entry.is_dir(follow_symlinks=False):
                stack.append(Path(entry.path))
    return found


def folder_flags(folder: Path) -> list[str]:
    """The flags of a submission folder: one per link or special file in it (:func:`unsafe_entries`)."""
    return [f"submission folder: {e} (not read, not copied)" for e in unsafe_entries(folder)]


def triage(course: Path, quiz: str, students: Sequence[str]) -> list[Triaged]:
    """Renamed, malformed and link-holding submissions, decided without running them."""
    out = []
    for student in students:
        folder = course / "submitted" / student / quiz
        expected = folder / f"{quiz}.ipynb"
        notes: list[str] = []
        if describe(folder) is not None or describe(folder.parent) is not None:
            why = describe(folder) or describe(folder.parent)
            out.append(Triaged(student, ["malformed", f"submitted/{student}/{quiz} is {why}"], False,
                               [f"submission folder is {why}"]))
            continue
        flags = folder_flags(folder)
        if flags:
            notes.append("flagged")
        if os.path.lexists(expected) and describe(expected) is not None:
            out.append(Triaged(student, ["malformed", f"{expected.name} is {describe(expected)}: not read"], False,
                               flags))
            continue
        if not expected.exists():
            candidates = sorted(p for p in folder.glob("*.ipynb") if describe(p) is None and p.is_file())
            if not candidates:
                out.append(Triaged(student, ["malformed", f"no notebook in submitted/{student}/{quiz}/"], False,
                                   flags))
                continue
            shutil.copyfile(candidates[0], expected, follow_symlinks=False)  # the original stays
            notes += ["renamed", f"notebook was named {candidates[0].name}"]
        try:
            with warnings.catch_warnings():  # notebooks saved by old tools lack cell ids: not our concern
                warnings.simplefilter("ignore")
                nb = nbformat.read(expected, as_version=4)
                nbformat.validate(nb)
            if not isinstance(nb.cells, list):
                raise ValueError("no cells")
        except Exception as exc:  # any unreadable file: malformed, never run
            why = f"not a valid notebook: {type(exc).__name__}: {exc}"[:300]
            out.append(Triaged(student, ["malformed", why], False, flags))
            continue
        out.append(Triaged(student, notes, True, flags))
    return out


def _regular_only(find_all_files: Any) -> Any:
    def find_regular_files(path: str, exclude: list[str] | None = None) -> list[str]:
        return [f for f in find_all_files(path, exclude) if describe(Path(f)) is None and os.path.isfile(f)]

    find_regular_files.attnkit_regular_only = True
    return find_regular_files


def copy_regular_files_only(**_: Any) -> None:
    """Make nbgrader's converters copy only the regular files of a folder (``autograde`` copies a
    submission folder into ``autograded/``, ``generate_feedback`` that into ``feedback/``, each
    with ``shutil.copy``, which follows links and blocks on a FIFO). Idempotent; usable as an
    nbgrader pre-convert hook (``c.GenerateFeedback.pre_convert_hook``)."""
    from nbgrader.converters import base

    if not getattr(base.find_all_files, "attnkit_regular_only", False):
        base.find_all_files = _regular_only(base.find_all_files)
