"""Optuna storage URLs as text: the journal prefix and the read-only SQLite form.

String work only (no Optuna import), so both the runtime (`specc run`, `specc report`)
and the TUI, which never imports the runtime, read storages the same way.
"""

from __future__ import annotations

#: `journal:PATH` names an Optuna JournalStorage file.
JOURNAL_PREFIX = "journal:"


def read_only_url(url: str) -> str:
    """``sqlite:///PATH`` as a read-only SQLite URI (other URLs unchanged)."""
    if not url.startswith("sqlite:///") or "mode=ro" in url:
        return url
    path = url.removeprefix("sqlite:///")
    if path.startswith("file:"):
        return url + ("&" if "?" in path else "?") + "mode=ro&uri=true"
    return f"sqlite:///file:{path}?mode=ro&uri=true"
