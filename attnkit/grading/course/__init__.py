"""nbgrader's side of grading: its preprocessors, its CLI on a course directory, and the commands
``attnkit grade``, ``grade-class``, ``demo-class`` and ``bundle``."""
