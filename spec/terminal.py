"""Whether output to a stream may use colour and cursor control, by the conventions
users' terminals and CI set (no-color.org, force-color.org, clig.dev):

* an explicit ``--color always|never`` wins;
* ``NO_COLOR`` set to a non-empty value turns colour off (an empty value does nothing);
* ``FORCE_COLOR`` set to a non-empty value other than ``0``/``false`` turns it on, even
  when the output is not a terminal (CI logs that render ANSI);
* ``TERM=dumb`` turns it off, as does output that is not a terminal.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Literal, TextIO

ColorChoice = Literal["auto", "always", "never"]


def _set(env: Mapping[str, str], name: str) -> bool:
    return bool(env.get(name, ""))


def forced(env: Mapping[str, str] | None = None) -> bool | None:
    """True/False when the environment decides colour, None when it leaves it to the
    terminal."""
    env = os.environ if env is None else env
    if _set(env, "NO_COLOR"):
        return False
    if _set(env, "FORCE_COLOR") and env["FORCE_COLOR"].strip().lower() not in ("0", "false"):
        return True
    return None


def interactive(stream: TextIO, env: Mapping[str, str] | None = None) -> bool:
    """A terminal that can redraw (live progress): a tty whose TERM is not `dumb`."""
    env = os.environ if env is None else env
    try:
        tty = stream.isatty()
    except (AttributeError, ValueError):  # closed or not a real stream
        return False
    return tty and env.get("TERM", "") != "dumb"


def use_color(stream: TextIO, choice: ColorChoice = "auto",
              env: Mapping[str, str] | None = None) -> bool:
    """Whether to colour what is written to ``stream``."""
    if choice != "auto":
        return choice == "always"
    decided = forced(env)
    if decided is not None:
        return decided
    return interactive(stream, env)
