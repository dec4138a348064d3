"""Writing a file so that readers (and a crash) never see half of it.

One writer for every file specc writes in place: spec edits (`specc set`, the TUI's save),
and a run's outputs (`results.json`, `best.yaml`, trial specs, reports).

The temporary file is ``.<name>.specc-<pid>-<random>.tmp`` beside the target. A writer
killed between creating it and renaming it leaves it behind; :func:`clean_leftovers` removes
such files once their writer is gone (the next `specc run` does, in its output folder).
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
import tempfile
import time
from pathlib import Path

from specc.spec.diagnostics import Collector

#: The temporary files :func:`write_atomic` makes (group 1: the writer's pid).
TEMP_NAME = re.compile(r"\A\..+\.specc-(\d+)-[A-Za-z0-9_]+\.tmp\Z")
#: Temporary files of specc versions before the pid was in the name.
_OLD_TEMP_NAME = re.compile(r"\A\.(results\.json|best\.yaml|spec\.yaml)\.[a-z0-9_]{8}\.tmp\Z")
#: When this process started (an unnamed leftover older than it is not being written).
_STARTED = time.time()


def write_atomic(path: str | os.PathLike[str], data: str | bytes, *,
                 mode_from: str | os.PathLike[str] | None = None,
                 make_dirs: bool = False) -> None:
    """Write ``data`` byte for byte (text as UTF-8, newlines untouched) to a temporary
    file beside ``path``, fsync it, then ``os.replace`` it over ``path``. The file mode of
    ``path`` (or, for a new file, of ``mode_from``) is kept; with ``make_dirs``, missing
    folders are made. Raises IsADirectoryError when ``path`` is a directory (before
    anything is written)."""
    dest = Path(path)
    if make_dirs:
        dest.parent.mkdir(parents=True, exist_ok=True)
    if dest.is_dir():
        raise IsADirectoryError(21, "Is a directory", str(dest))
    raw = data.encode("utf-8") if isinstance(data, str) else data
    mode = None
    for candidate in (dest, mode_from):
        with contextlib.suppress(OSError):
            if candidate is not None:
                mode = stat.S_IMODE(os.stat(candidate).st_mode)
                break
    if mode is None:  # a new file: what open() would give it, not mkstemp's 0600
        mode = 0o666 & ~_umask()
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.specc-{os.getpid()}-", suffix=".tmp",
                               dir=dest.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(raw)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, dest)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def writer_gone(pid: int, mtime: float) -> bool:
    """Whether process ``pid`` cannot be the one writing a file last touched at ``mtime``:
    it is not running, or it started after the file was written (a reused pid)."""
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        pass
    try:
        started = os.stat(f"/proc/{pid}").st_ctime
    except OSError:
        return False
    return started > mtime + 1


def leftovers(folder: str | os.PathLike[str]) -> list[Path]:
    """The temporary files of interrupted atomic writes in ``folder`` (not below it) whose
    writer is gone."""
    out = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return []
    for e in entries:
        m = TEMP_NAME.match(e.name)
        old = _OLD_TEMP_NAME.match(e.name)
        if not (m or old):
            continue
        try:
            st = e.stat(follow_symlinks=False)
        except OSError:
            continue
        if not stat.S_ISREG(st.st_mode):
            continue
        if (m and writer_gone(int(m.group(1)), st.st_mtime)) or \
                (old and st.st_mtime < _STARTED - 1):
            out.append(Path(e.path))
    return out


def clean_leftovers(folders: list[Path], diags: Collector) -> list[Path]:
    """Remove :func:`leftovers` in each of ``folders``; one T004 note when any went."""
    removed = []
    for folder in folders:
        for p in leftovers(folder):
            with contextlib.suppress(OSError):
                p.unlink()
                removed.append(p)
    if removed:
        shown = ", ".join(str(p) for p in removed[:3]) + (" ..." if len(removed) > 3 else "")
        diags.add("T004", f"removed {len(removed)} temporary file(s) of an interrupted write: "
                  f"{shown}", file=str(removed[0].parent), line=1, column=1)
    return removed


def check_targets(paths: list[Path], diags: Collector) -> bool:
    """Each of ``paths`` can be replaced by :func:`write_atomic`: not a directory, its
    folder writable. T005 errors otherwise; True when all can."""
    ok = True
    for p in paths:
        if p.is_dir():
            diags.add("T005", f"{p} is a directory: specc writes a file there", file=str(p),
                      line=1, column=1, hint=f"remove or rename the directory {p}, or give "
                      "another --output")
            ok = False
        elif p.parent.is_dir() and not os.access(p.parent, os.W_OK | os.X_OK):
            diags.add("T005", f"{p.parent} is not writable: {p.name} cannot be written there",
                      file=str(p), line=1, column=1,
                      hint="give another --output, or make the folder writable")
            ok = False
    return ok


def check_writable(path: str | os.PathLike[str], diags: Collector) -> bool:
    """Whether :func:`write_atomic` may replace ``path``: the file's mode lets its owner
    write it (E005: a 0444 file is read-only even where the folder would let a rename
    replace it, and even for root) and its folder is writable (E006)."""
    p = Path(path)
    try:
        st = p.stat()
    except OSError:
        st = None
    if st is not None and stat.S_ISREG(st.st_mode) and (
            not st.st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)
            or not os.access(p, os.W_OK)):
        diags.add("E005", f"{p} is read-only (mode {stat.S_IMODE(st.st_mode):04o}): not "
                  "written", file=str(p), line=1, column=1,
                  hint="make it writable (chmod u+w), write elsewhere with --output NEW, or "
                  "pass --force")
        return False
    folder = p.parent if str(p.parent) else Path(".")
    try:
        locked = not folder.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)
    except OSError:
        locked = False
    if locked or not os.access(folder, os.W_OK | os.X_OK) or _read_only_mount(folder):
        diags.add("E006", f"{folder} is not writable: {p.name} cannot be replaced there",
                  file=str(p), line=1, column=1,
                  hint="write elsewhere with --output NEW, or pass --force to try anyway")
        return False
    return True


def _read_only_mount(folder: Path) -> bool:
    with contextlib.suppress(OSError, AttributeError):
        return bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    return False
