"""attnkit.grading.content.catalogue: every declared exercise passes its reference and names each of its bugs,
every forbidden path resolves (package-level aliases included), and the docs table is the catalogue's."""
from __future__ import annotations

import dataclasses

import pytest

import attnkit
from attnkit.grading import checks
from attnkit.grading.content import catalogue
from attnkit.grading.content.engine import CheckFailed, check
from attnkit.grading.content.quizzes import QUIZ_IDS
from attnkit.grading.course.nbgrader_cli import REPO_ROOT


def _public_aliases() -> dict[int, list[str]]:
    """{id(object): every dotted public path of it}: names in ``__all__`` of attnkit's modules and
    subpackages (package-level aliases such as ``attnkit.top_k`` included), and their methods."""
    import importlib
    import pkgutil

    paths: dict[int, list[str]] = {}
    modules = ["attnkit", *(m.name for m in pkgutil.walk_packages(attnkit.__path__, "attnkit.")
                            if ".grading" not in m.name)]
    for name in modules:
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        for public in getattr(module, "__all__", ()):
            obj = getattr(module, public, None)
            paths.setdefault(id(obj), []).append(f"{name}.{public}")
            if isinstance(obj, type):
                for method in ("forward", "__call__"):
                    if method in vars(obj):
                        paths.setdefault(id(vars(obj)[method]), []).append(f"{name}.{public}.{method}")
    return paths


@pytest.mark.parametrize("exercise_id", [e.id for e in catalogue.exercises() if e.forbidden])
def test_every_forbidden_path_resolves_and_every_public_alias_is_forbidden_too(exercise_id: str) -> None:
    ex = catalogue.exercise(exercise_id)
    aliases = _public_aliases()

    def place(path: str) -> tuple[int, str]:  # patching owner.name is what forbid does
        owner, name = path.rsplit(".", 1)
        return id(catalogue.resolve(owner)), name

    patched = {place(p) for p in ex.forbidden}  # LookupError if a rename broke a path
    for path in ex.forbidden:
        if path.startswith("attnkit."):
            missing = {a for a in aliases.get(id(catalogue.resolve(path)), []) if place(a) not in patched}
            assert not missing, f"{ex.id} forbids {path} but not its aliases {sorted(missing)}"


def test_quiz_3_bans_the_package_level_aliases_of_what_it_asks_for() -> None:
    banned = {p for e in catalogue.exercises("q3_library") for p in e.forbidden}
    assert {"attnkit.soft_lookup", "attnkit.top_k", "attnkit.cosine_similarity",
            "attnkit.library.retrieval.soft_lookup", "attnkit.library.retrieval.top_k",
            "attnkit.library.retrieval.cosine_similarity"} <= banned

    def top_k(query, keys, k):
        return attnkit.top_k(query, keys, k)  # through the package-level alias
    with pytest.raises(CheckFailed, match="ready-made version"):
        checks.check_top_k(top_k)


@pytest.mark.parametrize("exercise_id", [e.id for e in catalogue.exercises()])
def test_every_declared_exercise_passes_its_reference_and_names_each_of_its_bugs(exercise_id: str) -> None:
    """For quizzes and lesson activities alike, straight from the declaration (no notebook)."""
    ex = catalogue.exercise(exercise_id)
    namespace = {name: catalogue.resolve(path) for name, path in ex.replacements.items()}
    if ex.reference is not None:  # (a reference may itself call what the learner may not)
        check(ex.reference, dataclasses.replace(ex, forbidden=()))
        check(ex.reference, dataclasses.replace(ex, forbidden=()), seed=7)
    assert ex.bugs, f"{ex.id} has no catalogued bug"
    for bug in ex.bugs:
        for seed in (0, 7):
            with pytest.raises(CheckFailed) as caught:
                check(bug.function(namespace), ex, seed)
            assert bug.message in str(caught.value), f"{bug.id} (seed {seed}) got: {caught.value}"


def test_docs_bug_table_is_generated_from_the_catalogue() -> None:
    from attnkit.grading.content.bugs import markdown_table

    assert markdown_table() in (REPO_ROOT / "docs" / "grading.md").read_text()

def test_the_registry_finds_every_exercise_module_and_ids_are_unique():
    import pkgutil

    import attnkit.grading.content.exercises as package

    modules = {m.name for m in pkgutil.iter_modules(package.__path__)}
    assert set(QUIZ_IDS) <= modules, "each quiz has its exercise module"
    declared = {e.quiz for e in catalogue.exercises()}
    assert set(QUIZ_IDS) <= declared
    assert len({e.id for e in catalogue.exercises()}) == len(catalogue.exercises())
    assert all(b.quiz and b.exercise for b in catalogue.bugs().values())
    assert catalogue.exercise("q4_qkv_math.softmax") is catalogue.exercise("softmax", "q4_qkv_math")
    with pytest.raises(KeyError, match="not declared"):
        catalogue.exercise("q4_qkv_math.no_such_exercise")


def test_resolve_fails_closed():
    assert catalogue.resolve("attnkit.library.retrieval.top_k") is attnkit.top_k
    assert catalogue.resolve("attnkit.MultiHeadAttention.forward") is attnkit.MultiHeadAttention.forward
    for path in ("attnkit.library.retrieval.top_kk", "attnkit.nothing.here", "no_such_package_xyz.f"):
        with pytest.raises(LookupError, match="does not resolve"):
            catalogue.resolve(path)


def test_replacements_and_adapters_are_dotted_paths_that_resolve():
    for ex in catalogue.exercises():
        for name, path in ex.replacements.items():
            assert isinstance(path, str) and callable(catalogue.resolve(path)), f"{ex.id}: {name} -> {path}"
        if ex.adapter:
            assert callable(catalogue.resolve(ex.adapter)), ex.id
