"""attnkit.grading.course.triage: submission folders sorted without running or following anything.

Small folders in tmp_path, no kernel: renamed and malformed notebooks, links and special files
(flagged, never opened, never copied), and nbgrader's own folder copy kept to regular files.
"""
from __future__ import annotations

import os
import socket
import threading
from pathlib import Path

import nbformat
import pytest

from attnkit.grading.course.triage import copy_regular_files_only, describe, triage, unsafe_entries

QUIZ = "q0_quiz"


def _folder(course: Path, student: str) -> Path:
    folder = course / "submitted" / student / QUIZ
    folder.mkdir(parents=True)
    return folder


def _notebook(path: Path) -> Path:
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")]), path)
    return path


def _triage_within(course: Path, students: list[str], seconds: float = 30) -> list:
    """triage() in a thread: it must return (a FIFO it opened would block it forever)."""
    out: list = []
    worker = threading.Thread(target=lambda: out.extend(triage(course, QUIZ, students)), daemon=True)
    worker.start()
    worker.join(seconds)
    assert not worker.is_alive(), "triage blocked: it opened a FIFO"
    return out


def test_an_honest_folder_is_graded_unflagged(tmp_path: Path) -> None:
    folder = _folder(tmp_path, "ann")
    _notebook(folder / f"{QUIZ}.ipynb")
    (folder / "notes.txt").write_text("my notes")
    (folder / "data").mkdir()
    (folder / "data" / "x.csv").write_text("1,2")
    [done] = _triage_within(tmp_path, ["ann"])
    assert (done.ok, done.notes, done.flags) == (True, [], [])
    assert unsafe_entries(folder) == []


def test_renamed_and_malformed_notebooks(tmp_path: Path) -> None:
    _notebook(_folder(tmp_path, "ren") / "final.ipynb")
    (_folder(tmp_path, "bad") / f"{QUIZ}.ipynb").write_text("{not json")
    _folder(tmp_path, "none")
    renamed, bad, none = _triage_within(tmp_path, ["ren", "bad", "none"])
    assert renamed.ok and renamed.notes[0] == "renamed"
    assert (tmp_path / "submitted/ren" / QUIZ / f"{QUIZ}.ipynb").is_file()
    assert not bad.ok and bad.notes[0] == "malformed" and "not a valid notebook" in bad.notes[1]
    assert not none.ok and none.notes[0] == "malformed"


def test_links_and_special_files_are_flagged_never_followed(tmp_path: Path) -> None:
    secret = tmp_path / "solutions" / "answer.ipynb"
    secret.parent.mkdir()
    _notebook(secret)
    folder = _folder(tmp_path, "eve")
    _notebook(folder / f"{QUIZ}.ipynb")
    os.symlink(secret, folder / "notes.txt")
    os.symlink(secret.parent, folder / "answers")  # a link to a folder: listed, never entered
    os.mkfifo(folder / "pipe.csv")
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(folder / "sock"))
        [done] = _triage_within(tmp_path, ["eve"])
    assert done.ok and "flagged" in done.notes
    flags = " | ".join(done.flags)
    assert f"notes.txt is a symbolic link to '{secret}'" in flags
    assert "answers is a symbolic link" in flags and "pipe.csv is a FIFO" in flags and "sock is a socket" in flags
    assert len(done.flags) == 4, done.flags  # nothing inside the linked folder
    assert describe(folder / "pipe.csv") == "a FIFO" and describe(folder / f"{QUIZ}.ipynb") is None


@pytest.mark.parametrize("kind", ["link", "fifo"])
def test_a_notebook_that_is_a_link_or_a_fifo_is_malformed_and_never_read(tmp_path: Path, kind: str) -> None:
    secret = _notebook(tmp_path / "solution.ipynb")  # a valid notebook: read through a link, it would be graded
    folder = _folder(tmp_path, "eve")
    notebook = folder / f"{QUIZ}.ipynb"
    os.symlink(secret, notebook) if kind == "link" else os.mkfifo(notebook)
    [done] = _triage_within(tmp_path, ["eve"])
    assert not done.ok and done.notes[0] == "malformed", done.notes
    assert "not read" in done.notes[1]


def test_a_renamed_notebook_is_never_taken_from_a_link(tmp_path: Path) -> None:
    secret = _notebook(tmp_path / "solution.ipynb")
    folder = _folder(tmp_path, "eve")
    os.symlink(secret, folder / "a_final.ipynb")
    [done] = _triage_within(tmp_path, ["eve"])
    assert not done.ok and "no notebook" in done.notes[1]
    assert not (folder / f"{QUIZ}.ipynb").exists()


def test_a_submission_folder_that_is_a_link_is_malformed(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    _notebook(elsewhere / f"{QUIZ}.ipynb")
    (tmp_path / "submitted" / "eve").mkdir(parents=True)
    os.symlink(elsewhere, tmp_path / "submitted" / "eve" / QUIZ)
    [done] = _triage_within(tmp_path, ["eve"])
    assert not done.ok and "is a symbolic link" in done.notes[1]


def test_nbgrader_copies_regular_files_only(tmp_path: Path) -> None:
    """nbgrader's converters copy a folder with find_all_files + shutil.copy (which follows links
    and blocks on a FIFO); after copy_regular_files_only, links and FIFOs are not listed."""
    from nbgrader.converters import base

    folder = tmp_path / "sub"
    (folder / "data").mkdir(parents=True)
    (folder / "notes.txt").write_text("mine")
    (folder / "data" / "x.csv").write_text("1")
    os.symlink("/etc/passwd", folder / "passwd")
    os.symlink(folder / "data", folder / "linked_dir")
    os.mkfifo(folder / "pipe")
    original = base.find_all_files
    try:
        copy_regular_files_only()
        copy_regular_files_only()  # idempotent
        listed = {Path(p).relative_to(folder).as_posix() for p in base.find_all_files(str(folder), [])}
    finally:
        base.find_all_files = original
    assert listed == {"notes.txt", "data/x.csv"}


@pytest.mark.parametrize("kind", ["link", "fifo"])
def test_attnkit_grade_refuses_a_notebook_that_is_a_link_or_a_fifo(tmp_path: Path, kind: str) -> None:
    from attnkit.grading.course.selfgrade import grade_notebook

    notebook = tmp_path / "q4_qkv_math.ipynb"
    os.symlink(_notebook(tmp_path / "elsewhere.ipynb"), notebook) if kind == "link" else os.mkfifo(notebook)
    with pytest.raises(ValueError, match="reads a regular file only"):
        grade_notebook(notebook)


@pytest.mark.slow
@pytest.mark.sandbox
def test_attnkit_grade_flags_a_link_beside_the_notebook(tmp_path: Path) -> None:
    from attnkit.grading.course.selfgrade import grade_notebook

    release = Path(__file__).resolve().parents[1] / "quizzes" / "q4_qkv_math" / "q4_qkv_math.ipynb"
    folder = tmp_path / "q4_qkv_math"
    folder.mkdir()
    nbformat.write(nbformat.read(release, as_version=4), folder / release.name)
    os.symlink("/etc/passwd", folder / "notes.txt")
    result = grade_notebook(folder / release.name, workdir=tmp_path / "out", timeout=20)
    assert result.status == "flagged" and result.score == 0
    assert any("notes.txt is a symbolic link to '/etc/passwd'" in flag for flag in result.flags), result.flags
