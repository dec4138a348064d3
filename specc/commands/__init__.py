"""Subcommands beyond validate/plan/run/tui/schema/codes, one module each.

Every module here exposes ``register(sub)``, which adds its parser and sets
``handler=<function(args) -> int>`` as the parser default. Modules import only argparse
at the top: their work's imports (Optuna, plotting, ruamel) happen inside the handler,
so building the parser stays cheap for `specc validate`.
"""

from __future__ import annotations

#: Module names under ``specc.commands``, in the order ``specc --help`` lists them.
MODULES: tuple[str, ...] = ("report", "set", "explain", "diff", "init", "merge", "export", "agent",
                             "completion")
