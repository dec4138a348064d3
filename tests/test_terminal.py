"""Colour by the conventions terminals and CI set: NO_COLOR (non-empty only),
FORCE_COLOR, TERM=dumb, and the `--color` option over all of them. The CLI cases run
`specc validate` on a real pseudo-terminal, as a user's shell would."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from specc.spec.terminal import forced, interactive, use_color

ROOT = Path(__file__).resolve().parent.parent
BAD = "specc: 1\nname: t\npolicy: {model_name: specc:tiny-llama, lorra: {}}\nsft: {}\n"


def _on_tty(env: dict[str, str], *args: str, tmp_path: Path) -> str:
    """stdout of `specc validate` writing to a pseudo-terminal."""
    spec = tmp_path / "bad.yaml"
    spec.write_text(BAD)
    master, slave = pty.openpty()
    full = {k: v for k, v in os.environ.items()
            if k not in ("NO_COLOR", "FORCE_COLOR", "TERM")} | env
    proc = subprocess.Popen([sys.executable, "-m", "specc", "validate", *args, str(spec)],
                            stdout=slave, stderr=slave, stdin=subprocess.DEVNULL, env=full,
                            cwd=ROOT)
    os.close(slave)
    chunks: list[bytes] = []
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # the child closed its end
            break
        if not chunk:
            break
        chunks.append(chunk)
    proc.wait(timeout=60)
    os.close(master)
    return b"".join(chunks).decode("utf-8", "replace")


@pytest.mark.parametrize(("env", "args", "coloured"), [
    ({"TERM": "xterm-256color"}, (), True),
    ({"TERM": "xterm-256color", "NO_COLOR": "1"}, (), False),
    ({"TERM": "xterm-256color", "NO_COLOR": ""}, (), True),     # empty: no effect
    ({"TERM": "dumb"}, (), False),
    ({"TERM": "dumb", "FORCE_COLOR": "1"}, (), True),
    ({"TERM": "xterm-256color", "NO_COLOR": "1"}, ("--color", "always"), True),
    ({"TERM": "xterm-256color", "FORCE_COLOR": "1"}, ("--color", "never"), False),
])
def test_validate_colour_on_a_terminal(env: dict[str, str], args: tuple[str, ...],
                                       coloured: bool, tmp_path: Path) -> None:
    out = _on_tty(env, *args, tmp_path=tmp_path)
    assert "S001" in out, out
    assert ("\x1b[" in out) is coloured, out


def test_force_color_colours_a_pipe(tmp_path: Path) -> None:
    spec = tmp_path / "bad.yaml"
    spec.write_text(BAD)
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"} | {"FORCE_COLOR": "1"}
    out = subprocess.run([sys.executable, "-m", "specc", "validate", str(spec)],
                         capture_output=True, text=True, env=env, cwd=ROOT, check=False).stdout
    assert "\x1b[" in out
    env["FORCE_COLOR"] = "0"
    out = subprocess.run([sys.executable, "-m", "specc", "validate", str(spec)],
                         capture_output=True, text=True, env=env, cwd=ROOT, check=False).stdout
    assert "\x1b[" not in out


def test_the_rules_as_a_table() -> None:
    assert forced({}) is None
    assert forced({"NO_COLOR": ""}) is None
    assert forced({"NO_COLOR": "x", "FORCE_COLOR": "1"}) is False
    assert forced({"FORCE_COLOR": "true"}) is True
    assert forced({"FORCE_COLOR": "false"}) is None
    with open(os.devnull, "w") as null:
        assert not interactive(null, {})
        assert not use_color(null, "auto", {})
        assert use_color(null, "always", {"NO_COLOR": "1"})
