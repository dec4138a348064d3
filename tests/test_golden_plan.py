"""Golden files for `specc plan --format json`: the compiled plan of a few example specs,
byte for byte. A change to what plan prints (or to what run would train, which is the same
value) shows up here as a diff to review.

Regenerate after a deliberate change with ``SPECC_UPDATE_GOLDEN=1 pytest
tests/test_golden_plan.py`` and note the difference in CHANGELOG.md.
"""

from __future__ import annotations

import contextlib
import io
import os
from pathlib import Path

import pytest

from specc.cli import main

from conftest import ROOT

GOLDEN = Path(__file__).resolve().parent / "golden" / "plan"
#: `gpu: CPU` specs take their capacity from this machine's RAM: pin it so the files are
#: the same on every machine.
PIN_MEMORY = ["-o", "hardware.memory_gb=24"]

#: name -> the plan command's arguments (relative to the repository root).
CASES: dict[str, list[str]] = {
    "sft": ["examples/sft.yaml", *PIN_MEMORY],
    "dpo_lora": ["examples/dpo.yaml", *PIN_MEMORY],
    "grpo_lora": ["examples/grpo.yaml", *PIN_MEMORY],
    "kto": ["examples/kto.yaml", *PIN_MEMORY],
    "grid_study": ["examples/hpo_grid.yaml"],
    "tpe_study": ["examples/hpo_bayesian.yaml", "--preview", "4"],
    "random_study": ["examples/hpo_random.yaml", "--preview", "4"],
}


def plan_json(args: list[str]) -> str:
    out = io.StringIO()
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        with contextlib.redirect_stdout(out):
            code = main(["plan", "--format", "json", *args])
    finally:
        os.chdir(cwd)
    assert code == 0, f"specc plan {' '.join(args)} exited {code}"
    return out.getvalue()


@pytest.mark.parametrize("name", sorted(CASES))
def test_plan_matches_golden(name: str) -> None:
    text = plan_json(CASES[name])
    path = GOLDEN / f"{name}.json"
    if os.environ.get("SPECC_UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"no golden file {path}: run with SPECC_UPDATE_GOLDEN=1"
    assert text == path.read_text(encoding="utf-8"), (
        f"`specc plan` output for {name} changed; if deliberate, regenerate with "
        "SPECC_UPDATE_GOLDEN=1 and note it in CHANGELOG.md")


def test_every_golden_file_has_a_case() -> None:
    """A stale golden file (its case removed) is an error, not silently kept."""
    assert sorted(p.stem for p in GOLDEN.glob("*.json")) == sorted(CASES)
