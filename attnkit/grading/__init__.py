"""Graded quizzes: checks that name mistakes, the bug catalogue, self-grading and a demo class.

Used by the quizzes (``quizzes/q<N>_*``, after lessons 1-6) and the lessons' activities.

Modules:
    quizzes: the quiz ids and their lessons, in one place (``python -m attnkit.grading.quizzes``).
    catalogue, exercises/: every exercise declared once, with its reference, cases, catalogued
        bugs, forbidden built-ins and questions (``exercises/<quiz_id>.py``).
    engine: produce (run the learner's code, kernel side) and judge (grader side); checks: the
        ``check_<exercise>`` the test cells call; questions: the conceptual-answer checks.
    bugs: the catalogue as one list (``attnkit bugs``), and bug injection for the tests.
    answers: the one reader of the answer key (which lives only in the hidden tests).
    cells: nbgrader's cell metadata; course: nbgrader's CLI on a course directory.
    feedback: the nbgrader preprocessor that keeps hidden tests out of feedback.
    selfgrade: ``attnkit grade <notebook>``; demo: ``attnkit demo-class``.

Nothing is imported here, so a quiz kernel loads only what its test cells use.
"""
__all__: list[str] = []
