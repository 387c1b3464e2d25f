"""What is graded: quizzes, exercises with their references and catalogued bugs, questions, the
answer key reader, and the checking machinery that lessons and grader share.

Nothing is imported here (``python -m attnkit.grading.content.quizzes`` stays cheap).
"""
