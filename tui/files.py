"""The spec file on disk: exact text in, changes by others noticed, temporary copies (writing
is `specc.spec.atomic`)."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path


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
    """The file's text, newlines untouched (``\\r\\n`` stays ``\\r\\n``)."""
    with open(path, encoding="utf-8", newline="") as f:
        return f.read()


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
