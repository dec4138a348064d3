"""Opening a study storage so that a kill, a race or a damaged file never breaks a study.

* **SQLite, new file**: the schema is made in ``<name>.db.tmp-<pid>`` by Optuna's
  RDBStorage, then linked into place (``os.link``: no clobbering a file another process
  made meanwhile). A kill at any moment leaves no database, or a complete one, plus at
  most a temporary file the next run removes.
* **SQLite, existing file**: checked and mended first (:mod:`specc.spec.study_db`).
* **PostgreSQL / MySQL**: the first ``RDBStorage(...)`` of a fresh database creates the
  tables; several processes doing it at once race (``UniqueViolation``, "already exists").
  On PostgreSQL the construction holds an advisory lock; on every server it is retried.
* **Failures** become diagnostics (:class:`StorageProblem`, T001/T002): `specc run` and
  `specc report` print them and exit 2, never a traceback.
"""

from __future__ import annotations

import contextlib
import os
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from specc.spec.atomic import writer_gone
from specc.spec.diagnostics import Collector, Diagnostic
from specc.spec.storage_url import failure
from specc.spec.study_db import mend

T = TypeVar("T")

#: Advisory lock key for creating specc's Optuna schema (any fixed 64-bit number).
_PG_LOCK = 0x5_9ECC_0071
#: Attempts at the first construction on a database server.
_ATTEMPTS = 8
_TMP = re.compile(r"\.tmp-(\d+)(-journal|-wal|-shm)?\Z")


class StorageProblem(Exception):
    """The storage cannot be used; ``diagnostics`` say why and how to recover."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        super().__init__("; ".join(d.message for d in diagnostics))
        self.diagnostics = diagnostics


def show(diags: list[Diagnostic]) -> None:
    """Print notes (a mended database, removed leftovers) to stderr, as validate would."""
    if diags:
        import sys

        from specc.spec.render import render

        render("text", diags, {}, sorted({d.file for d in diags}), sys.stderr)


def problem(message: str, *, where: str, hint: str = "") -> StorageProblem:
    return StorageProblem([failure(message, where=where, hint=hint)])


# --- SQLite --------------------------------------------------------------------------------------

def prepare_sqlite(db: Path, build: Callable[[str], Any], diags: Collector) -> None:
    """Make ``db`` a complete study database: leftovers of a killed creation removed, a
    damaged file mended (or :class:`StorageProblem`), a missing one created atomically with
    ``build(url)`` (an RDBStorage constructor)."""
    db.parent.mkdir(parents=True, exist_ok=True)
    _clean_tmp(db)
    if db.exists() and not mend(str(db), diags):
        raise StorageProblem([d for d in diags if d.severity.value == "error"])
    if not db.exists():
        _create(db, build)


def _clean_tmp(db: Path) -> None:
    for p in db.parent.glob(f"{db.name}.*tmp-*"):  # a creation, or a backup (study_db)
        m = _TMP.search(p.name)
        if m is None:
            continue
        with contextlib.suppress(OSError):
            if writer_gone(int(m.group(1)), p.stat().st_mtime):
                p.unlink()


def _create(db: Path, build: Callable[[str], Any]) -> None:
    tmp = db.with_name(f"{db.name}.tmp-{os.getpid()}")
    for p in (tmp, Path(f"{tmp}-journal")):
        with contextlib.suppress(FileNotFoundError):
            p.unlink()
    try:
        storage = build(f"sqlite:///{tmp}")
        with contextlib.suppress(Exception):
            storage.scoped_session.remove()
            storage.engine.dispose()
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        with contextlib.suppress(FileExistsError):  # another run made it first: use theirs
            os.link(tmp, db)
        _fsync_dir(db.parent)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


# --- database servers ----------------------------------------------------------------------------

def first_use(url: str, build: Callable[[], T]) -> T:
    """``build()`` (an RDBStorage construction on ``url``), safe when several processes
    meet a fresh database: serialised by an advisory lock on PostgreSQL, retried on the
    schema-creation race everywhere."""
    for attempt in range(_ATTEMPTS):
        try:
            with _pg_lock(url):
                return build()
        except Exception as e:
            if attempt + 1 == _ATTEMPTS or not _schema_race(e):
                raise
            time.sleep(0.05 * (attempt + 1) + (os.getpid() % 7) * 0.01)
    raise AssertionError("unreachable")


def _schema_race(e: BaseException) -> bool:
    text = f"{type(e).__name__} {e} {e.__cause__!r}".lower()
    return any(s in text for s in ("uniqueviolation", "already exists", "duplicate key",
                                   "duplicatetable", "1050", "deadlock"))


@contextlib.contextmanager
def _pg_lock(url: str) -> Iterator[None]:
    if not url.startswith(("postgresql", "postgres")):
        yield
        return
    import sqlalchemy
    from sqlalchemy.pool import NullPool

    engine = sqlalchemy.create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as con:
            con.execute(sqlalchemy.text("select pg_advisory_lock(:k)"), {"k": _PG_LOCK})
            try:
                yield
            finally:
                with contextlib.suppress(Exception):
                    con.execute(sqlalchemy.text("select pg_advisory_unlock(:k)"),
                                {"k": _PG_LOCK})
    finally:
        engine.dispose()


# --- errors while a study runs or is read --------------------------------------------------------

def is_storage_error(e: BaseException) -> bool:
    """Whether ``e`` comes from the storage layer (Optuna's storage, SQLAlchemy, sqlite3),
    not from the spec or a trial."""
    import sqlite3

    if isinstance(e, (StorageProblem, sqlite3.Error)):
        return True
    mod = type(e).__module__ or ""
    if mod.startswith(("sqlalchemy", "psycopg", "pymysql", "MySQLdb")):
        return True
    try:
        from optuna.exceptions import StorageInternalError
    except ImportError:
        return False
    return isinstance(e, StorageInternalError)


def as_problem(e: BaseException, where: str) -> StorageProblem:
    """A storage exception as a T001 diagnostic (first line of its message)."""
    if isinstance(e, StorageProblem):
        return e
    cause = e.__cause__ or e.__context__
    text = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
    if cause is not None and str(cause).strip():
        first = str(cause).strip().splitlines()[0]
        if first not in text:
            text += f" ({type(cause).__name__}: {first})"
    hint = "check that the database server is reachable and the URL is right"
    if where.endswith(".db") or where.startswith("sqlite"):
        hint = ("if the file is damaged, run `specc run` again (it checks and mends it); "
                "or move it aside to start a new study")
    return problem(f"study storage {where} failed: {text}", where=where,
                   hint=hint)
