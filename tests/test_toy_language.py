"""The toy English -> French language: determinism, lengths, and the reordering rule."""
import random

import pytest

from attnkit.translation.toy_language import (
    ADJECTIVES,
    ADVERBS,
    CONJUNCTIONS,
    DETERMINERS,
    NOUNS,
    PREPOSITIONS,
    VERBS,
    UnknownWordError,
    Vocab,
    alignment,
    generate_pairs,
    generate_sentence,
    source_vocab,
    target_vocab,
    train_test_split,
    translate,
)


def test_newsletter_example():
    assert translate("the black cat sat") == "le chat noir assis"


@pytest.mark.parametrize("english, french", [
    ("the black cat sat", "le chat noir assis"),            # adjective moves behind the noun
    ("a small white mouse slept", "une souris petite blanche dormit"),  # two adjectives keep their order
    ("the mouse sat on the black mat", "la souris assis sur le tapis noir"),  # article agrees with a later noun
    ("every cat ran and the dog slept", "chaque chat courut et le chien dormit"),
])
def test_translate_reorders_and_agrees(english, french):
    assert translate(english) == french


@pytest.mark.parametrize("wrong", [
    "le noir chat assis",   # word for word, no reordering: the learner's first guess
    "la chat noir assis",   # wrong gender on the article
    "le chat noire assis",  # feminine adjective with a masculine noun
])
def test_translate_rejects_the_wrong_answers(wrong):
    assert translate("the black cat sat") != wrong


def test_every_generated_pair_follows_the_rule():
    """In every pair the French adjectives sit right after their noun, with the noun's gender."""
    french_nouns = {fr: g for fr, g in NOUNS.values()}
    adjective_forms = {form: (i and "f" or "m") for m, f in ADJECTIVES.values() for i, form in enumerate((m, f))}
    for english, french in generate_pairs(300, 3, 30, seed=3):
        en, fr = english.split(), french.split()
        assert len(en) == len(fr), (english, french)
        for i, word in enumerate(en):
            if word in DETERMINERS:  # a noun phrase starts here: det adj* noun
                j = i + 1
                while en[j] in ADJECTIVES:
                    j += 1
                gender = NOUNS[en[j]][1]
                assert fr[i] == DETERMINERS[word][gender == "f"], (english, french)
                assert fr[i + 1] == NOUNS[en[j]][0], (english, french)
                for k in range(i + 2, j + 1):
                    assert ADJECTIVES[en[k - 1]][gender == "f"] == fr[k], (english, french)
                    # invariant adjectives (rouge) have the same form for both genders
                    assert fr[k] in adjective_forms
                assert french_nouns[fr[i + 1]] == gender


def test_generate_pairs_is_deterministic_and_seeded():
    assert generate_pairs(50, seed=7) == generate_pairs(50, seed=7)
    assert generate_pairs(50, seed=7) != generate_pairs(50, seed=8)


@pytest.mark.parametrize("length", [3, 4, 5, 7, 16, 17, 20, 30, 45])
def test_generate_sentence_has_exact_length(length):
    rng = random.Random(length)
    for _ in range(30):
        sentence = generate_sentence(length, rng)
        assert len(sentence.split()) == length
        translate(sentence)  # grammatical: raises on a broken noun phrase


def test_lengths_cover_the_range():
    lengths = {len(e.split()) for e, _ in generate_pairs(2000, 3, 30, seed=0)}
    assert lengths == set(range(3, 31))


def test_too_short_or_bad_range_is_an_error():
    with pytest.raises(ValueError, match="length is 2"):
        generate_sentence(2, random.Random(0))
    with pytest.raises(ValueError, match="min_len=10, max_len=5"):
        generate_pairs(5, 10, 5)


def test_split_has_no_overlap_and_no_duplicates():
    pairs = generate_pairs(3000, 3, 6, seed=0)  # short sentences repeat
    train, test = train_test_split(pairs, 0.2, seed=0)
    assert not set(train) & set(test)
    assert len(set(train)) == len(train) and len(set(test)) == len(test)
    assert len(train) + len(test) == len(set(pairs))
    assert train_test_split(pairs, 0.2, seed=0) == (train, test)


def test_vocab_round_trip_and_specials():
    vocab = source_vocab()
    ids = vocab.encode("the black cat sat")
    assert ids[-1] == Vocab.eos_id and Vocab.pad_id not in ids
    assert vocab.decode(ids + [Vocab.pad_id] * 3) == ["the", "black", "cat", "sat"]
    assert vocab.decode([Vocab.bos_id] + ids) == ["the", "black", "cat", "sat"]
    assert vocab.itos[:3] == ["<pad>", "<bos>", "<eos>"]


def test_vocabularies_cover_the_language():
    src, tgt = source_vocab(), target_vocab()
    for english, french in generate_pairs(200, 3, 30, seed=1):
        src.encode(english)
        tgt.encode(french)


@pytest.mark.parametrize("sentence, message", [
    ("the purple cat sat", "'purple'"),
    ("cat sat", "without a determiner"),
    ("the black sat", "expected a noun"),
])
def test_unknown_words_are_named(sentence, message):
    with pytest.raises(UnknownWordError, match=message):
        translate(sentence)
    assert issubclass(UnknownWordError, ValueError)


def test_encode_names_unknown_word():
    with pytest.raises(UnknownWordError, match="zebra"):
        source_vocab().encode("the zebra sat")


@pytest.mark.parametrize("english, expected", [
    ("the black cat sat", [0, 2, 1, 3]),
    ("a small white mouse slept", [0, 3, 1, 2, 4]),
    ("every dog ran", [0, 1, 2]),
])
def test_alignment_points_each_french_word_at_its_english_word(english, expected):
    assert alignment(english) == expected


def test_alignment_is_a_permutation_that_translates_word_by_word():
    single = {**VERBS, **PREPOSITIONS, **ADVERBS, **CONJUNCTIONS}
    for english, french in generate_pairs(100, 3, 30, seed=4):
        en, fr, source = english.split(), french.split(), alignment(english)
        assert sorted(source) == list(range(len(en))), "each English word is used once"
        for t, s in enumerate(source):
            forms = {NOUNS[en[s]][0]} if en[s] in NOUNS else set(
                ADJECTIVES.get(en[s]) or DETERMINERS.get(en[s]) or {single[en[s]]})
            assert fr[t] in forms, (english, french, t)
