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
