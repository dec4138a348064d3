"""The example GitHub workflow's shell steps, run as the runner would run them (bash -e
with the job's env): a repository with no spec passes, one with a broken spec fails the
annotation step and still writes the SARIF report."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
WORKFLOW = ROOT / "docs" / "examples" / "specc-validate.yml"
BAD = "specc: 1\nname: t\npolicy: {model_name: specc:tiny-llama, lorra: {}}\nsft: {}\n"


def _steps() -> tuple[dict[str, str], list[tuple[str, str]]]:
    flow: dict[str, Any] = yaml.safe_load(WORKFLOW.read_text())
    steps = flow["jobs"]["validate"]["steps"]
    runs = [(s["name"], s["run"]) for s in steps
            if "run" in s and not s["run"].startswith("pip install")]
    return {k: str(v) for k, v in flow["env"].items()}, runs


def _run_steps(repo: Path) -> dict[str, int]:
    env, runs = _steps()
    full = os.environ | env | {"PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    codes: dict[str, int] = {}
    for name, script in runs:
        # GitHub runs `run:` with `bash --noprofile --norc -eo pipefail {0}`
        done = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c",
                               script], cwd=repo, env=full, capture_output=True, text=True,
                              check=False)
        codes[name] = done.returncode
    return codes


def test_no_spec_files_is_a_pass(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("nothing to check\n")
    codes = _run_steps(tmp_path)
    assert len(codes) == 2
    assert set(codes.values()) == {0}, codes


def test_a_broken_spec_fails_the_check_and_keeps_the_report(tmp_path: Path) -> None:
    (tmp_path / "experiments").mkdir()
    (tmp_path / "experiments" / "bad.yaml").write_text(BAD)
    codes = _run_steps(tmp_path)
    assert codes["Validate specs (annotations on the diff)"] == 1
    assert codes["Validate specs (SARIF)"] == 0
    assert "S001" in (tmp_path / "specc.sarif").read_text()
