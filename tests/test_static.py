"""attnkit.grading.grader.static: evidence read from the learner's cells, never executed."""
from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from attnkit.grading.cells import is_setup, is_test
from attnkit.grading.grader.static import copy_flags, static_flags

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("quiz", ["q1_bottleneck", "q2_spotlight", "q3_library", "q4_qkv_math",
                                  "q5_self_attention", "q6_multi_head"])
def test_no_solution_is_flagged(quiz: str) -> None:
    nb = nbformat.read(REPO / "solutions" / quiz / f"{quiz}.ipynb", as_version=4)
    sources = [(i, c.source) for i, c in enumerate(nb.cells)
               if c.cell_type == "code" and not is_test(c) and not is_setup(c)]
    assert static_flags(sources) == [] and copy_flags(sources) == []


def test_static_flags_name_the_tampering() -> None:
    flags = static_flags([(3, "import sys\nsys.modules['x'] = 1\nnp.allclose = lambda *a: True\n"
                              "get_ipython().input_transformers_post.append(f)\nopen('/work/x')")])
    text = " | ".join(flags)
    for expected in ("sys.modules", "patches a library", "input transformers", "outside its folder", "cell 3"):
        assert expected in text


@pytest.mark.parametrize("source,expected", [
    ("from sys import setprofile\nsetprofile(None)", "changes the profiler"),
    ("import threading\nthreading._profile_hook = None", "changes the profiler"),
    ("import os\nos.write(5, b'forged')", "raw file descriptors"),
    ("from os import write", "raw file descriptors"),
    ("print(os.listdir('/proc/self/fd'))", "file descriptors"),
    ("with torch._C.DisableTorchFunction():\n    pass", "function modes off"),
    ("torch._C._pop_torch_function_stack()", "torch's function modes"),
])
def test_ways_around_the_ban_and_the_pipe_are_flagged(source: str, expected: str) -> None:
    assert expected in " | ".join(static_flags([(0, source)]))
    assert static_flags([(0, "with open('notes.txt') as fh:\n    text = fh.read()\nprint(text)")]) == []
