"""Optuna's own view of a specc study is right: `optuna trials` / `optuna studies` (the
real CLI) and optuna-dashboard's API (its real WSGI app) show the objective's name, the
spec name, algorithm and hash, and intermediate values at training steps."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from test_run_study import env, results, specc_cache, specc_run, write_spec

pytestmark = pytest.mark.slow
__all__ = ["specc_cache"]


def _optuna(*args: str) -> Any:
    cli = Path(sys.executable).with_name("optuna")  # the console script Optuna installs
    proc = subprocess.run([str(cli), *args, "-f", "json"], env=env(),
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def _dashboard(storage: str, path: str) -> Any:
    from optuna_dashboard import wsgi

    app = wsgi(storage)
    status: list[str] = []
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": path, "QUERY_STRING": "",
               "wsgi.input": io.BytesIO(b""), "SERVER_NAME": "localhost",
               "SERVER_PORT": "80", "wsgi.url_scheme": "http"}
    body = b"".join(app(environ, lambda s, h, e=None: status.append(s)))
    assert status == ["200 OK"], body[:300]
    return json.loads(body)


def test_optuna_cli_and_dashboard_show_metric_names_and_steps(tmp_path: Path) -> None:
    spec = write_spec(tmp_path / "spec.yaml", steps=4, n_trials=2)  # val_period 2
    out = tmp_path / "out"
    proc = specc_run(str(spec), "--output", str(out), "--quiet")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    url = f"sqlite:///{out}/study.db"
    [study] = _optuna("studies", "--storage", url)
    attrs = study["user_attrs"]
    assert attrs["specc_spec_name"] == "tiny" and attrs["specc_algorithm"] == "dpo"
    assert attrs["specc_spec_hash"] == results(out)["spec_hash"]
    trials = _optuna("trials", "--storage", url, "--study-name", "tiny")
    assert [set(t["value"]) for t in trials] == [{"eval_loss"}] * 2
    assert all(t["user_attrs"]["specc_spec_hash"] == attrs["specc_spec_hash"] for t in trials)
    # intermediate values at the training steps of the evaluations (2 and 4), not 0, 1
    data = _dashboard(url, "/api/studies")
    sid = data["study_summaries"][0]["study_id"]
    detail = _dashboard(url, f"/api/studies/{sid}")
    assert detail["objective_names"] == ["eval_loss"]
    assert [[iv["step"] for iv in t["intermediate_values"]] for t in detail["trials"]] == \
        [[2, 4], [2, 4]]
    assert [list(t["intermediate"]) for t in results(out)["trials"]] == [["2", "4"]] * 2
