"""The help panel: what the schema says about the key under the cursor."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.widgets import Static

from specc.spec.diagnostics import Diagnostic, Severity

if TYPE_CHECKING:
    from specc.tui.fieldhelp import FieldHelp

_STYLE = {Severity.ERROR: "red", Severity.WARNING: "yellow", Severity.INFO: "blue"}


def render_help(help: FieldHelp | None, path: str = "") -> Text:
    if help is None:
        if not path:
            return Text("Move the cursor onto a key to see what it means.", style="dim")
        return Text.assemble((path, "bold"), "\n\n", ("not a key of the spec", "yellow"))
    out = Text.assemble((help.path, "bold"), "\n")
    for label, value in (("type", help.type), ("default", help.default),
                         ("range", help.range)):
        if value and value != "-":
            out.append(f"{label}: ", style="dim")
            out.append(f"{value}\n")
    if help.description:
        out.append("\n" + help.description + "\n")
    if help.searches is not None:
        out.append("\n")
        out.append_text(render_help(help.searches))
    return out


class FieldHelpPanel(Static):
    """Shows a :class:`FieldHelp` and the problems on the cursor's line; updated as the
    cursor moves."""

    def show(self, help: FieldHelp | None, path: str = "",
             problems: list[Diagnostic] | None = None) -> None:
        out = render_help(help, path)
        for d in problems or []:
            out.append("\n\n")
            out.append(f"{d.code} ", style=f"bold {_STYLE[d.severity]}")
            out.append(d.message)
            if d.hint:
                out.append(f"\n{d.hint}", style="italic green")
        self.update(out)
