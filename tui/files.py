"""The spec file on disk: exact text in (with validate's limits), changes by others noticed,
temporary copies (writing is `specc.spec.atomic`)."""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from specc.spec.diagnostics import Collector, Diagnostic
from specc.spec.yamlio import MAX_BYTES


@dataclass(frozen=True)
class Stamp:
    """What the file on disk looked like (to notice changes by others)."""

    mtime_ns: int
    size: int

    @classmethod
    def of(cls, path: Path) -> Stamp | None:
        try:
            st = path.stat()
        except OSError:
            return None
        return cls(st.st_mtime_ns, st.st_size)


def read_text(path: Path) -> str:
    """The file's text, newlines untouched (``\\r\\n`` stays ``\\r\\n``). Raises OSError
    or UnicodeDecodeError; :func:`read_spec` is the careful reader."""
    with open(path, encoding="utf-8", newline="") as f:
        return f.read()


def read_spec(path: Path, max_bytes: int = MAX_BYTES) -> tuple[str, list[Diagnostic]]:
    """The file's text (newlines untouched; a missing file is empty: saving creates it), or
    ``""`` and the refusals validate would give, decided before anything is read: not a
    regular file (a FIFO would block, ``/dev/zero`` never ends), larger than ``max_bytes``,
    not UTF-8 text or holding NUL bytes. Refusals are located at line 1, column 1."""
    diags = Collector()
    name = str(path)

    def refuse(code: str, message: str, hint: str) -> tuple[str, list[Diagnostic]]:
        diags.add(code, message, file=name, line=1, column=1, hint=hint)
        return "", diags.items

    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
    except FileNotFoundError:
        return "", []
    except IsADirectoryError:
        return refuse("Y001", f"{name} is a directory, not a spec file", "open the YAML file")
    except OSError as e:
        return refuse("Y001", f"{name} cannot be read: {e.strerror or e}",
                      "check the file's permissions")
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            return refuse("Y001", f"{name} is a directory, not a spec file",
                          "open the YAML file")
        if not stat.S_ISREG(st.st_mode):
            return refuse("Y001", f"{name} is not a regular file (a FIFO, device or socket): "
                          "not read", "open a YAML file")
        if st.st_size > max_bytes:
            return refuse("Y002", f"{name} is {st.st_size} bytes; the limit is {max_bytes}",
                          "specs are small; `specc validate --max-bytes` checks bigger ones")
        chunks: list[bytes] = []
        size = 0
        while size <= max_bytes:  # a file that grows while it is read stops at the limit
            chunk = os.read(fd, max_bytes + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        raw = b"".join(chunks)
    finally:
        os.close(fd)
    if len(raw) > max_bytes:
        return refuse("Y002", f"{name} is larger than the limit of {max_bytes} bytes",
                      "specs are small; `specc validate --max-bytes` checks bigger ones")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        return refuse("Y003", f"{name}: byte {e.start} is not valid UTF-8: not a text file",
                      "save the file as UTF-8")
    if "\x00" in text:
        return refuse("Y003", f"{name} holds NUL bytes: not a text file",
                      "open a YAML file")
    return text, []


@contextlib.contextmanager
def temp_copy(path: Path, text: str) -> Iterator[Path]:
    """``text`` in a hidden file beside ``path`` (so relative ``extends`` resolve as they
    do for ``path``), removed afterwards."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.specc-tui-", suffix=path.suffix or ".yaml",
                               dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        yield Path(tmp)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
