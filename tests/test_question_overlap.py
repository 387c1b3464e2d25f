"""No two conceptual questions of different quizzes ask the same thing.

Each question of ``quizzes_src/*.md`` (its prose and options, from ``**Question N.**`` to its answer
cell) becomes a set of word stems without stop words; two questions are compared by the cosine of
their tf-idf vectors over all questions, so words every quiz uses ("weight", "percent") count little
and rare ones ("shuffle", "sequential") count a lot. A pair of different quizzes at ``THRESHOLD`` or
above asks the same thing, unless it is in ``DIFFERENT``, pairs read and judged different, each with
the reason. The threshold is set by the duplicates the course used to have (the first test).
"""
from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCES = sorted((ROOT / "quizzes_src").glob("q*.md"))
THRESHOLD = 0.25
STOP = set("""the a an of to and or in on at by for with from is are be it its this that what which how many does do
one two three each every when where than then as into not no yes answer number lesson quiz question still now
""".split())
DIFFERENT = {
    frozenset({"q2_retempered", "q4_third_weight"}):
        "both compute a weight in percent: one re-tempers a spotlight (w^(1/T)), the other is softmax of new scores",
    frozenset({"q6_weights_shape", "q7_cross_shape"}):
        "both ask a weights shape: q6 where the heads axis goes (B, H, L, S), q7 which sequence gives cross-attention "
        "its rows (decoder) and its columns (encoder)",
}
# duplicates the quizzes used to have: quiz 1 and quiz 6 both counted sequential steps, quiz 5 and quiz 7
# both shuffled the tokens of attention without positions
OLD_DUPLICATES = [
    ("q1_sequential_steps", "How many sequential steps does an RNN need to encode a 1000-word document, if each "
                            "step reads one word?",
     "q6_parallel_steps", "An RNN needs 1000 sequential steps for 1000 tokens. How many sequential steps over the "
                          "positions does one self-attention layer need? (A number.)"),
    ("q5_shuffle", "Self-attention without positions and without a mask runs on the tokens of `x`, then on the same "
                   "tokens in a shuffled order. How do the two outputs compare? * `\"a\"`: the same output vectors, in "
                   "the shuffled order * `\"b\"`: different output vectors: a token's output depends on where the "
                   "token stands * `\"c\"`: the same output vectors, in the original order",
     "q7_no_positions", "Remove the positional encoding from the encoder (no masks, no positions) and shuffle the "
                        "words of the source sentence. What happens to the encoder's output vectors? * `\"a\"`: they "
                        "are the same vectors, shuffled the same way as the words * `\"b\"`: they all change, "
                        "because every word attends to every other word * `\"c\"`: they stay in the original "
                        "order, because attention sorts them"),
]


def questions() -> dict[str, str]:
    """question id (``q<N>_<x>``) -> its prose and options."""
    found = {}
    for path in SOURCES:
        quiz = path.stem.split("_")[0]
        for m in re.finditer(r"\*\*Question \d+\.\*\*(.*?)```python solution answer_(\w+)", path.read_text(), re.S):
            found[f"{quiz}_{m[2]}"] = m[1]
    return found


def stems(text: str) -> frozenset[str]:
    text = re.sub(r"`[^`]*`", lambda m: m[0].replace("_", " "), text.lower())
    return frozenset(w.rstrip("s") for w in re.findall(r"[a-z0-9][a-z0-9\-]+", text)
                     if w not in STOP and len(w.rstrip("s")) > 2)


def similarity(texts: dict[str, str]) -> dict[frozenset[str], float]:
    """tf-idf cosine of every pair of questions from different quizzes."""
    docs = {qid: stems(t) for qid, t in texts.items()}
    df = Counter(w for ws in docs.values() for w in ws)
    idf = {w: math.log(len(docs) / n) for w, n in df.items()}

    def cosine(a: frozenset[str], b: frozenset[str]) -> float:
        norm = math.sqrt(sum(idf[w] ** 2 for w in a) * sum(idf[w] ** 2 for w in b))
        return sum(idf[w] ** 2 for w in a & b) / norm if norm else 0.0

    return {frozenset({x, y}): cosine(docs[x], docs[y]) for x, y in itertools.combinations(docs, 2)
            if x.split("_")[0] != y.split("_")[0]}


def test_the_measure_sees_the_old_duplicates():
    for a, a_text, b, b_text in OLD_DUPLICATES:
        texts = {qid: t for qid, t in questions().items() if qid not in (a, b)}  # the old pair in today's course
        scores = similarity({**texts, a: a_text, b: b_text})
        assert scores[frozenset({a, b})] >= THRESHOLD, f"{a} and {b} asked the same thing: the measure should see it"


def test_every_quiz_has_its_questions_read():
    ids = questions()
    assert len(ids) >= 20 and {q.split("_")[0] for q in ids} >= {f"q{n}" for n in range(1, 7)}, sorted(ids)


def test_no_two_quizzes_ask_the_same_thing():
    same = sorted((round(score, 2), sorted(pair)) for pair, score in similarity(questions()).items()
                  if score >= THRESHOLD and pair not in DIFFERENT)
    assert not same, "questions of different quizzes that look alike (rewrite one side, or add the pair to " \
                     f"DIFFERENT with the reason they differ): {same}"


@pytest.mark.parametrize("pair", sorted(DIFFERENT, key=sorted), ids=lambda p: "-".join(sorted(p)))
def test_every_pair_judged_different_still_exists(pair):
    assert pair <= set(questions()), f"{sorted(pair)} is in DIFFERENT but a question is gone: remove the entry"
