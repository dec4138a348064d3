"""A SQLite study database's health: the wedge a killed first run leaves, found and repaired.

Optuna creates a SQLite schema table by table, outside one transaction. A run killed in
those first milliseconds leaves tables without the unique index on study names; every
later run then adds another study row of the same name, and from the third on Optuna
fails with ``MultipleResultsFound``. `specc run` now creates new databases atomically
(:mod:`specc.runtime.storage_safety`); this module finds and mends databases left by the
old way, with the standard library's ``sqlite3`` only (no Optuna):

* no trials anywhere (nothing to lose): the file is moved aside, and a new one is made;
* study rows that share a name, all but one without trials: the empty ones are deleted;
* a missing index is created; missing tables and version rows Optuna adds itself;
* otherwise (two same-named studies both with trials, a file that is not a database) the
  file is left untouched and a T002 diagnostic says how to recover.

Every change is one transaction, after a copy of the file is kept beside it.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from dataclasses import field

from specc.spec.diagnostics import Collector
from specc.spec.records import record

#: The tables of Optuna's RDB schema.
TABLES = ("studies", "study_directions", "study_user_attributes", "study_system_attributes",
          "trials", "trial_user_attributes", "trial_system_attributes", "trial_params",
          "trial_values", "trial_intermediate_values", "trial_heartbeats", "version_info",
          "alembic_version")
#: Indexes Optuna creates apart from its tables: name -> (table, column, unique).
INDEXES = {"ix_studies_study_name": ("studies", "study_name", True),
           "ix_trials_study_id": ("trials", "study_id", False)}
_STUDY_CHILDREN = ("study_directions", "study_user_attributes", "study_system_attributes")


@record
class Health:
    """What a study database holds and lacks."""

    path: str
    error: str | None = None  # not a database, or unreadable
    tables: set[str] = field(default_factory=set)
    missing_indexes: list[str] = field(default_factory=list)
    #: study name -> [(study_id, number of trials)] for names held by several rows
    duplicates: dict[str, list[tuple[int, int]]] = field(default_factory=dict)
    n_trials: int = 0
    versioned: bool = True  # version_info and alembic_version rows present

    @property
    def missing_tables(self) -> list[str]:
        return [t for t in TABLES if t not in self.tables]

    @property
    def ok(self) -> bool:
        return self.error is None and not self.missing_tables and \
            not self.missing_indexes and not self.duplicates and self.versioned

    def problems(self) -> str:
        parts = []
        if self.missing_tables:
            parts.append(f"{len(self.missing_tables)} missing table(s)")
        if self.missing_indexes:
            parts.append("missing index " + ", ".join(self.missing_indexes))
        for name, rows in self.duplicates.items():
            parts.append(f"study {name!r} stored {len(rows)} times")
        if not self.versioned and not self.missing_tables:
            parts.append("no schema version")
        return "; ".join(parts) or "none"


def inspect(path: str) -> Health:
    """Read ``path`` (read-only) and say what is wrong with it."""
    health = Health(path)
    try:
        if os.path.getsize(path) == 0:
            return health
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    except (OSError, sqlite3.Error) as e:
        health.error = str(e)
        return health
    try:
        rows = con.execute("select type, name from sqlite_master").fetchall()
        health.tables = {n for t, n in rows if t == "table"}
        indexes = {n for t, n in rows if t == "index"}
        health.missing_indexes = [i for i, (table, _, _) in INDEXES.items()
                                  if table in health.tables and i not in indexes]
        if "trials" in health.tables:
            health.n_trials = con.execute("select count(*) from trials").fetchone()[0]
        if "studies" in health.tables:
            counts: dict[int, int] = {}
            if "trials" in health.tables:
                counts = dict(con.execute(
                    "select study_id, count(*) from trials group by study_id").fetchall())
            for name, ids in con.execute(
                    "select study_name, group_concat(study_id) from studies "
                    "group by study_name having count(*) > 1").fetchall():
                health.duplicates[name] = [(int(i), counts.get(int(i), 0))
                                           for i in str(ids).split(",")]
        versioned = True
        for table in ("version_info", "alembic_version"):
            if table in health.tables:
                versioned &= con.execute(f"select count(*) from {table}").fetchone()[0] > 0
        health.versioned = versioned
    except sqlite3.Error as e:
        health.error = str(e)
    finally:
        con.close()
    return health


def recovery_hint(path: str) -> str:
    return (f"move the file aside to start a new study (mv {path} {path}.old), or give "
            "this run another --output or --study-name")


def mend(path: str, diags: Collector) -> bool:
    """Make the database at ``path`` one Optuna can open, or leave it untouched; True when
    it may be used (a moved-aside file counts: the caller creates a new one)."""
    health = inspect(path)
    if health.ok:
        return True
    if health.error is not None:
        diags.add("T002", f"{path} is not a usable SQLite study database: {health.error}",
                  hint=recovery_hint(path), file=path, line=1, column=1)
        return False
    if health.n_trials == 0:
        aside = f"{path}.broken-{time.strftime('%Y%m%d-%H%M%S')}"
        os.replace(path, aside)
        for extra in ("-journal", "-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                os.replace(path + extra, aside + extra)
        diags.add("T003", f"{path} was incomplete ({health.problems()}; a run killed while "
                  f"creating it) and held no trials: moved aside to {aside}, a new one is "
                  "made", file=path, line=1, column=1)
        return True
    both = {n: rows for n, rows in health.duplicates.items()
            if sum(1 for _, k in rows if k) > 1}
    if both:
        name, rows = next(iter(both.items()))
        ids = ", ".join(f"{i} ({k} trials)" for i, k in rows)
        diags.add("T002", f"{path} stores study {name!r} {len(rows)} times, with trials in "
                  f"more than one (study ids {ids}): not changed",
                  hint=f"keep one: rename the others, e.g. sqlite3 {path} \"update studies "
                  f"set study_name='{name}-{rows[-1][0]}' where study_id={rows[-1][0]}\"; or "
                  + recovery_hint(path), file=path, line=1, column=1)
        return False
    backup = _backup(path)
    done = _repair(path, health)
    diags.add("T003", f"{path} was damaged ({health.problems()}) and is repaired: {done}; "
              f"the old file is kept as {backup}", file=path, line=1, column=1)
    return True


def _backup(path: str) -> str:
    dest = f"{path}.bak-{time.strftime('%Y%m%d-%H%M%S')}"
    tmp = f"{dest}.tmp-{os.getpid()}"
    src = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    try:
        out = sqlite3.connect(tmp)
        try:
            src.backup(out)
        finally:
            out.close()
    finally:
        src.close()
    os.replace(tmp, dest)
    return dest


def _repair(path: str, health: Health) -> str:
    done = []
    con = sqlite3.connect(path, timeout=60, isolation_level=None)
    try:
        con.execute("begin immediate")
        for name, rows in health.duplicates.items():
            keep = max(rows, key=lambda r: (r[1], -r[0]))[0]
            for sid, _ in rows:
                if sid == keep:
                    continue
                for child in _STUDY_CHILDREN:
                    if child in health.tables:
                        con.execute(f"delete from {child} where study_id = ?", (sid,))
                con.execute("delete from studies where study_id = ?", (sid,))
            done.append(f"{len(rows) - 1} empty duplicate of study {name!r} deleted")
        for index in health.missing_indexes:
            table, column, unique = INDEXES[index]
            con.execute(f"create {'unique ' if unique else ''}index if not exists {index} "
                        f"on {table} ({column})")
            done.append(f"index {index} created")
        con.execute("commit")
    except BaseException:
        with contextlib.suppress(sqlite3.Error):
            con.execute("rollback")
        raise
    finally:
        con.close()
    return "; ".join(done) or "missing tables and version rows are added by Optuna"
