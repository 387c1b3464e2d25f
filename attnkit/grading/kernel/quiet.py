"""Quieting: a learner's function called by a check must not print to stderr.

nbgrader zeroes a test cell that shows any stderr output, so everything a learner's code writes
there (prints to ``sys.stderr``, warnings, numpy's overflow notes, C libraries writing to file
descriptor 2) is swallowed while a check calls it; ``sys.stdout`` too, where ``stdout=True``.
One implementation, used in the kernel (:mod:`attnkit.grading.kernel.runner`) and by the checks in
one process (:mod:`attnkit.grading.content.engine`).
"""
from __future__ import annotations

import contextlib
import io
import os
import warnings
from collections.abc import Iterator

import numpy as np

__all__ = ["quiet"]


@contextlib.contextmanager
def quiet(stdout: bool = False) -> Iterator[None]:
    """Swallow stderr (Python-level and file descriptor 2), warnings, numpy float notes and, if
    ``stdout``, Python-level stdout."""
    try:
        saved_fd: int | None = os.dup(2)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
        os.close(devnull)
    except OSError:
        saved_fd = None
    out = contextlib.redirect_stdout(io.StringIO()) if stdout else contextlib.nullcontext()
    try:
        with contextlib.redirect_stderr(io.StringIO()), out, warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            yield
    finally:
        if saved_fd is not None:
            os.dup2(saved_fd, 2)
            os.close(saved_fd)
