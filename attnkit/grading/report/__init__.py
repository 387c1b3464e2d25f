"""``attnkit report``: what the class got wrong, for the instructor.

Modules of one concept each:

* :mod:`~attnkit.grading.report.collect`: one quiz's class read from the gradebook database (points
  per test cell, statuses, and the misconceptions recorded by
  :mod:`attnkit.grading.course.misconceptions`), with the lesson sections of the teaching map;
* :mod:`~attnkit.grading.report.plots`: matplotlib figures as data URIs with alt text;
* :mod:`~attnkit.grading.report.page`: the self-contained, escaped, accessible HTML page;
* :mod:`~attnkit.grading.report.export`: the text summary and the CSV;
* :mod:`~attnkit.grading.report.command`: the command line (``attnkit report QUIZ``, ``--all``, ``--csv``).
"""
from __future__ import annotations

__all__: list[str] = []
