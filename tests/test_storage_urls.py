"""The storage URL specc shows opens as is in Optuna's own tools.

`specc run` prints a URL and writes it to results.json; `optuna trials --storage URL
--study-name NAME` (Optuna's real CLI, in its own process) must open exactly that string
for a SQLite, a journal and a PostgreSQL study. specc still reads its short forms
(`journal:PATH`, plain `postgresql://`) on input.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from test_run_study import env, results, specc_cache, write_spec

from specc.cli import main
from specc.spec.storage_url import driver_url, is_journal, local_file, public_url

__all__ = ["specc_cache"]  # the session's tiny-model cache (an autouse fixture)

OPTUNA = str(Path(sys.executable).with_name("optuna"))


def optuna_trials(url: str, study: str) -> list[dict[str, Any]]:
    """``optuna trials`` on ``url``: the trials it lists (fails the test when it refuses)."""
    proc = subprocess.run([OPTUNA, "trials", "--storage", url, "--study-name", study,
                           "-f", "json"], capture_output=True, text=True, timeout=120,
                          check=False, env=env())
    assert proc.returncode == 0, f"optuna trials refused {url!r}:\n{proc.stderr}"
    trials: list[dict[str, Any]] = json.loads(proc.stdout)
    return trials


def run_and_open(tmp_path: Path, *storage: str) -> tuple[str, str]:
    """`specc run` a one-trial study; the URL it printed and the one in results.json,
    after checking that Optuna's CLI opens both and lists the trial."""
    spec = write_spec(tmp_path / "spec.yaml", steps=1, n_trials=1)
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "specc", "run", str(spec), "--output",
                           str(out), *storage], env=env(), capture_output=True, text=True,
                          timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    printed = re.search(r"; storage (\S+); output ", proc.stdout)
    assert printed, proc.stdout
    data = results(out)
    stored = data["storage"]
    assert printed[1] == stored
    for url in {stored, printed[1]}:
        trials = optuna_trials(url, data["study"])
        assert [t["state"] for t in trials] == ["COMPLETE"], trials
    return printed[1], stored


# --- the URLs themselves (no training) ----------------------------------------------------------

def test_public_url_is_what_optunas_tools_open(tmp_path: Path) -> None:
    journal = tmp_path / "study.journal"
    assert public_url(f"journal:{journal}") == str(journal)
    assert public_url(str(journal)) == str(journal)
    assert public_url(f"sqlite:///{tmp_path}/study.db") == f"sqlite:///{tmp_path}/study.db"
    # the driver that is installed, and never the password
    assert public_url("postgresql://u:secret@h:5432/db") == driver_url("postgresql://u@h:5432/db")
    assert "secret" not in public_url("mysql+pymysql://u:secret@h/db")
    assert public_url("postgresql+psycopg2://u@h/db") == "postgresql+psycopg2://u@h/db"


def test_printed_forms_are_read_back(tmp_path: Path) -> None:
    """What specc shows is also what specc reads: a plain journal path, any existing
    journal file (Optuna's rule), but not a SQLite file or a path that does not exist."""
    other = tmp_path / "trials.bin"
    other.write_bytes(b"")
    db = tmp_path / "plain.db"
    db.write_bytes(b"SQLite format 3\x00" + bytes(84))
    assert is_journal(f"journal:{other}") and is_journal(str(tmp_path / "x.journal"))
    assert is_journal(str(other)) and local_file(str(other)) == other
    assert not is_journal(str(db)) and not is_journal(str(tmp_path / "missing"))
    assert not is_journal("sqlite:///x.log") and not is_journal("postgresql://h/db")


# --- Optuna's CLI on what `specc run` printed and stored ------------------------------------------

@pytest.mark.slow
def test_optuna_cli_opens_the_sqlite_url(tmp_path: Path) -> None:
    printed, _ = run_and_open(tmp_path)
    assert printed == f"sqlite:///{tmp_path / 'out' / 'study.db'}"


@pytest.mark.slow
def test_optuna_cli_opens_the_journal_url(tmp_path: Path) -> None:
    """Given as specc's short form `journal:PATH`, shown as the file's path."""
    journal = tmp_path / "j" / "trials.journal"
    printed, _ = run_and_open(tmp_path, "--storage", f"journal:{journal}")
    assert printed == str(journal)
    assert "journal:" not in (tmp_path / "out" / "results.json").read_text()
    # specc reads the form it shows: the report follows results.json to the journal
    assert main(["report", str(tmp_path / "out"), "-q"]) == 0
    assert (tmp_path / "out" / "report" / "report.html").is_file()


@pytest.mark.slow
@pytest.mark.postgres
def test_optuna_cli_opens_the_postgresql_url(tmp_path: Path) -> None:
    """Given as plain postgresql:// (psycopg2 installed, psycopg 3 not): shown with the
    driver SQLAlchemy needs to find it."""
    from test_run_distributed import _postgres_ready
    from test_storage_safety import fresh_database

    _postgres_ready()
    with fresh_database() as url:  # a database of its own, dropped afterwards
        assert url.startswith("postgresql://")
        printed, _ = run_and_open(tmp_path, "--storage", url)
        assert printed == driver_url(url)
        assert printed.startswith("postgresql+psycopg") or printed == url
