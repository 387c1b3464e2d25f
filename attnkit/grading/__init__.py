"""Graded quizzes: checks that name mistakes, the bug catalogue, self-grading and a demo class.

Modules:
    bugs, bug_sources: the catalogue of typical bugs (``python -m attnkit.grading.bugs`` lists it).
    checks, engine, questions: what the quiz test cells call.
    feedback: the nbgrader preprocessor that keeps hidden tests out of feedback.
    selfgrade: ``attnkit grade <notebook>``; demo: ``attnkit demo-class``.

Nothing is imported here, so a quiz kernel loads only what its test cells use.
"""
__all__: list[str] = []
