"""The import-linter contract that `make test` runs really fails on a back arrow between the apps."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("ohnojo_dx", "budget", "kpi", "initiatives")
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def lint(tree):
    env = {**os.environ, "PYTHONPATH": str(tree)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--config", str(tree / "pyproject.toml")],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def tree(tmp_path):
    """A copy of the apps and the contract, to break on purpose."""
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_the_apps_as_they_are_keep_the_contract(tree):
    result = lint(tree)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    "lower, higher",
    [
        ("kpi/models.py", "budget.models"),
        ("initiatives/models.py", "kpi.models"),
        ("budget/views.py", "ohnojo_dx.views"),
    ],
)
def test_an_import_from_a_lower_app_into_a_higher_one_breaks_it(tree, lower, higher):
    module = tree / lower
    module.write_text(module.read_text(encoding="utf-8") + f"\nimport {higher}  # noqa\n", encoding="utf-8")
    result = lint(tree)
    assert result.returncode != 0
    assert "BROKEN" in result.stdout and higher in result.stdout
