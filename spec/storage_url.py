"""Optuna storage URLs: the journal prefix, local files, the installed PostgreSQL driver,
the form specc shows, and opening a storage read-only.

specc reads its short forms (``journal:PATH``; ``postgresql://`` whatever driver is
installed) and shows every URL in the form Optuna's own tools open as is
(:func:`public_url`): ``optuna trials --storage URL`` and ``optuna-dashboard URL`` take a
journal as the file's plain path (an existing file is a journal to them) and a database by
its SQLAlchemy URL, so PostgreSQL is driver-qualified (``postgresql+psycopg2://``) when
only psycopg2 is installed.

Text work only at import (Optuna is imported inside :func:`open_read_only`), so the
runtime (`specc run`, `specc report`) and the TUI, which never imports the runtime, read
storages the same way.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import Any

from specc.spec.diagnostics import Collector, Diagnostic

#: `journal:PATH` names an Optuna JournalStorage file.
JOURNAL_PREFIX = "journal:"


#: What a SQLite file starts with (a plain path to one is not a journal).
_SQLITE_MAGIC = b"SQLite format 3\x00"


def is_journal(url: str) -> bool:
    """``journal:PATH``, a path ending in ``.journal`` or ``.log``, or (as Optuna's CLI and
    optuna-dashboard take it) the plain path of an existing file that is not SQLite."""
    if url.startswith(JOURNAL_PREFIX) or (
            "://" not in url and url.endswith((".journal", ".log"))):
        return True
    if "://" in url or not url or not os.path.isfile(url):
        return False
    try:
        with open(url, "rb") as f:
            return f.read(len(_SQLITE_MAGIC)) != _SQLITE_MAGIC
    except OSError:
        return False


def local_file(url: str) -> Path | None:
    """The file a journal or SQLite URL names; None for a database server."""
    if is_journal(url):
        return Path(url.removeprefix(JOURNAL_PREFIX))
    if url.startswith("sqlite:///"):
        return Path(url.removeprefix("sqlite:///").split("?", 1)[0].removeprefix("file:"))
    return None


def driver_url(url: str) -> str:
    """``postgresql://`` with the driver that is installed: SQLAlchemy 2.1 means psycopg 3
    by it, specc's `run` extra installs psycopg2."""
    if url.startswith(("postgresql://", "postgres://")) and \
            importlib.util.find_spec("psycopg") is None and \
            importlib.util.find_spec("psycopg2") is not None:
        return "postgresql+psycopg2://" + url.split("://", 1)[1]
    return url


def public_url(url: str) -> str:
    """``url`` as specc shows it (printed, in ``results.json``, in the TUI and the report):
    a URL Optuna's CLI (``optuna trials --storage URL``) and optuna-dashboard open as is.

    A journal is its file's plain path; PostgreSQL carries the installed driver
    (:func:`driver_url`); a password is left out (never printed; the driver reads it from
    ``PGPASSWORD`` or ``~/.pgpass``, MySQL's from its option files)."""
    if url.startswith(JOURNAL_PREFIX):
        return url.removeprefix(JOURNAL_PREFIX)
    url = driver_url(url)
    if "://" in url and "@" in url:
        scheme, rest = url.split("://", 1)
        cred, host = rest.rsplit("@", 1)
        if ":" in cred:
            return f"{scheme}://{cred.split(':', 1)[0]}@{host}"
    return url


def read_only_url(url: str) -> str:
    """``sqlite:///PATH`` as a read-only SQLite URI (other URLs unchanged)."""
    if not url.startswith("sqlite:///") or "mode=ro" in url:
        return url
    path = url.removeprefix("sqlite:///")
    if path.startswith("file:"):
        return url + ("&" if "?" in path else "?") + "mode=ro&uri=true"
    return f"sqlite:///file:{path}?mode=ro&uri=true"


def failure(message: str, *, where: str, hint: str = "") -> Diagnostic:
    """A storage that cannot be opened or used, as a T001 diagnostic located at ``where``
    (the storage's file or URL without password, line 1)."""
    diags = Collector()
    return diags.add("T001", message, file=where, line=1, column=1, hint=hint)


def open_read_only(url: str, *, timeout: float) -> Any:
    """An Optuna storage for ``url`` that never creates or changes anything. A SQLite
    file is opened per read (no handle kept on a file `specc run` replaces, no lock held
    between reads; ``timeout`` seconds of waiting for a writer). Raises FileNotFoundError
    for a journal or SQLite file that does not exist."""
    import optuna

    local = local_file(url)
    if local is not None and not local.is_file():
        raise FileNotFoundError(str(local))
    if is_journal(url):
        from optuna.storages.journal import JournalFileBackend, JournalStorage

        return JournalStorage(JournalFileBackend(str(local)))
    engine_kwargs: dict[str, Any] = {}
    if url.startswith("sqlite:///"):
        from sqlalchemy.pool import NullPool

        engine_kwargs = {"connect_args": {"timeout": timeout}, "poolclass": NullPool}
    elif url.startswith(("postgres", "mysql")):
        engine_kwargs = {"pool_pre_ping": True}
    return optuna.storages.RDBStorage(read_only_url(driver_url(url)),
                                      engine_kwargs=engine_kwargs,
                                      skip_compatibility_check=True, skip_table_creation=True)
