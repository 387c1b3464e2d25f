"""Grading a class across machines (issue 19): a PostgreSQL gradebook and grading jobs on procrastinate.

``database`` (which server, gradebook bootstrap), ``app`` (the procrastinate app, the grading
task, schema versions), ``jobs`` (what one job does on a worker), ``gradebook`` (a worker's warm
gradebook connections), ``worker``, ``submit``, ``status`` (the ``attnkit queue`` subcommands) and
``lms`` (grades out to Canvas and Moodle).
"""
