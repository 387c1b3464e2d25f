"""One module per quiz (``q<N>_<topic>.py``) or lesson activity (``lesson<N>_<topic>.py``), each
declaring ``EXERCISES`` and ``QUESTIONS`` (and optionally ``QUIZ``, the id they belong to); see
:mod:`attnkit.grading.content.catalogue` for the declaration API. Modules are found by name: adding one
registers it."""
