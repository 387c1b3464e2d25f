"""Imported first by ``grade-class``'s forkserver (and nowhere else), before nbgrader.

jsonschema imports ``rfc3987_syntax`` where it is installed (a Jupyter dependency), which compiles
an IRI grammar at import: 0.7 s of the class's start, on the critical path, for a format check
that nbformat, nbconvert and nbgrader never ask for (none of them passes a format checker). The
worker processes forked from the forkserver simply do without it.
"""
import sys

sys.modules.setdefault("rfc3987_syntax", None)  # `import rfc3987_syntax` raises ImportError: skipped
