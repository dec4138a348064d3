"""How a specc process starts and ends: the working directory off ``sys.path``, a handled
Ctrl-C ending as exit status 130, and an exit that skips the interpreter's teardown."""

from __future__ import annotations

import contextlib
import os
import sys


def drop_cwd_from_path() -> None:
    """specc never imports code from where it is run (``python -m`` puts it on the path)."""
    cwd = os.path.realpath(os.getcwd())
    sys.path[:] = [p for p in sys.path if p not in ("", ".") and os.path.realpath(p) != cwd]


def exit_now(code: int) -> None:
    """End the process without the interpreter's teardown, once standard output and error
    are flushed (a reader that went away, as in ``specc validate ... | head``, is not an
    error).

    For `specc validate`, which writes nothing but its report, holds no file, lock or
    child process and registers no exit handler, all that teardown would do is free some
    290 modules one object at a time: 6% of a cold run's instructions (callgrind). The
    TUI uses it to end at once on ctrl+q while a worker thread is still busy."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(code)


def observed() -> bool:
    """Whether a profiler, tracer or coverage tool watches this process: each writes its
    results when the interpreter exits, so it gets the normal exit."""
    return sys.getprofile() is not None or sys.gettrace() is not None


def forget_interrupt() -> None:
    """Let a handled Ctrl-C end the process with its exit status, 130.

    CPython notes a KeyboardInterrupt that passes through a C-level `PyRun_*` evaluation
    (pybind11's `py::exec`, which torch uses), and under `python -m` it then ends the
    process by SIGINT even though the exception was caught and handled. Every `PyRun_*`
    call resets that note first, so running an empty statement the same way clears it."""
    import ctypes

    with contextlib.suppress(Exception):
        ctypes.pythonapi.PyRun_SimpleString(b"pass\n")
