"""specc.tui: the terminal app (`specc tui`). Imports Textual; never torch, TRL or the
runtime."""

from specc.tui.app import SpeccApp, create_app

__all__ = ["SpeccApp", "create_app"]
