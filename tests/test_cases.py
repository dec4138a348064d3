"""Tests are data: each `tests/cases/<name>/` holds a spec and its expected diagnostics.

`expected.yaml` lists every diagnostic as `{code, line, path}` plus the exit status.
Regenerate after an intended change with `SPECC_UPDATE_CASES=1 pytest tests/test_cases.py`
and review the diff.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from specc.compiler.validate import validate_files

from conftest import CASES

CASE_DIRS = sorted(p for p in CASES.iterdir() if (p / "spec.yaml").exists())


def _actual(case: Path) -> dict[str, Any]:
    overrides_file = case / "overrides.txt"
    overrides = overrides_file.read_text().split() if overrides_file.exists() else []
    cwd = os.getcwd()
    os.chdir(case)
    try:
        result = validate_files(["spec.yaml"], overrides=overrides)
    finally:
        os.chdir(cwd)
    diags = [{"code": d.code, "line": d.line, "path": d.path} for d in result.diagnostics]
    return {"exit": int(result.exit_code), "diagnostics": diags}


@pytest.mark.parametrize("case", CASE_DIRS, ids=[p.name for p in CASE_DIRS])
def test_case(case: Path) -> None:
    actual = _actual(case)
    expected_file = case / "expected.yaml"
    yaml = YAML(typ="safe", pure=True)
    if os.environ.get("SPECC_UPDATE_CASES"):
        out = YAML()
        out.default_flow_style = None
        with expected_file.open("w") as f:
            out.dump(actual, f)
    if not expected_file.exists():
        pytest.fail(f"{expected_file} is missing; create it with SPECC_UPDATE_CASES=1")
    expected = yaml.load(expected_file.read_text())
    assert actual["exit"] == expected["exit"]
    assert actual["diagnostics"] == expected["diagnostics"]


def test_there_are_cases() -> None:
    assert len(CASE_DIRS) >= 20
