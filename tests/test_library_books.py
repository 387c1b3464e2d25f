"""The lesson-3 library is well formed: keys and values are separate texts, questions have answers."""
from attnkit.library.books import BOOKS, SAMPLE_QUESTIONS, SHELVES, book_contents, shelf_of, spine_labels, titles


def test_size_and_uniqueness():
    assert 16 <= len(BOOKS) <= 24, len(BOOKS)
    for name, column in [("title", titles()), ("spine", spine_labels()), ("contents", book_contents())]:
        assert len(set(column)) == len(BOOKS), f"two books share a {name}"


def test_keys_and_values_are_different_texts():
    for book in BOOKS:
        assert book.spine != book.contents and len(book.spine) < len(book.contents), book.title
        assert book.spine.lower() not in book.contents.lower(), f"{book.title}: contents repeat the spine"


def test_every_shelf_is_used_and_known():
    assert set(shelf_of()) == set(SHELVES)
    assert spine_labels()[:2] == ["neural networks", "deep learning"], "the newsletter's two phrases"


def test_sample_questions_name_real_books():
    known = set(titles())
    for question, answer in SAMPLE_QUESTIONS:
        assert answer in known, f"{question!r} points to a book that is not in the library: {answer!r}"
