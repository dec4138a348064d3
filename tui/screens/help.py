"""The help screen: every key, by screen."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

KEYS: list[tuple[str, list[tuple[str, str]]]] = [
    ("Everywhere", [
        ("F1  ?", "this help (? outside the editor)"),
        ("F2  e", "editor: the spec with live diagnostics"),
        ("F3  p", "plan: the trials the spec compiles to"),
        ("F4  s", "study: the trials of the running or finished study"),
        ("ctrl+r", "save the spec and run its study (`specc run FILE`; resumes it)"),
        ("ctrl+c", "stop the running study (the trial is marked; ctrl+r resumes)"),
        ("l", "the run's log (outside the editor)"),
        ("ctrl+q", "quit (twice with unsaved edits or a running study)"),
        ("tab", "next panel"),
    ]),
    ("Editor", [
        ("ctrl+s", "save (atomically; the text exactly as typed)"),
        ("ctrl+o", "reload the file from disk (drops edits)"),
        ("F8  shift+F8", "next, previous problem"),
        ("tab", "to the problems list; enter jumps to the problem"),
        ("escape", "back to the text"),
        ("ctrl+z  ctrl+y", "undo, redo"),
    ]),
    ("Plan", [
        ("r", "rebuild the plan"),
        ("m", "sample 5 more points (random, TPE, ... samplers)"),
    ]),
    ("Study", [
        ("o", "sort by the next column (number, state, value, time)"),
        ("v", "reverse the order"),
        ("r", "read the storage now (it is read every 2 s)"),
        ("x", "stop the running study (as ctrl+c)"),
    ]),
]


def keys_table() -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column()
    for section, keys in KEYS:
        table.add_row(Text(section, style="bold underline"), "")
        for key, what in keys:
            table.add_row(key, what)
        table.add_row("", "")
    return table


class HelpScreen(ModalScreen[None]):
    """Keys of every screen; any of escape, F1, q closes it."""

    BINDINGS = [
        Binding("escape,f1,q,question_mark", "dismiss", "Close"),
    ]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-box") as box:
            box.border_title = "specc tui: keys"
            box.border_subtitle = "escape closes"
            yield Static(keys_table())
