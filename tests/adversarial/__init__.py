"""The adversarial corpus of issue 12: hostile and honest submissions of quiz 4 (see corpus.py)."""
