"""Several local worker processes (multiprocessing "spawn") running the loop against the
shared storage; their events come back through a queue to the parent's hub."""

from __future__ import annotations

import contextlib
import multiprocessing
import queue as queue_mod
import sys
import time
import traceback
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from specc.runtime.loop import TrialLoop
from specc.runtime.progress import Hub, QueueEvents
from specc.runtime.setup import (
    Config,
    Setup,
    compile_spec,
    make_setup,
    open_study,
    sigterm_as_interrupt,
)
from specc.runtime.storage import (
    quiet_optuna,
)

if TYPE_CHECKING:

    pass



# --- several local worker processes --------------------------------------------------------------

def _run_workers(setup: Setup, cfg: Config, hub: Hub) -> str | None:
    """``cfg.workers`` processes (spawned) run the loop against the shared storage; their
    events come back through a queue to ``hub``."""
    spec = setup.compiled.spec
    if spec.policy.model_name.startswith("specc:"):  # materialise once, not racing
        from specc.runtime.tiny_model import materialize

        materialize(spec.policy.model_name)
    ctx = multiprocessing.get_context("spawn")
    q: Any = ctx.Queue()
    procs = [ctx.Process(target=_worker_main, args=(replace(cfg, index=i), q),
                         name=f"specc-worker-{i}") for i in range(cfg.workers)]
    for p in procs:
        p.start()
    reasons: dict[int, str | None] = {}
    errors: list[str] = []
    interrupted = False
    grace_until: float | None = None
    while True:
        try:
            try:
                event = q.get(timeout=0.2)
            except queue_mod.Empty:
                if all(not p.is_alive() for p in procs):
                    # drain what is left, then stop
                    with contextlib.suppress(queue_mod.Empty):
                        while True:
                            _handle(q.get(timeout=0.2), hub, reasons, errors)
                    break
                if grace_until is not None and time.time() > grace_until:
                    for p in procs:
                        if p.is_alive():
                            p.terminate()
                continue
            _handle(event, hub, reasons, errors)
        except KeyboardInterrupt:
            # the workers got the same Ctrl-C: let them mark their trials, then collect
            interrupted = True
            grace_until = time.time() + 60
    for p in procs:
        p.join(timeout=5)
    if interrupted or any(p.exitcode == 130 for p in procs):
        raise KeyboardInterrupt
    if errors:
        raise RuntimeError("a worker process failed:\n" + "\n".join(errors))
    last = [r for r in reasons.values() if r]  # in the order the workers ended
    return last[-1] if last else None


def _handle(event: tuple[Any, ...], hub: Hub, reasons: dict[int, str | None],
            errors: list[str]) -> None:
    if event[0] == "worker_done":
        _, index, reason, error = event
        reasons[index] = reason
        if error:
            errors.append(error)
        return
    hub.dispatch(event)


def _worker_main(cfg: Config, q: Any) -> None:
    """A worker process: the same loop, events to the parent."""
    events = QueueEvents(q)
    try:
        with sigterm_as_interrupt():
            setup = make_setup(compile_spec(cfg.file, cfg.overrides))
            with quiet_optuna():
                study = open_study(setup, cfg)
            reason = TrialLoop(setup, cfg, study, events).run()
        q.put(("worker_done", cfg.index, reason, None))
    except KeyboardInterrupt:
        q.put(("worker_done", cfg.index, "interrupted", None))
        q.close()
        q.join_thread()
        sys.exit(130)
    except BaseException:
        q.put(("worker_done", cfg.index, None, traceback.format_exc()))
        q.close()
        q.join_thread()
        sys.exit(1)
    q.close()
    q.join_thread()
