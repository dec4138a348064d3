"""`py.typed` is honoured with the editable install: `mypy --strict` on a user script that
calls `specc.load`, `specc.plan` and `specc.run` sees their real types, not `Any`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = """\
import specc

spec = specc.load("x.yaml")
reveal_type(spec)
plan = specc.plan("x.yaml", preview=2)
reveal_type(plan.trials[0])
summary = specc.run("x.yaml", n_trials=1)
reveal_type(summary.best_value)
try:
    specc.load("y.yaml")
except specc.SpeccError as e:
    reveal_type(e)
"""


def test_mypy_strict_sees_the_public_api_types(tmp_path: Path) -> None:
    (tmp_path / "user.py").write_text(SCRIPT)
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "user.py"],
        cwd=tmp_path, capture_output=True, text=True, timeout=600, check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    revealed = [line.split("Revealed type is ", 1)[1].strip('"').replace("builtins.", "")
                for line in out.splitlines() if "Revealed type is" in line]
    assert revealed == ["specc.spec.models.root.Spec", "specc.compiler.trial.TrialDescription",
                        "float | None", "specc.errors.SpeccError"], out
