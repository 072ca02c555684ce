"""The apps import in one direction (pyproject.toml [tool.importlinter], README "Layout"): the contract holds for the
code as it is, and an import against the direction — filings reaching up into review — breaks it."""
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"
APPS = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]["root_packages"]


def lint_imports(cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo", str(cwd / "pyproject.toml")],
        cwd=cwd, capture_output=True, text=True, timeout=120, env={"PYTHONPATH": str(cwd), "PATH": "/usr/bin:/bin"},
    )


def test_the_apps_import_downwards_only():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


def test_an_import_against_the_direction_breaks_the_contract(tmp_path):
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    for package in APPS:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    (tmp_path / "filings" / "reverse_probe.py").write_text("from review import selectors  # noqa\n")
    result = lint_imports(tmp_path)
    assert result.returncode != 0 and "filings.reverse_probe -> review.selectors" in result.stdout, result.stdout
