"""The grader side: starts the sandboxed kernel, drives it, and decides the points.

Nothing the kernel sends is trusted here: it is data from the learner's process.
"""
