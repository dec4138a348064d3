"""Budget and wrap-up: infeasible points are recorded (PRUNED, so samplers learn from
them) but take no place in n_trials; a run of them ends the study with its reason; the
report is written when the study ends unless --no-report (real CLI, real trials)."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_run_study import results, specc_cache, specc_run, write_spec

pytestmark = pytest.mark.slow
__all__ = ["specc_cache"]

#: Micro batches that divide the global batch of 4 run; the others are infeasible (B001).
MICRO = "    policy.train_micro_batch_size: {type: categorical, choices: [1, 2, 3, 5, 6, 7]}"


def test_infeasible_heavy_search_still_trains_n_trials(tmp_path: Path) -> None:
    spec = write_spec(tmp_path / "spec.yaml", steps=1, n_trials=3, space=MICRO)
    out = tmp_path / "out"
    proc = specc_run(str(spec), "--output", str(out))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data = results(out)
    feasible = [t for t in data["trials"] if not t.get("infeasible")]
    infeasible = [t for t in data["trials"] if t.get("infeasible")]
    assert data["n_trials"] == 3 and len(feasible) == 3
    assert all(t["state"] == "COMPLETE" for t in feasible)
    assert infeasible and all(t["state"] == "PRUNED" and t["reason"].startswith(
        "infeasible: B0") for t in infeasible)
    assert data["counts"]["infeasible"] == len(infeasible)
    assert data["counts"]["COMPLETE"] == 3
    # the report is written when the study ends
    assert (out / "report" / "report.html").exists() and "report: " in proc.stdout


def test_infeasible_points_in_a_row_end_the_study(tmp_path: Path) -> None:
    spec = write_spec(tmp_path / "spec.yaml", steps=1, n_trials=40, space=MICRO,
                      extra="  max_infeasible_in_a_row: 2\n")
    out = tmp_path / "out"
    proc = specc_run(str(spec), "--output", str(out), "--no-report")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data = results(out)
    assert "2 infeasible points in a row" in data["stop_reason"]
    assert "infeasible points in a row" in proc.stdout
    assert [t.get("infeasible", False) for t in data["trials"]][-2:] == [True, True]
    assert not (out / "report").exists()  # --no-report
