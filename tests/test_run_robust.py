"""`specc run` against kills, hostile folders and taken output paths (real CLI processes,
real TRL trials of the built-in tiny model, real SQLite storage).

* `kill -9` at many points of the first second after `specc run` opens its storage (the
  creation of a new database, the first results.json write, the start of a trial), then
  the same command: the study ends with exactly its n_trials, every time;
* all of it runs in a working directory (and spec folder) holding `psutil.py` and
  `evilmod.py` that leave a marker when imported: specc imports `psutil` itself during a
  run, so a working directory left on `sys.path` would run them;
* rewards naming `os:system` or a file outside the project root stop the run before the
  study starts;
* a directory where results.json goes is a T005 diagnostic before the study starts.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from test_run_study import GRPO, env, finished, results, specc_cache, write_spec
from test_storage_safety import kill_after_open

pytestmark = pytest.mark.slow
__all__ = ["specc_cache"]  # the session's tiny-model cache (an autouse fixture)

HOSTILE = ("from pathlib import Path\n"
           "Path(__file__).with_name('IMPORTED-' + Path(__file__).stem).write_text('ran')\n")

#: Seconds after the run first opens its storage file at which it is killed.
KILL_AT = [0.0, 0.005, 0.02, 0.06, 0.15, 0.35, 0.6, 1.0]


def _hostile(*folders: Path) -> None:
    for d in folders:
        for name in ("psutil.py", "evilmod.py"):
            (d / name).write_text(HOSTILE)


def _imported(*folders: Path) -> list[Path]:
    return [p for d in folders for p in d.glob("IMPORTED-*")]


def test_kill_9_in_the_first_second_then_the_same_command_finishes_exactly_n_trials(
        tmp_path: Path) -> None:
    cwd, specs = tmp_path / "cwd", tmp_path / "specs"
    cwd.mkdir()
    specs.mkdir()
    _hostile(cwd, specs)
    spec = write_spec(specs / "spec.yaml", steps=1, n_trials=2)
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "specc", "run", str(spec), "--output", str(out), "-q"]
    for delay in KILL_AT:
        # fails the test when the run ends by itself with an error (a wedged study)
        kill_after_open(cmd, "study.db", delay, cwd, env())
        if (out / "study.db").exists():
            with sqlite3.connect(out / "study.db") as con:
                assert con.execute("select count(*) from studies").fetchone()[0] <= 1
    proc = subprocess.run(cmd, cwd=cwd, env=env(), capture_output=True, text=True,
                          timeout=600, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    data = results(out)
    assert data["n_trials"] == 2 and len(finished(data)) == 2
    assert [t["number"] for t in data["trials"]] == sorted(t["number"] for t in data["trials"])
    with sqlite3.connect(out / "study.db") as con:
        assert con.execute("select count(*) from studies").fetchone() == (1,)
    # nothing of an interrupted write or creation is left behind
    assert not list(out.glob("study.db.tmp-*"))
    assert not [p for p in out.rglob("*.tmp")]
    assert _imported(cwd, specs) == []


@pytest.mark.parametrize("reward", ["os:system", "../outside.py:f", "evilmod:f"])
def test_a_reward_outside_the_policy_stops_the_run_before_the_study(
        tmp_path: Path, reward: str) -> None:
    cwd, specs = tmp_path / "cwd", tmp_path / "specs"
    cwd.mkdir()
    specs.mkdir()
    _hostile(cwd, specs, tmp_path)
    (tmp_path / "outside.py").write_text(HOSTILE)
    (specs / ".specc").write_text("")  # the spec folder is the project root
    spec = specs / "grpo.yaml"
    spec.write_text(GRPO.replace("specc.rewards:exact_match", reward))
    out = tmp_path / "out"
    validate = subprocess.run([sys.executable, "-m", "specc", "validate", str(spec)], cwd=cwd,
                              env=env(), capture_output=True, text=True, timeout=120,
                              check=False)
    assert validate.returncode == 1
    assert {"os:system": "N020", "../outside.py:f": "N021",
            "evilmod:f": "N023"}[reward] in validate.stdout
    proc = subprocess.run([sys.executable, "-m", "specc", "run", str(spec), "--output",
                           str(out)], cwd=cwd, env=env(), capture_output=True, text=True,
                          timeout=300, check=False)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (out / "study.db").exists()
    assert _imported(cwd, specs, tmp_path) == []


def test_results_json_taken_by_a_directory_is_a_diagnostic(tmp_path: Path) -> None:
    spec = write_spec(tmp_path / "spec.yaml", steps=1, n_trials=1)
    out = tmp_path / "out"
    (out / "results.json").mkdir(parents=True)
    proc = subprocess.run([sys.executable, "-m", "specc", "run", str(spec), "--output",
                           str(out), "-q"], env=env(), capture_output=True, text=True,
                          timeout=300, check=False)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "T005" in proc.stderr and "Traceback" not in proc.stderr
    assert f"{out / 'results.json'}:1:1: error T005" in proc.stderr
    assert not (out / "study.db").exists()  # stopped before the study


def test_unreachable_storage_is_a_diagnostic(tmp_path: Path) -> None:
    spec = write_spec(tmp_path / "spec.yaml", steps=1, n_trials=1)
    url = "postgresql://postgres:secret@127.0.0.1:5432/specc_no_such_database"
    proc = subprocess.run([sys.executable, "-m", "specc", "run", str(spec), "--output",
                           str(tmp_path / "out"), "--storage", url, "-q"], env=env(),
                          capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "error T001" in proc.stderr and "Traceback" not in proc.stderr
    assert "secret" not in proc.stderr  # the password is never printed
