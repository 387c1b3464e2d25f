"""``attnkit bundle``: what the students of a class receive, and nothing they must not see.

Two deployments (docs/grading.md):

* **self-paced**: a learner clones the repository; ``solutions/`` is there and ``attnkit grade``
  runs the hidden tests too (a learner who wants to read the answers can, and only cheats
  themselves);
* **a class**: the instructor keeps the repository (``solutions/``, the gradebook, submissions)
  and gives students the bundle this module builds: the lessons, the quiz releases, the attnkit
  package, the set-up files. It holds no solution notebook, no hidden test and no answer key:
  :func:`build_bundle` refuses to write a bundle in which any line of a solution region or a
  hidden-test region of ``solutions/`` (or a quiz source) turns up, and a test checks it.
  In a bundle, ``attnkit grade`` runs the visible tests only and says so; the instructor's
  ``attnkit grade-class`` runs the hidden ones.
"""
from __future__ import annotations

import re
import subprocess
import tarfile
from pathlib import Path

from attnkit.grading.cells import HIDDEN, SOLUTION, marked_regions
from attnkit.grading.course.nbgrader_cli import REPO_ROOT

__all__ = ["INCLUDE", "EXCLUDE", "secret_lines", "build_bundle", "check_bundle"]

INCLUDE = ("README.md", "pyproject.toml", "environment.yml", "Makefile", "LICENSE", "attnkit/", "lessons/",
           "quizzes/", "docs/", "jupyter_config/")
EXCLUDE = ("solutions/", "quizzes_src/", "tests/", "scripts/", "benchmarks/", "nbgrader_config.py", "gradebook.db",
           "submitted/", "autograded/", "feedback/", "release/", "grades.csv", "grading_status.csv", ".ci/")
_TRIVIAL = re.compile(r"^[\s\w.,()\[\]=+\-*/:'\"#]{0,24}$")


def _files(root: Path) -> list[str]:
    try:
        listed = subprocess.run(["git", "ls-files", "-z"], cwd=root, capture_output=True, check=True).stdout
        names = [n for n in listed.decode().split("\0") if n]
    except (OSError, subprocess.CalledProcessError):
        names = [p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()]
    return sorted(n for n in names if n.startswith(INCLUDE) and not n.startswith(EXCLUDE)
                  and "__pycache__" not in n and (root / n).is_file())


def secret_lines(root: Path = REPO_ROOT) -> dict[str, set[str]]:
    """Every non-trivial line of the hidden-test regions (``"hidden"``) and of the solution regions
    (``"solution"``) of the instructor's sources."""
    import nbformat

    found: dict[str, set[str]] = {HIDDEN: set(), SOLUTION: set()}
    texts = [c.source + "\n" for p in sorted((root / "solutions").glob("*/*.ipynb"))
             for c in nbformat.read(p, as_version=4).cells]
    texts += [p.read_text() for p in sorted((root / "quizzes_src").glob("*.md"))]
    for text in texts:
        for kind, region in marked_regions(text):
            found[kind].update(line.strip() for line in region.splitlines())
    keep = lambda lines: {s for s in lines if len(s) >= 16 and not _TRIVIAL.match(s)}  # noqa: E731
    return {"hidden": keep(found[HIDDEN]), "solution": keep(found[SOLUTION])}


def check_bundle(files: dict[str, bytes], secrets: dict[str, set[str]]) -> list[str]:
    """The problems of a would-be bundle: forbidden paths, hidden-test lines anywhere, solution
    lines or regions in a notebook. (attnkit's own code implements what the exercises ask, by
    design: the checks forbid calling it and flag copying it.)"""
    import json

    problems = [f"{name}: must not be in a class bundle" for name in files if name.startswith(EXCLUDE)]
    for name, data in files.items():
        try:
            text = data.decode()
        except UnicodeDecodeError:
            continue
        notebook = name.endswith(".ipynb")
        if notebook:  # lines sit inside JSON strings
            try:
                text = "\n".join("".join(c.get("source", "")) for c in json.loads(text).get("cells", []))
            except ValueError:
                pass
            if marked_regions(text):
                problems.append(f"{name}: holds a hidden-test or solution region")
        lines = {line.strip() for line in text.splitlines()}
        for kind in ("hidden", "solution") if notebook else ("hidden",):
            leaked = sorted(lines & secrets[kind])
            if leaked:
                problems.append(f"{name}: holds {len(leaked)} line(s) of the {kind} regions, e.g. {leaked[0]!r}")
    return problems


def build_bundle(out: str | Path, root: Path = REPO_ROOT) -> Path:
    """Write the class bundle (``.tar.gz``, top folder ``attnkit-course/``) to ``out``.

    Raises:
        RuntimeError: a file of the bundle would hold a solution, a hidden test or the answer key.
    """
    out = Path(out)
    files = {name: (root / name).read_bytes() for name in _files(root)}
    problems = check_bundle(files, secret_lines(root))
    if problems:
        raise RuntimeError("refusing to build the class bundle:\n  " + "\n  ".join(problems[:20]))
    out.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(out, "w:gz") as tar:
        for name in files:
            tar.add(root / name, arcname=f"attnkit-course/{name}")
    return out


def main(out: str = "dist/attnkit-course.tar.gz") -> int:
    path = build_bundle(out)
    with tarfile.open(path) as tar:
        count = len(tar.getnames())
    print(f"class bundle: {path} ({count} files; no solutions/, no hidden tests, no answer key)")
    return 0
