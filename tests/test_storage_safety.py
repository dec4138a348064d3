"""Study storage that survives kills, races and damaged files (real Optuna, real SQLite and
PostgreSQL, real processes killed with SIGKILL).

* a process creating a SQLite study is killed at many points of its first 0.2 s, then the
  same script runs again: the study always ends with exactly the trials asked for;
* a database wedged the way plain Optuna leaves it (no unique index on study names,
  duplicate study rows) is repaired with a backup kept, or refused with a diagnostic and
  left byte for byte untouched;
* several processes meeting a fresh PostgreSQL database at once all succeed;
* temporary files of a killed atomic write are removed by the next run, others kept;
* storage failures reach the command line as diagnostics, exit 2, never a traceback.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from specc.runtime.storage import open_storage
from specc.runtime.storage_safety import StorageProblem
from specc.spec.atomic import clean_leftovers, leftovers, write_atomic
from specc.spec.diagnostics import Collector
from specc.spec.study_db import inspect

PG = "postgresql://postgres@127.0.0.1:5432"

#: A study of N trials on specc's storage (or plain Optuna's, to show the wedge).
STUDY_SCRIPT = """\
import sys, warnings
warnings.simplefilter("ignore")
import optuna
optuna.logging.set_verbosity(optuna.logging.ERROR)
url, n, plain = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "plain"
if plain:
    storage = optuna.storages.RDBStorage(url)
else:
    from specc.runtime.storage import open_storage
    storage = open_storage(url)
study = optuna.create_study(storage=storage, study_name="s", load_if_exists=True)
while len(study.trials) < n:
    t = study.ask()
    study.tell(t, 1.0)
print(len(study.trials))
"""


def _script(tmp_path: Path) -> Path:
    path = tmp_path / "study_script.py"
    path.write_text(STUDY_SCRIPT)
    return path


def _opened(pid: int, needle: str) -> bool:
    """Whether process ``pid`` has a file whose path contains ``needle`` open."""
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return False
    for fd in fds:
        with contextlib.suppress(OSError):
            if needle in os.readlink(f"/proc/{pid}/fd/{fd}"):
                return True
    return False


def kill_after_open(cmd: list[str], needle: str, delay: float, cwd: Path,
                    env: dict[str, str] | None = None) -> int | None:
    """Start ``cmd``, SIGKILL it ``delay`` seconds after it first opens a file named like
    ``needle``; the exit status when it ended by itself first, else None."""
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 300
    while proc.poll() is None and not _opened(proc.pid, needle):
        assert time.monotonic() < deadline, "the process never opened its storage"
        time.sleep(0.0005)
    time.sleep(delay)
    ended = proc.poll()
    if ended is None:
        proc.send_signal(signal.SIGKILL)
    _, err = proc.communicate(timeout=60)
    if ended is not None and ended != 0:
        pytest.fail(f"{cmd} failed by itself (exit {ended}):\n{err}")
    return ended


def _md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


# --- kill -9 while a new SQLite study is made ----------------------------------------------------

DELAYS = [0.0, 0.002, 0.005, 0.01, 0.015, 0.02, 0.03, 0.05, 0.1, 0.2]


def test_kill_9_while_creating_a_sqlite_study_never_wedges_it(tmp_path: Path) -> None:
    script = _script(tmp_path)
    for i, delay in enumerate(DELAYS):
        db = tmp_path / f"k{i}.db"
        url = f"sqlite:///{db}"
        kill_after_open([sys.executable, str(script), url, "3", "specc"], db.name, delay,
                        tmp_path)
        # a kill leaves no database or a complete one (never half a schema)
        if db.exists():
            assert inspect(str(db)).ok, (delay, inspect(str(db)).problems())
        done = subprocess.run([sys.executable, str(script), url, "3", "specc"],
                              capture_output=True, text=True, timeout=120, check=False)
        assert done.returncode == 0, (delay, done.stderr)
        assert done.stdout.strip() == "3", (delay, done.stdout)
        with sqlite3.connect(db) as con:
            assert con.execute("select count(*) from studies").fetchone() == (1,)
        assert not list(tmp_path.glob(f"k{i}.db.tmp-*")), "temporary database left behind"


def _wedge(db: Path, *, trials_in_both: bool) -> None:
    """The state plain Optuna leaves after a kill during schema creation and two more
    runs: no unique index on study names and the study stored twice."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    storage = optuna.storages.RDBStorage(f"sqlite:///{db}")
    study = optuna.create_study(storage=storage, study_name="s")
    study.tell(study.ask(), 1.0)
    storage.engine.dispose()
    with sqlite3.connect(db) as con:
        con.execute("drop index ix_studies_study_name")
        con.execute("insert into studies (study_name) values ('s')")
        sid = con.execute("select max(study_id) from studies").fetchone()[0]
        con.execute("insert into study_directions (direction, study_id, objective) "
                    "values ('MINIMIZE', ?, 0)", (sid,))
        if trials_in_both:
            con.execute("insert into trials (number, study_id, state) "
                        "values (0, ?, 'COMPLETE')", (sid,))


def test_wedged_database_is_repaired_with_a_backup(tmp_path: Path) -> None:
    import optuna

    db = tmp_path / "study.db"
    _wedge(db, trials_in_both=False)
    health = inspect(str(db))
    assert not health.ok and health.missing_indexes == ["ix_studies_study_name"]
    assert list(health.duplicates) == ["s"]
    # plain Optuna is stuck on this file
    with pytest.raises(Exception):  # noqa: B017 (StorageInternalError / MultipleResultsFound)
        optuna.load_study(study_name="s", storage=f"sqlite:///{db}")
    notes = Collector()
    storage = open_storage(f"sqlite:///{db}", notes)
    assert [d.code for d in notes] == ["T003"]
    assert notes.items[0].line == 1 and notes.items[0].column == 1
    study = optuna.load_study(study_name="s", storage=storage)
    assert len(study.trials) == 1  # the trial of the study that had one is kept
    assert inspect(str(db)).ok
    backups = list(tmp_path.glob("study.db.bak-*"))
    assert len(backups) == 1 and not inspect(str(backups[0])).ok


def test_wedged_database_with_trials_in_both_copies_is_refused_untouched(
        tmp_path: Path) -> None:
    db = tmp_path / "study.db"
    _wedge(db, trials_in_both=True)
    before = _md5(db)
    with pytest.raises(StorageProblem) as caught:
        open_storage(f"sqlite:///{db}")
    (diag,) = caught.value.diagnostics
    assert diag.code == "T002" and diag.file == str(db) and diag.line == 1
    assert "update studies set study_name" in diag.hint and "mv " in diag.hint
    assert _md5(db) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["study.db"]


def test_incomplete_database_without_trials_is_moved_aside_and_remade(tmp_path: Path) -> None:
    db = tmp_path / "study.db"
    with sqlite3.connect(db) as con:  # half a schema: a kill before the index and versions
        con.execute("create table studies (study_id integer primary key, study_name text)")
    notes = Collector()
    open_storage(f"sqlite:///{db}", notes)
    assert [d.code for d in notes] == ["T003"] and "moved aside" in notes.items[0].message
    assert inspect(str(db)).ok
    assert len(list(tmp_path.glob("study.db.broken-*"))) == 1


def test_not_a_database_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "study.db"
    db.write_text("not sqlite at all\n" * 100)
    with pytest.raises(StorageProblem) as caught:
        open_storage(f"sqlite:///{db}")
    assert [d.code for d in caught.value.diagnostics] == ["T002"]
    assert db.read_text().startswith("not sqlite")


# --- temporary files of atomic writes ------------------------------------------------------------

WRITER = """\
import sys
from specc.spec.atomic import write_atomic
data = b"x" * 50_000_000
while True:
    write_atomic(sys.argv[1], data)
"""


def test_kill_9_inside_an_atomic_write_leaves_a_temp_file_the_next_run_removes(
        tmp_path: Path) -> None:
    writer = tmp_path / "writer.py"
    writer.write_text(WRITER)
    target = tmp_path / "results.json"
    left: list[Path] = []
    for delay in (0.0, 0.02, 0.05, 0.1):
        kill_after_open([sys.executable, str(writer), str(target)], ".results.json.specc-", delay,
                        tmp_path)
        left = leftovers(tmp_path)
        if left:
            break
    assert left, "no kill landed inside a write"
    # the target is whole or absent: never half a file
    assert not target.exists() or target.stat().st_size in (0, 50_000_000)
    # a live writer's temporary file (this process) and unrelated files stay
    mine = tmp_path / f".results.json.specc-{os.getpid()}-abc123.tmp"
    mine.write_text("writing")
    other = tmp_path / ".notes.tmp"
    other.write_text("mine")
    notes = Collector()
    removed = clean_leftovers([tmp_path], notes)
    assert sorted(removed) == sorted(left)
    assert [d.code for d in notes] == ["T004"]
    assert mine.exists() and other.exists()
    assert not leftovers(tmp_path)


def test_write_atomic_refuses_a_directory_and_keeps_a_normal_file_mode(tmp_path: Path) -> None:
    (tmp_path / "results.json").mkdir()
    with pytest.raises(IsADirectoryError):
        write_atomic(tmp_path / "results.json", "{}")
    write_atomic(tmp_path / "new.json", "{}")
    assert (tmp_path / "new.json").stat().st_mode & 0o644 == 0o644


# --- PostgreSQL: several processes on a fresh database -------------------------------------------

RACER = """\
import sys, time, warnings
warnings.simplefilter("ignore")
import optuna
from specc.runtime.storage import open_storage
start = float(sys.argv[2])
while time.time() < start:
    pass
storage = open_storage(sys.argv[1])
optuna.create_study(storage=storage, study_name="s", load_if_exists=True)
"""


@contextlib.contextmanager
def fresh_database() -> Iterator[str]:
    """A new, empty PostgreSQL database (dropped afterwards); its URL."""
    import psycopg2

    name = f"specc_t_{uuid.uuid4().hex[:10]}"
    con = psycopg2.connect(host="127.0.0.1", port=5432, user="postgres", dbname="test",
                           connect_timeout=10)
    con.autocommit = True
    try:
        con.cursor().execute(f"create database {name}")
        yield f"{PG}/{name}"
    finally:
        con.cursor().execute(f"drop database if exists {name} with (force)")
        con.close()


@pytest.mark.postgres
def test_processes_starting_together_on_a_fresh_postgresql_database_all_work(
        tmp_path: Path) -> None:
    from test_run_distributed import _postgres_ready

    _postgres_ready()
    racer = tmp_path / "racer.py"
    racer.write_text(RACER)
    for _ in range(2):
        with fresh_database() as url:
            start = time.time() + 5  # past every process's imports: they meet at create
            procs = [subprocess.Popen([sys.executable, str(racer), url, str(start)],
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                      text=True) for _ in range(4)]
            for p in procs:
                _, err = p.communicate(timeout=120)
                assert p.returncode == 0, err
                assert "UniqueViolation" not in err


# --- storage failures on the command line --------------------------------------------------------

def test_report_on_damaged_or_missing_storage_is_a_diagnostic(tmp_path: Path) -> None:
    db = tmp_path / "study.db"
    _wedge(db, trials_in_both=True)
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    for storage in (f"sqlite:///{db}", f"{PG}/specc_no_such_db_{uuid.uuid4().hex[:6]}"):
        proc = subprocess.run([sys.executable, "-m", "specc", "report", "--storage", storage,
                               "--output", str(tmp_path / "rep")], capture_output=True,
                              text=True, timeout=120, env=env, check=False)
        assert proc.returncode == 2, proc.stderr
        assert "Traceback" not in proc.stderr, proc.stderr
        assert "error" in proc.stderr


def test_a_worker_processes_failure_comes_back_as_a_diagnostic_not_a_traceback(
        tmp_path: Path) -> None:
    """What `--workers N` does with a worker's failure: a storage problem is the same
    T001 the single-process run gives, a run error its message, and a bug a one-line
    RunError whose traceback is kept in the output folder, never printed."""
    from specc.errors import RunError
    from specc.runtime.setup import Config
    from specc.runtime.storage_safety import as_problem
    from specc.runtime.workers import _raise_failure

    cfg = Config(file="s.yaml", overrides=[], output=str(tmp_path), storage="sqlite:///x.db",
                 study_name="s", budget=2, workers=2)
    problem = as_problem(OSError("disk I/O error"), cfg.storage)
    with pytest.raises(StorageProblem) as got:
        _raise_failure([(0, ("storage", problem.diagnostics)),
                        (1, ("storage", problem.diagnostics))], cfg)
    assert [d.code for d in got.value.diagnostics] == ["T001"]  # once, not per worker
    with pytest.raises(RunError, match="cannot read timeout"):
        _raise_failure([(1, ("run", "cannot read timeout 'x'"))], cfg)
    tb = 'Traceback (most recent call last):\n  File "x.py", line 1\nZeroDivisionError: boom\n'
    with pytest.raises(RunError) as bug:
        _raise_failure([(1, ("bug", tb))], cfg)
    assert "worker process 1 failed: ZeroDivisionError: boom" in str(bug.value)
    assert "Traceback" not in str(bug.value)
    assert "ZeroDivisionError: boom" in (tmp_path / "worker-errors.log").read_text()
