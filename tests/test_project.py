"""The repository's promises: one environment described twice alike, clean notebooks, CI = README's test command."""
import json
import re
import subprocess
from pathlib import Path

import pytest

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib
import yaml  # pyyaml comes with jupyter

ROOT = Path(__file__).resolve().parents[1]


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[ ;]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def _pyproject():
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_environment_yml_names_the_same_packages_as_pyproject():
    project = _pyproject()["project"]
    wanted = {r for r in project["dependencies"] + project["optional-dependencies"]["dev"]}
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    pip_lines = [line for line in pip_section if not line.startswith(("-e", "--"))]
    text = "\n".join(pip_section)
    assert {_name(r) for r in pip_lines} == {_name(r) for r in wanted}
    assert sorted(pip_lines) == sorted(wanted), "the same version ranges in both files"
    assert "-e .[dev]" in text, "environment.yml installs attnkit editable"


def test_dependencies_are_ranges_not_pins():
    for requirement in _pyproject()["project"]["dependencies"]:
        assert "==" not in requirement, f"{requirement}: use a range, not an exact pin"


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    commands = re.findall(r"^(make \w+)\s+#", readme, re.M)
    assert commands[:2] == ["make lab", "make test"], "the two set-up commands head the README"
    ci = (ROOT / ".ci" / "run").read_text()
    assert re.search(r"^make test$", ci, re.M), ".ci/run must call the README's test command"
    assert "set -e" in ci, ".ci/run must fail when the tests fail"


def _tracked(pattern: str) -> list[Path]:
    out = subprocess.run(["git", "ls-files", pattern], cwd=ROOT, capture_output=True, text=True).stdout
    return [ROOT / p for p in out.split()]


@pytest.mark.parametrize("notebook", _tracked("lessons/*.ipynb"), ids=lambda p: p.name)
def test_lessons_are_stored_without_outputs_and_open_with_imports(notebook):
    nb = json.loads(notebook.read_text())
    assert not any(c.get("outputs") for c in nb["cells"]), f"clear the outputs of {notebook.name}"
    assert not any(c.get("execution_count") for c in nb["cells"] if c["cell_type"] == "code")
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    first = "".join(code[0]["source"])
    assert "import" in first, "cell 1 holds the imports"
    for c in code:
        src = "".join(c["source"])
        assert "import *" not in src and "!pip" not in src and "%pip" not in src, notebook.name


def test_nbgrader_working_folders_are_ignored():
    ignored = (ROOT / ".gitignore").read_text().split()
    for path in ("submitted/", "autograded/", "feedback/", "gradebook.db"):
        assert path in ignored


def _lesson_table(text: str) -> dict[str, str]:
    """{lesson number: its row} of the lesson table between its markers."""
    block = text.split("<!-- lesson table")[1].split("<!-- end of lesson table -->")[0] if "<!--" in text \
        else text.split("| lesson | core")[1]
    return {m[1]: m[0] for m in re.finditer(r"^\| (\d+) [^\n]*", block, re.M)}


def test_readme_and_package_docstring_map_each_lesson_to_the_code_behind_it():
    import attnkit

    readme = _lesson_table((ROOT / "README.md").read_text())
    assert readme == _lesson_table(attnkit.__doc__), "README.md and attnkit/__init__.py hold the same table"
    assert {str(n) for n in range(1, 7)} <= set(readme)
    for number, row in readme.items():
        named = set(re.findall(r"`([\w/]+\.py)`", row))
        for path in named:
            assert (ROOT / "attnkit" / path).is_file(), f"lesson {number}'s row names attnkit/{path}, which is missing"
        notebook = next((ROOT / "lessons").glob(f"{int(number):02d}_*.ipynb"))
        code = "\n".join("".join(c["source"]) for c in json.loads(notebook.read_text())["cells"]
                         if c["cell_type"] == "code")
        imported = {m.replace(".", "/") + ".py" for m in re.findall(r"from attnkit\.([\w.]+) import", code)}
        whole = set(re.findall(r"`(\w+)/\*`", row))  # `translation/*`: every module of the subpackage
        missing = {p for p in imported if p not in named and p.split("/")[0] not in whole}
        assert not missing, f"lesson {number} imports {sorted(missing)}: add them to its row of the lesson table"


@pytest.mark.parametrize("package", ["translation", "library", "transformer", "experiments"])
def test_each_topic_subpackage_says_which_lessons_use_it(package):
    import importlib

    doc = importlib.import_module(f"attnkit.{package}").__doc__
    used = re.search(r"Used by lessons? ([\d, and]+)", doc)
    assert used, f"attnkit/{package}/__init__.py must say 'Used by lessons N, M'"
    said = set(re.findall(r"\d+", used[1]))
    actual = {nb.name[:2].lstrip("0") for nb in (ROOT / "lessons").glob("*.ipynb")
              if f"attnkit.{package}" in nb.read_text()}
    assert said == actual, f"attnkit.{package} says lessons {sorted(said)} but is imported by {sorted(actual)}"


def test_ruff_finds_nothing():
    """The lint rules in pyproject.toml ([tool.ruff]) hold for the whole repository (`make lint`)."""
    import sys

    pytest.importorskip("ruff", reason="ruff comes with the dev extra: pip install -e '.[dev]'")
    done = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", str(ROOT)], cwd=ROOT,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-1000:]
