"""Where the TUI's YAML highlighter (tree-sitter-yaml, via Textual) stops being safe.

Run from the repository root (needs the ``tui`` extra with ``textual[syntax]``):

    .venv/bin/python benchmarks/tui_highlight_limits.py

For each shape of nesting it parses YAML of growing depth with tree-sitter in a fresh
process (a crash there is a segfault that would take the terminal with it) and bisects the
first depth that kills the process; for flow nesting it times the parse. The TUI switches
highlighting off well below the first crash (``specc.tui.widgets.spec_editor``:
``HIGHLIGHT_MAX_COLUMN``, ``HIGHLIGHT_MAX_FLOW``, ``HIGHLIGHT_MAX_CHARS``).
"""

from __future__ import annotations

import subprocess
import sys
import time

PARSE = """\
import sys
from tree_sitter import Language, Parser
import tree_sitter_yaml
shape, n = sys.argv[1], int(sys.argv[2])
text = {
    "block mapping": "".join("  " * i + f"k{i}:\\n" for i in range(n)) + "  " * n + "v\\n",
    "block sequence": "".join("  " * i + "-\\n" for i in range(n)) + "  " * n + "x\\n",
    "compact '- '": "a:\\n" + "- " * n + "x\\n",
    "compact '? '": "? " * n + "x\\n",
    "flow": "a: " + "[" * n + "]" * n + "\\n",
}[shape]
Parser(Language(tree_sitter_yaml.language())).parse(text.encode())
"""


def survives(shape: str, n: int, timeout: float = 120) -> bool | None:
    """True: parsed; False: the process crashed; None: still parsing after ``timeout``."""
    try:
        proc = subprocess.run([sys.executable, "-c", PARSE, shape, str(n)],
                              capture_output=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return None
    return proc.returncode == 0


def first_crash(shape: str, high: int = 4096) -> int | None:
    if survives(shape, high):
        return None
    low = 1
    while high - low > 1:
        mid = (low + high) // 2
        if survives(shape, mid):
            low = mid
        else:
            high = mid
    return high


def main() -> None:
    from specc.tui.widgets.spec_editor import (
        HIGHLIGHT_MAX_CHARS,
        HIGHLIGHT_MAX_COLUMN,
        HIGHLIGHT_MAX_FLOW,
    )

    print(f"{'shape':<16} first depth that crashes tree-sitter")
    for shape in ("block mapping", "block sequence", "compact '- '", "compact '? '"):
        crash = first_crash(shape)
        print(f"{shape:<16} {crash if crash is not None else 'none up to 4096'}")
    for n in (200, 1_000, 3_000, 10_000):
        start = time.perf_counter()
        ok = survives("flow", n, timeout=60)
        state = {True: "parsed", False: "crash", None: "still parsing, stopped"}[ok]
        print(f"flow depth {n:>6}: {state} after {time.perf_counter() - start:.2f} s "
              "(including process start)")
    print(f"TUI limits: block column < {HIGHLIGHT_MAX_COLUMN}, flow depth < "
          f"{HIGHLIGHT_MAX_FLOW}, size <= {HIGHLIGHT_MAX_CHARS} characters")


if __name__ == "__main__":
    main()
