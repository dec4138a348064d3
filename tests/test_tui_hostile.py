"""`specc tui` on files validate refuses or that break the highlighter (real Textual app,
driven with Pilot): each opens, shows why, never crashes, never reads without bound, and
ctrl+q quits.

Before: 300 nested keys (47 KB) segfaulted in the tree-sitter highlighter, `/dev/zero` grew
to gigabytes, a FIFO blocked the start, 100,000 `[` pinned a core and ignored ctrl+q.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from test_tui import SIZE, codes, validated, wait_for

from specc.spec.yamlio import MAX_BYTES
from specc.tui import create_app
from specc.tui.screens import EditorScreen
from specc.tui.widgets import DiagnosticsList, SpecEditor
from specc.tui.widgets.spec_editor import HIGHLIGHT_MAX_COLUMN, highlight_safe

from conftest import EXAMPLES


def _deep(tmp_path: Path) -> Path:
    p = tmp_path / "deep.yaml"
    p.write_text("".join("  " * i + f"k{i}:\n" for i in range(300)) + "  " * 300 + "v\n")
    return p


def _brackets(tmp_path: Path) -> Path:
    p = tmp_path / "brackets.yaml"
    p.write_text("[" * 100_000 + "\n")
    return p


def _binary(tmp_path: Path) -> Path:
    p = tmp_path / "binary.yaml"
    p.write_bytes(bytes(range(256)) * 64)
    return p


def _nul(tmp_path: Path) -> Path:
    p = tmp_path / "nul.yaml"
    p.write_bytes(b"name: a\x00b\n")
    return p


def _big(tmp_path: Path) -> Path:
    p = tmp_path / "big.yaml"
    p.write_text("a: 1\n" + "# padding\n" * (MAX_BYTES // 10 + 10))
    return p


def _fifo(tmp_path: Path) -> Path:
    p = tmp_path / "fifo.yaml"
    os.mkfifo(p)
    return p


def _folder(tmp_path: Path) -> Path:
    p = tmp_path / "folder.yaml"
    p.mkdir()
    return p


def _dev_zero(tmp_path: Path) -> Path:
    return Path("/dev/zero")


#: file maker, and the code shown: the loader's refusal to open it (read-only, empty), or
#: validate's diagnostic on a file that opens (unhighlighted)
HOSTILE: dict[str, tuple[Callable[[Path], Path], str, bool]] = {
    "300 nested keys": (_deep, "Y018", False),
    "100,000 [": (_brackets, "Y018", False),
    "binary": (_binary, "Y003", True),
    "NUL bytes": (_nul, "Y003", True),
    "over the size limit": (_big, "Y002", True),
    "a FIFO": (_fifo, "Y001", True),
    "a directory": (_folder, "Y001", True),
    "/dev/zero": (_dev_zero, "Y001", True),
}


@pytest.mark.parametrize("case", list(HOSTILE))
def test_hostile_file_opens_shows_why_and_ctrl_q_quits(tmp_path: Path, case: str) -> None:
    make, code, refused = HOSTILE[case]
    path = make(tmp_path)
    before = path.read_bytes() if path.is_file() else None

    async def go() -> None:
        app = create_app(path)
        async with app.run_test(size=SIZE) as pilot:
            screen = app.screen
            assert isinstance(screen, EditorScreen)
            editor = screen.query_one(SpecEditor)
            if not refused:
                assert editor.language is None  # the highlighter never saw it
                await wait_for(pilot, lambda: validated(app), timeout=30)
                assert code in codes(app)
                diags = screen.query_one(DiagnosticsList).diagnostics
                assert all(d.line >= 1 and d.column >= 1 for d in diags)
            else:
                assert codes(app) == [code]
                assert editor.read_only and editor.text == ""
                assert "read-only" in str(editor.border_title)
                d = app.session.refused[0]
                assert (d.line, d.column) == (1, 1) and d.file == str(path)
                await pilot.press("ctrl+s")  # never writes over what it did not read
                await pilot.pause()
            await pilot.press("ctrl+q")
            await pilot.pause()
        assert app.return_code == 0
        if before is not None:
            assert path.read_bytes() == before

    asyncio.run(asyncio.wait_for(go(), timeout=120))


def test_highlighting_goes_off_before_a_paste_the_highlighter_cannot_take(
        tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_bytes((EXAMPLES / "quickstart.yaml").read_bytes())
    deep = "".join("  " * i + f"k{i}:\n" for i in range(300))

    async def go() -> None:
        app = create_app(spec)
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: validated(app))
            editor = app.screen.query_one(SpecEditor)
            assert editor.language == "yaml"  # a normal spec is highlighted
            editor.move_cursor((editor.document.line_count - 1, 0))
            editor.insert(deep)  # would segfault inside tree-sitter with highlighting on
            assert editor.language is None
            # validate's nesting limit, from the worker
            await wait_for(pilot, lambda: "Y018" in codes(app), timeout=30)
            await pilot.press("ctrl+q", "ctrl+q")
            await pilot.pause()
        assert app.return_code == 0

    asyncio.run(asyncio.wait_for(go(), timeout=120))


def test_highlight_limits() -> None:
    assert highlight_safe((EXAMPLES / "quickstart.yaml").read_text())
    assert not highlight_safe(" " * HIGHLIGHT_MAX_COLUMN + "k: v\n")
    assert not highlight_safe("a:\n" + "- " * 130 + "x\n")
    assert not highlight_safe("? " * 130 + "x\n")
    assert not highlight_safe("a: " + "[" * 300 + "]" * 300 + "\n")
    assert highlight_safe("a: '" + "]" * 300 + "'\n")


def test_save_refuses_a_read_only_file(tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_bytes((EXAMPLES / "quickstart.yaml").read_bytes())
    spec.chmod(0o444)
    before = spec.read_bytes()

    async def go() -> None:
        app = create_app(spec)
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: validated(app))
            await pilot.press("x", "ctrl+s")
            await pilot.pause()
            assert app.session.dirty  # not saved
            await pilot.press("ctrl+q", "ctrl+q")
            await pilot.pause()

    asyncio.run(asyncio.wait_for(go(), timeout=120))
    assert spec.read_bytes() == before
