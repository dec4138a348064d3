"""The problems panel: every diagnostic of the buffer; choosing one jumps to it."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import on
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from specc.spec.diagnostics import Diagnostic, Severity

_SEVERITY = {Severity.ERROR: ("✗", "bold red"), Severity.WARNING: ("!", "bold yellow"),
             Severity.INFO: ("i", "bold blue")}


def summary(diags: list[Diagnostic]) -> str:
    n = {s: sum(d.severity is s for d in diags) for s in Severity}
    if not diags:
        return "no problems"
    parts = [f"{n[Severity.ERROR]} error{'s' * (n[Severity.ERROR] != 1)}",
             f"{n[Severity.WARNING]} warning{'s' * (n[Severity.WARNING] != 1)}"]
    if n[Severity.INFO]:
        parts.append(f"{n[Severity.INFO]} info")
    return ", ".join(parts)


def _prompt(d: Diagnostic, here: str) -> Text:
    glyph, style = _SEVERITY[d.severity]
    where = f"{d.line}:{d.column}" if d.line else "-"
    if d.file and d.file != here:
        where = f"{d.file}:{where}"
    text = Text.assemble((glyph, style), " ", (d.code, "bold"), " ", (where, "dim"), " ",
                         d.message)
    if d.hint:
        text.append(f"\n  hint: {d.hint}", style="italic green")
    return text


class DiagnosticsList(OptionList):
    """The diagnostics, in file order. Enter (or a click) on one posts :class:`Jump`."""

    @dataclass
    class Jump(Message):
        """Move the editor's cursor to a diagnostic (1-based line and column)."""

        line: int
        column: int

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._diags: list[Diagnostic] = []

    @property
    def diagnostics(self) -> list[Diagnostic]:
        return self._diags

    def show(self, diags: list[Diagnostic], file: str) -> None:
        highlighted = self.highlighted
        self._diags = diags
        self.clear_options()
        if not diags:
            self.add_option(Option(Text("✓ no problems", style="green"), disabled=True))
        else:
            self.add_options(Option(_prompt(d, file)) for d in diags)
            if highlighted is not None:
                self.highlighted = min(highlighted, len(diags) - 1)
        self.border_title = f"Problems: {summary(diags)}"

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if 0 <= event.option_index < len(self._diags):
            d = self._diags[event.option_index]
            if d.line:
                self.post_message(self.Jump(d.line, max(d.column, 1)))
