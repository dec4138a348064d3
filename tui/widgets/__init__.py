"""Widgets of the specc TUI."""

from specc.tui.widgets.chart import ValuesChart
from specc.tui.widgets.diagnostics import DiagnosticsList
from specc.tui.widgets.field_help import FieldHelpPanel
from specc.tui.widgets.spec_editor import SpecEditor

__all__ = ["DiagnosticsList", "FieldHelpPanel", "SpecEditor", "ValuesChart"]
