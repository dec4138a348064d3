"""Writing a file so that readers (and a crash) never see half of it.

One writer for every file specc writes in place: spec edits (`specc set`, the TUI's save),
and a run's outputs (`results.json`, `best.yaml`, trial specs, reports).
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path


def write_atomic(path: str | os.PathLike[str], data: str | bytes, *,
                 mode_from: str | os.PathLike[str] | None = None,
                 make_dirs: bool = False) -> None:
    """Write ``data`` byte for byte (text as UTF-8, newlines untouched) to a temporary
    file beside ``path``, fsync it, then ``os.replace`` it over ``path``. The file mode of
    ``path`` (or, for a new file, of ``mode_from``) is kept; with ``make_dirs``, missing
    folders are made."""
    dest = Path(path)
    if make_dirs:
        dest.parent.mkdir(parents=True, exist_ok=True)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    mode = None
    for candidate in (dest, mode_from):
        with contextlib.suppress(OSError):
            if candidate is not None:
                mode = stat.S_IMODE(os.stat(candidate).st_mode)
                break
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(raw)
            f.flush()
            os.fsync(f.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, dest)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
