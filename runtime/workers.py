"""Several local worker processes (multiprocessing "spawn") running the loop against the
shared storage; their events come back through a queue to the parent's hub."""

from __future__ import annotations

import contextlib
import multiprocessing
import queue as queue_mod
import sys
import time
import traceback
from collections.abc import Iterator
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
from specc.runtime.storage import display, quiet_optuna
from specc.runtime.storage_safety import StorageProblem, as_problem, is_storage_error

if TYPE_CHECKING:
    from specc.spec.diagnostics import Diagnostic
    from specc.spec.models import Spec

#: What a worker that failed sends back: a storage problem's diagnostics, a run error's
#: message, or (a bug) the traceback, which the parent keeps in a log file, not on screen.
Failure = tuple[str, Any]


# --- GPU placement -------------------------------------------------------------------------

def default_workers(spec: Spec) -> int:
    """`--workers` when not given: `hpo.parallel` when set above 1, else the trials that fit
    on the declared GPUs at once (GPUs / `hardware.gpus_per_trial`); 1 without `hpo`."""
    from specc.spec.parallel import concurrent_trials

    hpo = spec.hpo
    if hpo is None:
        return 1
    return hpo.parallel if hpo.parallel > 1 else concurrent_trials(spec)


def gpu_sets(visible: list[str], per_trial: int, workers: int) -> list[str | None]:
    """Each worker's `CUDA_VISIBLE_DEVICES`: disjoint sets of ``per_trial`` GPUs from the
    ``visible`` ones, in order; None (inherit) when there are no GPUs to split or fewer
    than one set per worker (the workers then share them)."""
    per = max(per_trial, 1)
    if not visible or len(visible) < per * workers:
        return [None] * workers
    return [",".join(visible[i * per:(i + 1) * per]) for i in range(workers)]


def visible_gpus() -> list[str]:
    """The GPUs this process may use: `CUDA_VISIBLE_DEVICES`, else every CUDA device."""
    import os

    env = os.environ.get("CUDA_VISIBLE_DEVICES")
    if env is not None:
        return [d for d in env.split(",") if d.strip()]
    try:
        import torch

        return [str(i) for i in range(torch.cuda.device_count())]
    except Exception:  # no torch / no driver: nothing to place
        return []


def placement(spec: Spec, workers: int, visible: list[str] | None = None) -> list[str | None]:
    """The `CUDA_VISIBLE_DEVICES` of each of ``workers`` workers for ``spec``: disjoint
    sets of its GPUs per trial, on a CUDA description (``visible``: this machine's GPUs)."""
    from specc.spec.catalog.gpus import lookup_gpu
    from specc.spec.parallel import parallel

    gpu = lookup_gpu(spec.hardware.gpu)
    if gpu is not None and gpu.kind != "cuda":
        return [None] * workers
    return gpu_sets(visible_gpus() if visible is None else visible, parallel(spec).gpus,
                    workers)


@contextlib.contextmanager
def _devices(value: str | None) -> Iterator[None]:
    """`CUDA_VISIBLE_DEVICES` while a spawned worker starts (it copies the environment)."""
    import os

    if value is None:
        yield
        return
    old = os.environ.get("CUDA_VISIBLE_DEVICES")
    os.environ["CUDA_VISIBLE_DEVICES"] = value
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("CUDA_VISIBLE_DEVICES", None)
        else:
            os.environ["CUDA_VISIBLE_DEVICES"] = old


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
    for p, devices in zip(procs, placement(spec, len(procs)), strict=True):
        with _devices(devices):
            p.start()
    reasons: dict[int, str | None] = {}
    errors: list[tuple[int, Failure]] = []
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
        _raise_failure(errors, cfg)
    last = [r for r in reasons.values() if r]  # in the order the workers ended
    return last[-1] if last else None


def _handle(event: tuple[Any, ...], hub: Hub, reasons: dict[int, str | None],
            errors: list[tuple[int, Failure]]) -> None:
    if event[0] == "worker_done":
        _, index, reason, error = event
        reasons[index] = reason
        if error:
            errors.append((index, error))
        return
    hub.dispatch(event)


def _raise_failure(errors: list[tuple[int, Failure]], cfg: Config) -> None:
    """Raise what the workers' failures mean, as the single-process run would: a storage
    problem (its diagnostics, once), a run error, or -- for a bug -- a RunError naming the
    log file that holds each worker's traceback."""
    from pathlib import Path

    from specc.errors import RunError

    storage: list[Diagnostic] = []
    for _, (kind, payload) in errors:
        if kind == "storage":
            storage.extend(d for d in payload if d not in storage)
    if storage:
        raise StorageProblem(storage)
    for _, (kind, payload) in errors:
        if kind == "run":
            raise RunError(str(payload))
    log = Path(cfg.output) / "worker-errors.log"
    with contextlib.suppress(OSError):
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_text("".join(f"--- worker {i} ---\n{tb}\n" for i, (_, tb) in errors),
                       encoding="utf-8")
    index, (_, tb) = errors[0]
    last = next((line for line in reversed(str(tb).splitlines()) if line.strip()), "")
    raise RunError(f"worker process {index} failed: {last} (tracebacks: {log})")


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
    except BaseException as e:
        from specc.errors import RunError

        failure: Failure
        if is_storage_error(e):
            failure = ("storage", as_problem(e, display(cfg.storage)).diagnostics)  # no password
        elif isinstance(e, RunError):
            failure = ("run", str(e))
        else:
            failure = ("bug", traceback.format_exc())
        q.put(("worker_done", cfg.index, None, failure))
        q.close()
        q.join_thread()
        sys.exit(1)
    q.close()
    q.join_thread()
