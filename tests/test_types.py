"""posterapp type-checks: mypy, configured in pyproject.toml, finds no error in the package."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_mypy_finds_no_errors():
    # The settings ([tool.mypy]: files, strictness, stub-less libraries) come from pyproject;
    # the cache under .mypy_cache/ makes a run after a small edit take about a second.
    result = subprocess.run(
        [sys.executable, "-m", "mypy"], cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"mypy found errors:\n{output}"
    # And it looked at every module of the package, not at nothing.
    checked = re.search(r"Success: no issues found in (\d+) source files", output)
    modules = len(list((ROOT / "posterapp").rglob("*.py")))
    assert checked and int(checked.group(1)) == modules, output
