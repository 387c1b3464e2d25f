"""attnkit.grading.cells: the one reader and writer of nbgrader's cell metadata, the one stripping
of hidden tests, and the restoring of test cells from the instructor's source."""
import nbformat

from attnkit.grading.cells import (
    HIDDEN,
    SOLUTION,
    cells_by_id,
    grade_id,
    is_solution,
    is_test,
    marked_regions,
    meta,
    nbgrader_metadata,
    points,
    strip_hidden_tests,
)


def test_metadata_round_trip_for_each_kind_of_cell():
    solution = nbformat.v4.new_code_cell("x = 1")
    solution.metadata["nbgrader"] = nbgrader_metadata("answer_x", solution=True)
    tests = nbformat.v4.new_code_cell("check(x)")
    tests.metadata["nbgrader"] = nbgrader_metadata("test_answer_x", grade=True, locked=True, points=2)
    plain = nbformat.v4.new_code_cell("y = 2")
    nb = nbformat.v4.new_notebook(cells=[solution, tests, plain])
    nbformat.validate(nb)
    assert (grade_id(solution), is_solution(solution), is_test(solution)) == ("answer_x", True, False)
    assert (is_test(tests), points(tests), meta(tests)["locked"]) == (True, 2.0, True)
    assert (grade_id(plain), meta(plain), is_test(plain)) == (None, {}, False)
    assert cells_by_id(nb) == {"answer_x": solution, "test_answer_x": tests}
    assert nbgrader_metadata("t")["schema_version"] == 3 and "points" not in nbgrader_metadata("t")


def test_hidden_tests_stripped_in_one_place():
    source = "check(x)\n    ### BEGIN HIDDEN TESTS\n    secret(x, seed=3)\n    ### END HIDDEN TESTS\ndone()"
    assert strip_hidden_tests(source) == "check(x)\ndone()"
    assert strip_hidden_tests(source, "# hidden") == "check(x)\n    # hidden\ndone()"
    two = "a\n### BEGIN HIDDEN TESTS\nb\n### END HIDDEN TESTS\nc\n### BEGIN HIDDEN TESTS\nd\n### END HIDDEN TESTS"
    assert strip_hidden_tests(two) == "a\nc"
    # a region whose END is missing hides everything after BEGIN (never shows a hidden line by mistake)
    assert strip_hidden_tests("a\n### BEGIN HIDDEN TESTS\nsecret()\nmore()") == "a"
    assert strip_hidden_tests("no regions\n") == "no regions\n"


def test_marked_regions_find_hidden_tests_and_solutions():
    source = ("### BEGIN SOLUTION\nx = 1\n### END SOLUTION\ncheck(x)\n### BEGIN HIDDEN TESTS\nsecret(x)\n"
              "### END HIDDEN TESTS\n### BEGIN HIDDEN TESTS\nunterminated()")
    assert marked_regions(source) == [(HIDDEN, "secret(x)"), (HIDDEN, "unterminated()"), (SOLUTION, "x = 1")]
    assert marked_regions(source, (SOLUTION,)) == [(SOLUTION, "x = 1")]
    assert marked_regions("plain") == []


def _graded_cell(source, grade_id, **kinds):
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata["nbgrader"] = nbgrader_metadata(grade_id, **kinds)
    return cell


def test_restoring_test_cells_from_the_instructor_source():
    """attnkit grade's restoring (the same rules as nbgrader's OverwriteCells with attnkit's Triage):
    the source's test cells, hidden tests included, in the source's order; the learner's answers;
    a deleted, edited, duplicated or invented grade cell noted and never used."""
    from attnkit.grading.grader.selfjudge import restore_cells

    source = nbformat.v4.new_notebook(cells=[
        _graded_cell("### BEGIN SOLUTION\nx = 1\n### END SOLUTION", "answer_x", solution=True),
        _graded_cell("check(x)\n### BEGIN HIDDEN TESTS\nsecret(x)\n### END HIDDEN TESTS", "test_x", grade=True,
                     locked=True, points=1),
        _graded_cell("### BEGIN SOLUTION\ny = 2\n### END SOLUTION", "answer_y", solution=True),
        _graded_cell("check(y)\n### BEGIN HIDDEN TESTS\nsecret(y)\n### END HIDDEN TESTS", "test_y", grade=True,
                     locked=True, points=1)])
    release_test_x = strip_hidden_tests(source.cells[1].source)
    learner = nbformat.v4.new_notebook(cells=[
        _graded_cell("x = 41", "answer_x", solution=True),
        _graded_cell(release_test_x, "test_x", grade=True, locked=True, points=1),  # untouched: not noted
        _graded_cell("pass", "test_x", grade=True, locked=True, points=1),  # a duplicate
        nbformat.v4.new_code_cell("helper = 3"),  # the learner's own cell, kept after answer_x's test
        _graded_cell("pass", "bonus", grade=True, locked=True, points=100),  # invented
        _graded_cell("y = 2", "answer_y", solution=True)])  # test_y deleted
    restored, notes = restore_cells(learner, source)
    assert [grade_id(c) for c in restored.cells] == ["answer_x", "test_x", None, None, "answer_y", "test_y"]
    assert restored.cells[0].source == "x = 41" and restored.cells[4].source == "y = 2"
    assert restored.cells[1].source == source.cells[1].source and "secret(y)" in restored.cells[5].source
    assert restored.cells[2].source == "helper = 3" and not is_test(restored.cells[3])
    assert sorted(notes) == ["duplicated cell test_x", "invented cell bonus", "test cell test_y deleted"]
    learner.cells[1].source = "pass"  # an edited test cell is noted, and the source's runs
    restored, notes = restore_cells(learner, source)
    assert "test cell test_x edited" in notes and restored.cells[1].source == source.cells[1].source
