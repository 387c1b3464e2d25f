"""A small library for Lesson 3: each book has a spine label (its key) and contents (its value).

The newsletter's analogy: a query is what you look for, the *key* is the label on a book's spine
(what the book is about), the *value* is what is inside the book. Here the two are separate
texts, so a lesson can search by the spine and read the contents:

    >>> from attnkit.library.books import BOOKS, spine_labels
    >>> BOOKS[0].spine
    'neural networks'
    >>> len(spine_labels()) == len(BOOKS)
    True

The descriptions were written for this course; the shelves group them for the lesson's plots.
"""
from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Book", "BOOKS", "SHELVES", "SAMPLE_QUESTIONS", "spine_labels", "book_contents", "shelf_of", "titles"]


@dataclass(frozen=True)
class Book:
    """One book: ``spine`` is the key text, ``contents`` the value text, ``shelf`` its section."""

    title: str
    spine: str
    contents: str
    shelf: str


BOOKS: tuple[Book, ...] = (
    # -- machine learning ------------------------------------------------------------------
    Book("Layers of Thought", "neural networks",
         "How stacked layers of weighted sums and nonlinearities turn pixels into predictions, "
         "and how backpropagation adjusts every weight.", "machine learning"),
    Book("Going Deeper", "deep learning",
         "Training very deep models on large data sets with GPUs: convolutions, residual "
         "connections, dropout and the tricks that make them converge.", "machine learning"),
    Book("The Search Engine Inside", "vector search and embeddings",
         "Turning documents into vectors so that similar meanings sit close together, and "
         "finding the nearest ones fast.", "machine learning"),
    Book("Reading Machines", "natural language processing",
         "Tokenizers, language models and translation systems that read and write human text.",
         "machine learning"),
    # -- cooking ---------------------------------------------------------------------------
    Book("Pasta by Hand", "Italian cooking",
         "Fresh egg dough rolled thin, slow tomato sauces, and risotto stirred until creamy.",
         "cooking"),
    Book("The Bread Oven", "baking bread",
         "Sourdough starters, long fermentation and a crust that crackles as the loaf cools.",
         "cooking"),
    Book("Fire and Spice", "Indian curries",
         "Toasting whole spices, building a masala and simmering lentils into a rich dal.",
         "cooking"),
    Book("Sweet Endings", "desserts and pastry",
         "Custards, fruit tarts, chocolate mousse and the patience that laminated dough needs.",
         "cooking"),
    # -- nature ----------------------------------------------------------------------------
    Book("Beyond the Moon", "astronomy",
         "Planets, stars and galaxies seen through a backyard telescope on a clear night.",
         "nature"),
    Book("Green Fingers", "gardening",
         "Planting vegetables, pruning roses and keeping the soil alive with compost.",
         "nature"),
    Book("Feathers", "birdwatching",
         "Telling warblers from finches by song and plumage, and where to find them each season.",
         "nature"),
    Book("Deep Blue", "oceans and marine life",
         "Coral reefs, whales and the strange animals living in the dark water far below.",
         "nature"),
    # -- history ---------------------------------------------------------------------------
    Book("Stones of Rome", "the Roman Empire",
         "Legions, aqueducts and emperors, from the founding of the city to its fall.",
         "history"),
    Book("Crowns and Castles", "medieval Europe",
         "Knights, monasteries, plague and the slow growth of towns between 500 and 1500.",
         "history"),
    Book("Engines of Change", "the Industrial Revolution",
         "Steam power, cotton mills and railways that moved people from farms into cities.",
         "history"),
    Book("Race to the Stars", "the space race",
         "Sputnik, the Apollo missions and the first footsteps on the Moon.", "history"),
    # -- arts and leisure ------------------------------------------------------------------
    Book("Six Strings", "learning guitar",
         "Chords, strumming patterns and the first songs a beginner can play by ear.", "leisure"),
    Book("The Beautiful Game", "football",
         "Tactics, famous matches and how a club trains its players through a season.",
         "leisure"),
    Book("Open Board", "chess strategy",
         "Openings, pawn structures and the endgames every player should know.", "leisure"),
    Book("On the Road", "travel in Japan",
         "Temples in Kyoto, trains across the country and bowls of ramen in Tokyo.", "leisure"),
)

SHELVES: tuple[str, ...] = ("machine learning", "cooking", "nature", "history", "leisure")

# (question a reader might ask, title of the book that answers it): the lesson's retrieval check
SAMPLE_QUESTIONS: tuple[tuple[str, str], ...] = (
    ("How do computers learn to recognise cats in photos?", "Layers of Thought"),
    ("finding similar documents with embeddings", "The Search Engine Inside"),
    ("I want to make fresh pasta", "Pasta by Hand"),
    ("spicy food with lentils", "Fire and Spice"),
    ("what can I see through a telescope?", "Beyond the Moon"),
    ("how to grow tomatoes", "Green Fingers"),
    ("which bird is singing in my garden?", "Feathers"),
    ("who built the aqueducts?", "Stones of Rome"),
    ("the Apollo 11 landing", "Race to the Stars"),
    ("steam engines and factories", "Engines of Change"),
    ("a good opening move", "Open Board"),
    ("my first chords", "Six Strings"),
)


def spine_labels(books: tuple[Book, ...] = BOOKS) -> list[str]:
    """The key texts, one per book: what each book is about."""
    return [book.spine for book in books]


def book_contents(books: tuple[Book, ...] = BOOKS) -> list[str]:
    """The value texts, one per book: what is inside each book."""
    return [book.contents for book in books]


def titles(books: tuple[Book, ...] = BOOKS) -> list[str]:
    """The book titles, for plot labels."""
    return [book.title for book in books]


def shelf_of(books: tuple[Book, ...] = BOOKS) -> list[str]:
    """The shelf (section) of each book, one of :data:`SHELVES`."""
    return [book.shelf for book in books]
