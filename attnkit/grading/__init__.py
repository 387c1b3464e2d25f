"""Graded quizzes, laid out by who trusts whom.

Used by the quizzes (``quizzes/q<N>_*``), the lessons' activities and the instructor's commands.

Folders, from the inside of the sandbox out:
    kernel/: the only part of the package that exists inside the grading sandbox. It runs the
        learner's cells and answers the grader's requests with plain data (``runner``), and forks
        a fresh sandboxed kernel per student from a warm parent (``zygote``). Nothing here decides
        a grade.
    grader/: outside the sandbox, where the points are decided: starts the sandbox and the warm
        kernels (``sandbox``, ``warm``), drives the kernel and judges the test cells (``judge``),
        grades one notebook in one process (``selfjudge``).
    content/: what is graded: the quiz ids (``quizzes``), every exercise declared once with its
        reference, cases and catalogued bugs (``catalogue``, ``exercises/``), the conceptual
        questions (``questions``), the answer key reader (``answers``), the bug list (``bugs``), and
        the checking machinery the lessons and the grader share (``engine``).
    course/: nbgrader's side: its preprocessors (``autograde``, ``feedback``), its CLI on a course
        directory (``nbgrader_cli``), and the commands ``attnkit grade`` (``selfgrade``),
        ``grade-class`` (``classgrade``), ``demo-class`` (``demo``) and ``bundle``.

Beside them: ``checks``, what the quiz test cells call (``from attnkit.grading.checks import
...``), and ``cells``, nbgrader's cell metadata read and written in one place.

Nothing is imported here, so a quiz kernel loads only what its test cells use, and the sandbox
can show this file beside ``kernel/`` alone.
"""
__all__: list[str] = []
