"""attnkit.grading.cells: the one reader and writer of nbgrader's cell metadata."""
import nbformat

from attnkit.grading.cells import cells_by_id, grade_id, is_solution, is_test, meta, nbgrader_metadata, points


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
