"""The kernel side of grading: the only code of ``attnkit.grading`` bound into the sandbox.

Everything here runs next to the learner's code and is trusted by nobody: it answers the grader's
requests and decides nothing. It imports nothing from the rest of ``attnkit.grading`` (which does
not exist inside the sandbox).
"""
