"""Where spec files may come from, and reading each of them once.

* **The project root.** ``extends``/``defaults`` (and the local model folders and data
  files validate looks into) resolve only inside the spec's project root: the nearest
  folder at or above the spec that holds ``.git``, ``pyproject.toml`` or a ``.specc``
  marker, else the spec's own folder. ``--root DIR`` adds a folder explicitly. A path
  whose real location (symlinks resolved) is outside is refused without reading a byte.
* **Regular files only.** A FIFO, device, socket or directory is refused from its
  ``stat`` before it is opened, and the file is opened non-blocking, so nothing blocks
  and nothing unbounded is read.
* **One parse per file per process.** A parent shared by many children (and a diamond of
  ``extends``) is read and parsed once; the cache is keyed by the real path and the
  file's identity (device, inode, size, modification time), and what it holds is never
  handed out to be changed: callers copy before they change anything.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Iterable, Iterator
from dataclasses import replace
from typing import Any

from specc.spec.diagnostics import Collector, Diagnostic
from specc.spec.locations import Loc, Locations
from specc.spec.project_root import MARKERS, walk_up
from specc.spec.yamlio import MAX_BYTES, Parsed, decode, parse

#: Any of these in a folder makes it a project root.
ROOT_MARKERS = MARKERS

_Stamp = tuple[int, int, int, int]


#: Project roots found during one batch (see :func:`batch_roots`), by the folder asked
#: about: a corpus of files in a few folders walks up once per folder. Empty: no batch,
#: every call walks (markers may come and go between calls of a long-lived process).
_BATCH: list[dict[str, str]] = []


@contextlib.contextmanager
def batch_roots() -> Iterator[None]:
    """Within the block, each folder's project root is found once (one ``validate`` of
    many files: the markers do not change under it)."""
    _BATCH.append(_BATCH[-1] if _BATCH else {})
    try:
        yield
    finally:
        _BATCH.pop()


def project_root(spec_file: str) -> str:
    """The real path of ``spec_file``'s project root (see the module docstring)."""
    folder = os.path.dirname(os.path.abspath(spec_file)) or "."
    if not _BATCH:
        return walk_up(folder)
    memo = _BATCH[-1]
    found = memo.get(folder)
    if found is None:
        found = memo[folder] = walk_up(folder)
    return found


def roots_for(spec_file: str, extra: Iterable[str] = ()) -> tuple[str, ...]:
    """The folders ``spec_file`` may read from: its project root and every ``--root``."""
    out = [project_root(spec_file)]
    for d in extra:
        real = os.path.realpath(d)
        if real not in out:
            out.append(real)
    return tuple(out)


#: Environment variable with extra project roots (``os.pathsep``-separated); the CLI's
#: ``--root`` sets it, so worker processes inherit it.
ROOT_ENV = "SPECC_ROOT"


def allowed_roots(spec_file: str, extra: Iterable[str] = ()) -> tuple[str, ...]:
    """``spec_file``'s project root, the folders in ``extra`` and those in ``$SPECC_ROOT``."""
    more = [*extra, *(d for d in os.environ.get(ROOT_ENV, "").split(os.pathsep) if d)]
    try:
        return roots_for(spec_file, more)
    except (ValueError, OSError):
        return ()


def inside(path: str, roots: Iterable[str]) -> bool:
    """Whether ``path``'s real location is inside one of ``roots`` (real paths)."""
    try:
        real = os.path.realpath(path)
    except (ValueError, OSError):
        return False
    return any(real == r or real.startswith(r.rstrip(os.sep) + os.sep) for r in roots)


def file_kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def read_bytes(path: str, diags: Collector, *, max_bytes: int = MAX_BYTES,
               where: Loc | None = None) -> tuple[bytes, _Stamp] | None:
    """The bytes of the regular file ``path`` and its identity, or a diagnostic (at
    ``where``, else at the top of the file) and None."""
    at: dict[str, Any] = ({"file": where.file, "line": where.line, "column": where.column}
                          if where else {"file": path, "line": 1, "column": 1})
    try:
        st = os.stat(path)
        if not stat.S_ISREG(st.st_mode):
            if stat.S_ISDIR(st.st_mode):
                diags.add("Y001", f"{path} is a directory, not a spec file", **at,
                          hint="pass the YAML file itself")
            else:
                diags.add("Y020", f"{path} is {file_kind(st.st_mode)}, not a regular file; "
                          "specc does not read it", **at, hint="pass a YAML file saved on disk")
            return None
        if st.st_size > max_bytes:
            diags.add("Y002", f"{path} is {st.st_size} bytes; the limit is {max_bytes}", **at,
                      hint="specs are small; raise the limit with --max-bytes if this is "
                      "intended")
            return None
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
        try:
            st = os.fstat(fd)  # the file opened is the file checked
            if not stat.S_ISREG(st.st_mode):
                diags.add("Y020", f"{path} is {file_kind(st.st_mode)}, not a regular file; "
                          "specc does not read it", **at, hint="pass a YAML file saved on disk")
                return None
            chunks: list[bytes] = []
            size = 0
            while size <= max_bytes:
                chunk = os.read(fd, min(1 << 20, max_bytes + 1 - size))
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
        finally:
            os.close(fd)
    except FileNotFoundError:
        diags.add("Y001", f"{path} does not exist", **at, hint="check the file name")
        return None
    except (OSError, ValueError) as e:
        reason = getattr(e, "strerror", None) or type(e).__name__
        diags.add("Y001", f"{path} cannot be read: {reason}", **at,
                  hint="check the file's permissions")
        return None
    if size > max_bytes:
        diags.add("Y002", f"{path} is over {max_bytes} bytes (it grew while read)", **at,
                  hint="specs are small; raise the limit with --max-bytes if this is intended")
        return None
    return b"".join(chunks), (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


# --- one parse per file --------------------------------------------------------------------

#: real path -> (identity, max_bytes, text, parsed or None, diagnostics, name they carry)
_CACHE: dict[str, tuple[_Stamp, int, str | None, Parsed | None, tuple[Diagnostic, ...], str]] = {}
_CACHE_MAX = 4096


def stamp(path: str) -> _Stamp | None:
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def load_file(path: str, diags: Collector, *, max_bytes: int = MAX_BYTES,
              where: Loc | None = None) -> tuple[str | None, Parsed | None]:
    """Read and parse ``path`` (its text and parse, or None where it failed), reporting
    into ``diags``; a file read before in this process and unchanged is not read again.
    The returned :class:`Parsed` is shared: never change it (copy first)."""
    real = os.path.realpath(path)
    current = stamp(real)
    hit = _CACHE.get(real)
    if hit is not None and current is not None and hit[0] == current and hit[1] == max_bytes:
        _, _, known, seen, problems, name = hit
        if name != path:
            problems = tuple(replace(d, file=path) if d.file == name else d for d in problems)
            if seen is not None:
                seen = relabel(seen, path)
        diags.extend(problems)
        return known, seen
    local = Collector()
    got = read_bytes(path, local, max_bytes=max_bytes, where=where)
    text: str | None = None
    parsed = None
    if got is not None:
        raw, ident = got
        text = decode(raw, path, local)
        if text is not None:
            parsed = parse(text, path, local)
        if len(_CACHE) >= _CACHE_MAX:
            _CACHE.clear()
        _CACHE[real] = (ident, max_bytes, text, parsed, tuple(local.items), path)
    diags.extend(local.items)
    return text, parsed


def relabel(parsed: Parsed, file: str) -> Parsed:
    """``parsed`` with every location naming ``file`` (the same file reached by another
    name); the data is shared, not copied."""
    def move(table: dict[Any, Loc]) -> dict[Any, Loc]:
        return {p: Loc(file, x.line, x.column, x.end_line, x.end_column)
                for p, x in table.items()}

    locs = Locations(move(parsed.locations.values), move(parsed.locations.keys))
    return Parsed(parsed.data, locs, parsed.text, set(parsed.refused), parsed.composed)


def clear_cache() -> None:
    _CACHE.clear()


STDIN = "-"
STDIN_NAME = "<stdin>"


def read_stdin(diags: Collector, name: str, *, max_bytes: int = MAX_BYTES) -> str | None:
    """Standard input as text (at most ``max_bytes``), or a diagnostic and None."""
    import sys

    try:
        stream = sys.stdin.buffer
        raw = stream.read(max_bytes + 1)
    except (OSError, ValueError, AttributeError) as e:
        diags.add("Y021", f"standard input cannot be read ({type(e).__name__})", file=name,
                  line=1, column=1, hint="pipe the spec in: `specc validate - < spec.yaml`")
        return None
    if raw is None:
        raw = b""
    if len(raw) > max_bytes:
        diags.add("Y002", f"standard input is over {max_bytes} bytes", file=name, line=1,
                  column=1,
                  hint="specs are small; raise the limit with --max-bytes if this is intended")
        return None
    return decode(raw, name, diags)
