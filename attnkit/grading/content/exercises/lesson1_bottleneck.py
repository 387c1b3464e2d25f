"""Lesson 1's activities: score a translation word by word, guess what a bigger vector buys, find
the length where the fixed vector starts to fail.

Declared like a quiz's exercises (see :mod:`attnkit.grading.content.catalogue`); the lesson calls them
through :mod:`attnkit.activities`.
"""
from __future__ import annotations

import random

from attnkit.activities import Prediction
from attnkit.grading.content.catalogue import Bug, Case, Exercise, change
from attnkit.translation.toy_language import generate_sentence, translate

QUIZ = "lesson1"


def token_accuracy(predicted, reference):
    """The share of reference words the translation has at the same position (missing = wrong)."""
    correct = 0
    for position, word in enumerate(reference):
        if position < len(predicted) and predicted[position] == word:
            correct += 1
    return correct / len(reference)


def token_accuracy_cases(seed: int) -> list[Case]:
    french = translate(generate_sentence(8 + seed % 5, random.Random(seed))).split()
    slipped = french[:3] + french[4:] + ["<pad>"]  # one word dropped: everything after it shifts
    return [Case("a perfect translation", ["le", "chat", "noir", "assis"], ["le", "chat", "noir", "assis"]),
            Case("a translation that stopped after 2 of 4 words", ["le", "chat"], ["le", "chat", "noir", "assis"]),
            Case("two words swapped", ["le", "noir", "chat", "assis"], ["le", "chat", "noir", "assis"]),
            Case("one word dropped in a longer sentence", slipped, french)]


_ACCURACY = '''
def token_accuracy(predicted, reference):
    correct = {count}
    return {share}
'''
_RIGHT = {"count": "sum(p == r for p, r in zip(predicted, reference))", "share": "correct / len(reference)"}

EXERCISES = [
    Exercise(
        "token_accuracy", reference=token_accuracy, cases=token_accuracy_cases,
        bugs=[
            Bug("accuracy_bag_of_words",
                "a word counts as right wherever it appears in the translation: the lesson scores word by "
                "word, at the same position, so a translation in the wrong order must lose points.",
                change(_ACCURACY, _RIGHT, count="sum(word in predicted for word in reference)")),
            Bug("accuracy_divides_by_output",
                "you divided by the number of words the model wrote: a translation that stops after two "
                "right words would score 100%. Divide by what it should have written.",
                change(_ACCURACY, _RIGHT, share="correct / len(predicted)")),
            Bug("accuracy_count_not_share",
                "this returns how many words are right, not the share: an accuracy lies between 0 and 1, "
                "so sentences of different lengths can be compared.",
                change(_ACCURACY, _RIGHT, share="correct")),
        ]),
]

PREDICTIONS = [
    Prediction("lesson1.bigger_vector",
               "the token accuracy, in percent, of the fixed-vector model with D = 256 on the longest "
               "test sentences",
               "Twice the numbers shift the curve a few words to the right; they do not stop its fall.",
               unit="%", tolerance=10.0, solved=50.0),
    Prediction("lesson1.longest_good_length",
               "the longest sentence length at which the fixed vector (D = 128) still gets at least 90% "
               "of the words right",
               "Below about a dozen words the summary carries the sentence; past that, every extra word costs.",
               tolerance=1.0, solved=13.0, knob=True),
]
