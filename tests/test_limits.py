"""attnkit.grading.limits: one object with every grading limit, read by all three entry points."""
from __future__ import annotations

import inspect

from attnkit.grading.limits import DEFAULT, GradingLimits


def test_a_cell_limit_scales_the_notebook_and_cpu_budgets() -> None:
    limits = GradingLimits.for_cell(8)
    assert (limits.cell_s, limits.notebook_s, limits.cpu_s) == (8.0, 120.0, 120)
    assert GradingLimits.for_cell(60).notebook_s == 600 and GradingLimits.for_cell(None) == DEFAULT
    assert limits.grace() == 8 * 1.25 + 3 and limits.sandbox().cpu_s == 120
    assert GradingLimits.for_cell(None, memory_mb=512).sandbox().memory_mb == 512


def test_the_entry_points_take_their_limits_from_here() -> None:
    from attnkit.grading.course import autograde, classgrade, selfgrade
    from attnkit.grading.grader import judge, selfjudge

    for module in (autograde, classgrade, selfgrade, judge, selfjudge):
        text = inspect.getsource(module)
        assert "= 60" not in text and "or 60" not in text and "cpu_factor" not in text, module.__name__
    assert autograde.JudgeInSandbox.timeout.default_value == DEFAULT.cell_s


def test_the_sandbox_limits_are_grading_limits_numbers() -> None:
    """sandbox.Limits holds no number of its own: its defaults are GradingLimits' (one source)."""
    import dataclasses

    from attnkit.grading.grader import sandbox

    assert sandbox.Limits() == DEFAULT.sandbox()
    changed = GradingLimits(memory_mb=1234, nproc=7, tmp_mb=9).sandbox()
    assert (changed.memory_mb, changed.nproc, changed.tmp_mb) == (1234, 7, 9)
    for field in dataclasses.fields(sandbox.Limits):
        assert field.default == getattr(DEFAULT, field.name), field.name
