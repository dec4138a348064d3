"""`specc tui` in a real terminal (tmux): shows the spec, shows a diagnostic with its
suggestion, runs a tiny study with ctrl+r, and `ctrl+q` exits with status 0."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

from test_run_study import env, specc_cache, write_spec

from conftest import EXAMPLES

__all__ = ["specc_cache"]  # the session's tiny-model cache (an autouse fixture)

SPECC = str(Path(sys.executable).with_name("specc"))


def _tmux(*args: str) -> str:
    return subprocess.run(["tmux", *args], capture_output=True, text=True, check=True).stdout


def _wait_for(session: str, *needles: str, timeout: float = 60.0) -> str:
    """The screen once every one of ``needles`` is on it at the same time: the state the
    test asserts (validation finished), not the first frame that shows the spec."""
    end = time.monotonic() + timeout
    screen = ""
    while time.monotonic() < end:
        screen = _tmux("capture-pane", "-p", "-t", session)
        if all(n in screen for n in needles):
            return screen
        time.sleep(0.3)
    raise AssertionError(f"{needles!r} never appeared together; last screen:\n{screen}")


def _run(tmp_path: Path, spec: Path, name: str, *ready: str) -> tuple[str, int]:
    assert shutil.which("tmux"), "tmux is part of this project's machines"
    status = tmp_path / f"{name}.status"
    cmd = f"{SPECC} tui {spec}; echo $? > {status}"
    _tmux("new-session", "-d", "-s", name, "-x", "100", "-y", "30", cmd)
    try:
        shown = _wait_for(name, "name: quickstart", *ready)
        _tmux("send-keys", "-t", name, "C-q")
        end = time.monotonic() + 20
        while not status.exists() and time.monotonic() < end:
            time.sleep(0.2)
        return shown, int(status.read_text().strip())
    finally:
        subprocess.run(["tmux", "kill-session", "-t", name], capture_output=True, check=False)


def test_tui_in_tmux(tmp_path: Path) -> None:
    good = tmp_path / "quickstart.yaml"
    good.write_text((EXAMPLES / "quickstart.yaml").read_text())
    shown, rc = _run(tmp_path, good, "specc-good", "specc: 1", "no problems")
    assert "specc: 1" in shown and "no problems" in shown and rc == 0

    bad = tmp_path / "typo.yaml"
    bad.write_text(good.read_text().replace("max_num_steps:", "max_num_stepz:"))
    problems, rc = _run(tmp_path, bad, "specc-typo", "S001", "max_num_steps")
    assert "S001" in problems and "max_num_steps" in problems
    assert rc == 0


def test_tui_runs_a_study_in_tmux(tmp_path: Path) -> None:
    """ctrl+r in a real terminal: the spec is saved, `specc run` runs as a child process,
    the study screen lists its trials when it finishes, and ctrl+q exits with status 0."""
    import os
    import shlex

    assert shutil.which("tmux"), "tmux is part of this project's machines"
    write_spec(tmp_path / "spec.yaml", steps=2, n_trials=2)
    status = tmp_path / "run.status"
    variables = " ".join(f"{k}={shlex.quote(v)}" for k, v in env().items()
                         if k.startswith(("HF_", "TRANSFORMERS_", "TOKENIZERS_", "SPECC_")))
    cmd = (f"cd {shlex.quote(str(tmp_path))} && env {variables} {SPECC} tui spec.yaml; "
           f"echo $? > {status}")
    name = f"specc-run-{os.getpid()}"
    _tmux("new-session", "-d", "-s", name, "-x", "120", "-y", "36", cmd)
    try:
        _wait_for(name, "name: tiny", "no problems")
        _tmux("send-keys", "-t", name, "C-r")
        _wait_for(name, "run: running", timeout=60)
        shown = _wait_for(name, "run: finished", "complete 2", timeout=300)
        rows = [line for line in shown.splitlines() if " complete " in line]
        assert len(rows) >= 2 and "best: trial" in shown, shown
        _tmux("send-keys", "-t", name, "C-q")
        end = time.monotonic() + 20
        while not status.exists() and time.monotonic() < end:
            time.sleep(0.2)
        assert int(status.read_text().strip()) == 0
    finally:
        subprocess.run(["tmux", "kill-session", "-t", name], capture_output=True, check=False)
    assert (tmp_path / "runs" / "tiny" / "tui-run.log").is_file()
