"""`specc run FILE` as a child process of the TUI: start it, stop it cleanly, keep its log.

The TUI never imports the runtime: the study runs in its own process (the same command a
terminal runs, so the same outputs, the same resume), and the study screen follows it by
reading the storage. Stopping is what Ctrl-C in a terminal does: SIGINT to the run's
process group (its worker processes too); `specc run` marks the running trial
"interrupted" and queues it again, so the next run resumes the study.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Literal

#: The log of the runs started from the TUI, in the run's output folder.
LOG_NAME = "tui-run.log"
#: Seconds a stopping run gets before it is terminated (SIGTERM), then killed.
STOP_GRACE = 60.0

@contextlib.contextmanager
def _sigint_not_ignored() -> Iterator[None]:
    """A child inherits an ignored SIGINT (a TUI started as a background job of a
    non-interactive shell) and would miss a stop sent while it starts up; any other
    disposition becomes the default in the child. Runs start from the app's actions, on
    the main thread (the only one that may change it)."""
    try:
        ignored = signal.getsignal(signal.SIGINT) == signal.SIG_IGN
        if ignored:
            signal.signal(signal.SIGINT, signal.SIG_DFL)
    except ValueError:
        ignored = False
    try:
        yield
    finally:
        if ignored:
            signal.signal(signal.SIGINT, signal.SIG_IGN)


RunStatus = Literal["running", "stopping", "finished", "stopped", "failed"]


def run_command(file: Path, *, storage: str | None = None,
                study: str | None = None) -> list[str]:
    """The command line: this Python's `specc run FILE` (with the TUI's --storage and
    --study, so the run writes where the study screen reads)."""
    cmd = [sys.executable, "-m", "specc", "run", str(file)]
    if storage:
        cmd += ["--storage", storage]
    if study:
        cmd += ["--study-name", study]
    return cmd


@dataclass
class StudyRun:
    """One `specc run` started from the TUI."""

    command: list[str]
    log: Path
    cwd: Path | None = None
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    started: float = 0.0
    stop_asked: float | None = None
    _log_file: IO[bytes] | None = field(default=None, repr=False)

    def start(self) -> None:
        """Start the run; its stdout and stderr go to :attr:`log` (appended, after a
        header line naming the command). Raises OSError when it cannot start."""
        self.log.parent.mkdir(parents=True, exist_ok=True)
        self._log_file = open(self.log, "ab")  # noqa: SIM115  (closed when the run ends)
        stamp = datetime.now().isoformat(timespec="seconds")
        shown = " ".join(["specc", *self.command[3:]])
        self._log_file.write(f"--- {stamp} {shown}\n".encode())
        self._log_file.flush()
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "NO_COLOR": "1"}
        env.pop("FORCE_COLOR", None)
        try:
            with _sigint_not_ignored():  # from its first instruction, not once specc starts
                self.process = subprocess.Popen(
                    self.command, stdin=subprocess.DEVNULL, stdout=self._log_file,
                    stderr=subprocess.STDOUT, cwd=self.cwd, env=env,
                    start_new_session=True)  # its own group: stopped as a whole, not by the tty
        except OSError:
            self._close_log()
            raise
        self.started = time.monotonic()

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    @property
    def returncode(self) -> int | None:
        """The exit status once the run has ended (None while it runs)."""
        if self.process is None:
            return None
        code = self.process.poll()
        if code is not None:
            self._close_log()
        return code

    @property
    def running(self) -> bool:
        return self.process is not None and self.returncode is None

    @property
    def status(self) -> RunStatus:
        code = self.returncode
        if code is None:
            return "stopping" if self.stop_asked is not None else "running"
        if code == 0:
            return "finished"
        if code == 130 or (self.stop_asked is not None and code < 0):
            return "stopped"
        return "failed"

    def elapsed(self) -> float:
        return time.monotonic() - self.started if self.started else 0.0

    def stop(self) -> bool:
        """Ask the run to stop as Ctrl-C does (SIGINT to its process group); a run still
        stopping after :data:`STOP_GRACE` seconds is terminated. False when it had ended."""
        if not self.running:
            return False
        assert self.process is not None
        now = time.monotonic()
        sig = signal.SIGINT
        if self.stop_asked is not None and now - self.stop_asked > STOP_GRACE:
            sig = signal.SIGTERM
        if self.stop_asked is None:
            self.stop_asked = now
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, sig)
        return True

    def wait(self, timeout: float) -> int | None:
        """Wait up to ``timeout`` seconds for the run to end; its status, or None."""
        if self.process is None:
            return None
        try:
            code = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            return None
        self._close_log()
        return code

    def stop_and_wait(self, timeout: float = STOP_GRACE) -> int | None:
        """Stop the run and wait for it; killed (its whole group) when it will not end."""
        if not self.stop():
            return self.returncode
        code = self.wait(timeout)
        if code is None and self.process is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.process.pid, signal.SIGKILL)
            code = self.wait(10)
        return code

    def _close_log(self) -> None:
        f, self._log_file = self._log_file, None
        if f is not None:
            f.close()


def read_log(path: Path, offset: int = 0, limit: int = 1 << 20) -> tuple[str, int]:
    """The text of ``path`` from byte ``offset`` (at most ``limit`` bytes, the last ones
    when more were written) and the offset after it; empty when there is no file."""
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            end = f.tell()
            if end < offset:  # the file was replaced: from its start
                offset = 0
            start = max(offset, end - limit)
            f.seek(start)
            data = f.read(end - start)
    except OSError:
        return "", offset
    return data.decode("utf-8", "replace"), start + len(data)
