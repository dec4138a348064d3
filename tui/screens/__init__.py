"""Screens of the specc TUI."""

from specc.tui.screens.editor import EditorScreen
from specc.tui.screens.help import HelpScreen
from specc.tui.screens.log import LogScreen
from specc.tui.screens.plan import PlanScreen
from specc.tui.screens.study import StudyScreen

__all__ = ["EditorScreen", "HelpScreen", "LogScreen", "PlanScreen", "StudyScreen"]
