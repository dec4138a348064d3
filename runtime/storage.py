"""Where a study lives, and how trials whose worker died are found and retried.

* default, one worker: ``sqlite:///<output>/study.db`` (Optuna RDBStorage with heartbeats);
* ``--workers N`` (N > 1) on the default storage: an Optuna JournalStorage file
  (``<output>/study.journal``), which takes parallel writers;
* ``--storage postgresql://...`` (or mysql): RDBStorage with heartbeats, for any number of
  machines running the same command.

A worker that dies (kill -9, OOM killer, power loss) leaves its trial RUNNING. Two detectors
turn such a trial into FAIL (reason "worker died") and queue a retry with the same parameters
(a WAITING trial that the next ``study.ask()`` pops):

* every trial records the identity of the process running it (host, boot id, pid, process
  start time); a worker on the same host whose process is gone is detected at once, on every
  worker start and before each trial, for every storage (JournalStorage has no heartbeat);
* RDB storages also run Optuna's heartbeat, which catches workers on other machines after
  the grace period (:data:`HEARTBEAT_INTERVAL`, :data:`GRACE_PERIOD`).
"""

from __future__ import annotations

import contextlib
import importlib
import os
import socket
import warnings
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from specc.errors import SpeccError
from specc.runtime import storage_safety as safety
from specc.spec import defaults
from specc.spec.diagnostics import Collector
from specc.spec.storage_url import (
    JOURNAL_PREFIX,
    driver_url,
    is_journal,
    local_file,
    public_url,
)

if TYPE_CHECKING:
    import optuna

#: Seconds between heartbeats of a running trial (RDB storages).
HEARTBEAT_INTERVAL = 10
#: Seconds without a heartbeat after which another worker fails the trial.
GRACE_PERIOD = 60
#: Seconds after which a RUNNING trial that never recorded its worker is given up.
ORPHAN_AFTER = 2 * GRACE_PERIOD
#: Times a trial whose worker died is retried before its FAIL stands.
MAX_RETRIES = 2

#: User attr of a trial: the process running it ({host, boot, pid, start}).
WORKER = "specc_worker"
HOST, BOOT, PID, START = "host", "boot", "pid", "start"
#: System attrs of a retry (the names Optuna's RetryHeartbeatStaleTrialCallback uses).
FAILED_TRIAL, RETRY_HISTORY = "failed_trial", "retry_history"
#: Why the attempt before this retry ended (the failed trial may no longer take attrs).
RETRY_REASON = "specc:retry_reason"
#: Sampler bookkeeping a retry keeps (GridSampler's point).
_CARRIED = ("grid_id", "search_space")



class StorageError(SpeccError, ValueError):
    """A storage that cannot be used as asked."""


def default_storage(output: Path, workers: int) -> str:
    """The storage URL for ``output`` when none is given.

    An existing study there wins (re-running with another ``--workers`` resumes it); a new
    one is SQLite for one worker, a journal file for several."""
    journal, db = output / "study.journal", output / "study.db"
    if not journal.exists() and db.exists():
        if workers > 1:
            raise StorageError(
                f"this study lives in {db} (SQLite), which does not take parallel writers: "
                "run it with --workers 1, or pass --storage (a journal file: "
                f"--storage {JOURNAL_PREFIX}PATH, or postgresql://...)")
    return defaults.storage_url(output, workers)


def check_url(url: str, workers: int) -> None:
    if workers > 1 and url.startswith("sqlite"):
        raise StorageError("SQLite does not take parallel writers (\"database is locked\"): "
                           "with --workers N use the default storage (a journal file), "
                           f"--storage {JOURNAL_PREFIX}PATH or postgresql://...")
    if not is_journal(url) and "://" not in url:
        raise StorageError(f"unknown storage {url!r}: use sqlite:///PATH, postgresql://..., "
                           f"mysql://... or {JOURNAL_PREFIX}PATH")


def display(url: str) -> str:
    """The URL as specc shows it: one Optuna's tools open as is, without a password
    (:func:`specc.spec.storage_url.public_url`)."""
    return public_url(url)


def open_storage(url: str, diags: Collector | None = None) -> optuna.storages.BaseStorage:
    """An Optuna storage for ``url`` (see the module docstring). A SQLite file is created
    atomically, or checked and mended first, a database server's first use is safe against
    other processes (:mod:`specc.runtime.storage_safety`); notes on what was mended go to
    ``diags``. Raises :class:`StorageProblem` for a storage that cannot be used."""
    import optuna
    from optuna.exceptions import ExperimentalWarning

    if is_journal(url):
        from optuna.storages.journal import JournalFileBackend, JournalStorage

        path = url.removeprefix(JOURNAL_PREFIX)
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        return JournalStorage(JournalFileBackend(path))
    shown = display(url)
    url = driver_url(url)
    engine_kwargs: dict[str, Any] = {}
    if url.startswith(("postgresql", "mysql")):
        engine_kwargs = {"pool_pre_ping": True}
    elif url.startswith("sqlite:///"):
        engine_kwargs = {"connect_args": {"timeout": 60}}

    def build(at: str) -> optuna.storages.RDBStorage:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ExperimentalWarning)
            return optuna.storages.RDBStorage(
                at, engine_kwargs=engine_kwargs, heartbeat_interval=HEARTBEAT_INTERVAL,
                grace_period=GRACE_PERIOD, heartbeat_stale_trial_callback=_retry_stale)

    db = local_file(url)
    try:
        if db is not None:
            notes = diags if diags is not None else Collector()
            safety.prepare_sqlite(db, build, notes)
            if diags is None:
                safety.show(notes.items)
            return build(url)
        return safety.first_use(url, lambda: build(url))
    except Exception as e:  # unreachable server, no such database, a file Optuna refuses
        if not safety.is_storage_error(e):
            raise
        raise safety.as_problem(e, shown) from e


# --- who runs a trial ----------------------------------------------------------------------------

def _boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return ""


def _start_time(pid: int) -> str | None:
    """When process ``pid`` started (tells a reused pid apart); None when it is gone."""
    try:
        psutil: Any = importlib.import_module("psutil")
        return f"{psutil.Process(pid).create_time():.2f}"
    except ImportError:
        pass
    except Exception:
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass
    return ""


def identity() -> dict[str, Any]:
    """This process: host, boot, pid and start time."""
    pid = os.getpid()
    return {HOST: socket.gethostname(), BOOT: _boot_id(), PID: pid,
            START: _start_time(pid) or ""}


def is_dead(attrs: dict[str, Any], me: dict[str, Any] | None = None) -> bool:
    """Whether the process recorded in ``attrs`` is certainly gone. Only processes of this
    host can be checked; others are left to the heartbeat."""
    me = me or identity()
    if attrs.get(HOST) != me[HOST] or PID not in attrs:
        return False
    if attrs.get(BOOT) and me[BOOT] and attrs[BOOT] != me[BOOT]:
        return True  # the machine rebooted since
    pid = int(attrs[PID])
    if pid == me[PID] and attrs.get(START) == me[START]:
        return False
    started = _start_time(pid)
    if started is None:
        return True
    recorded = attrs.get(START)
    return bool(recorded) and bool(started) and recorded != started


# --- retries -------------------------------------------------------------------------------------

def retry(study: optuna.Study, trial: optuna.trial.FrozenTrial, why: str, *,
          capped: bool = True) -> int | None:
    """Queue a WAITING copy of ``trial`` (same parameters) unless it was retried
    :data:`MAX_RETRIES` times already (``capped``: a trial that keeps killing its worker
    stays failed; an interrupted one is always retried); returns the number of the
    original trial."""
    import optuna

    history = [*trial.system_attrs.get(RETRY_HISTORY, []), trial.number]
    if capped and len(history) > MAX_RETRIES:
        return None
    system_attrs = {k: trial.system_attrs[k] for k in _CARRIED if k in trial.system_attrs}
    system_attrs.update({FAILED_TRIAL: trial.system_attrs.get(FAILED_TRIAL, trial.number),
                         RETRY_HISTORY: history, RETRY_REASON: why})
    study.add_trial(optuna.trial.create_trial(
        state=optuna.trial.TrialState.WAITING, params=trial.params,
        distributions=trial.distributions, system_attrs=system_attrs))
    return int(system_attrs[FAILED_TRIAL])


def _retry_stale(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
    """Optuna's heartbeat found ``trial`` stale and failed it: retry it."""
    retry(study, trial, "worker died (no heartbeat)")


def reap_dead_trials(study: optuna.Study) -> list[int]:
    """Fail the RUNNING trials of this host whose worker process is gone, and retry them.
    Safe when several workers do it at once: only the one whose FAIL lands retries."""
    from optuna.exceptions import UpdateFinishedTrialError
    from optuna.trial import TrialState

    me = identity()
    reaped = []
    now = datetime.now()
    for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        worker = t.user_attrs.get(WORKER)
        if worker is None:
            # killed between creating the trial and recording its worker (milliseconds):
            # no identity and no heartbeat will ever come
            started = t.datetime_start
            if started is None or (now - started).total_seconds() < ORPHAN_AFTER:
                continue
        elif not is_dead(worker, me):
            continue
        storage = study._storage
        try:
            storage.set_trial_user_attr(t._trial_id, "reason", "worker died")
            if not storage.set_trial_state_values(t._trial_id, TrialState.FAIL):
                continue
        except (UpdateFinishedTrialError, RuntimeError):
            continue  # another worker got there first
        fresh = storage.get_trial(t._trial_id)
        retry(study, fresh, "worker died")
        reaped.append(t.number)
    return reaped


@contextlib.contextmanager
def quiet_optuna() -> Iterator[None]:
    """Optuna's experimental/deprecation warnings and per-trial log lines off: specc reports
    trials itself."""
    import optuna
    from optuna.exceptions import ExperimentalWarning

    level = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ExperimentalWarning)
            warnings.simplefilter("ignore", FutureWarning)
            yield
    finally:
        optuna.logging.set_verbosity(level)
