"""Live progress of a study, and the event fan-out to displays and user callbacks.

Trials produce events (start, progress at every logging step, evaluation, end). In one
process they go straight to a :class:`Hub`; worker processes send them through a queue to
the parent's hub. The hub keeps the best value so far and forwards each event to

* a display: on a terminal a small live table (rich) of the running trials -- step/total,
  latest metric, best so far -- with a line per finished trial above it; otherwise plain
  lines, one per evaluation and one per finished trial (logs stay readable);
* the user's callbacks (``specc.run(callbacks=[...])``): objects with any of
  ``on_study_start(info)``, ``on_trial_start(number, params)``,
  ``on_trial_end(number, state, values, reason)``, ``on_study_end(summary)``;
* the study's own hook (results.json after every trial).
"""

from __future__ import annotations

import math
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from typing import Any, TextIO


def fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}" if math.isfinite(v) else str(v)
    return str(v)


#: Last parts of a dotted path too generic to stand alone.
_GENERIC = {"name", "type", "enabled", "weight", "value", "kwargs", "r"}


def short(path: str) -> str:
    """`policy.optimizer.kwargs.lr` -> `lr`; `policy.lora.r` -> `lora.r`;
    `reward.functions.0.name` -> `functions.0.name`."""
    parts = path.split(".")
    n = 1
    while n < len(parts) and (parts[-n] in _GENERIC or parts[-n].isdigit()):
        n += 1
    return ".".join(parts[-n:])


def fmt_params(params: dict[str, Any]) -> str:
    return ", ".join(f"{short(k)}={fmt(v)}" for k, v in params.items()) or "(no parameters)"


class Display:
    """No output (``--quiet``)."""

    def study_start(self, info: dict[str, Any]) -> None: ...
    def trial_start(self, number: int, params: dict[str, Any]) -> None: ...
    def progress(self, number: int, step: int, total: int | None,
                 metrics: dict[str, float]) -> None: ...
    def evaluation(self, number: int, step: int, total: int | None, *, metric: str,
                   value: float | None, best: float | None) -> None: ...
    def trial_end(self, number: int, state: str, values: list[float] | None,
                  reason: str | None, *, best: str | None, duration: float | None) -> None: ...
    def message(self, text: str) -> None: ...
    def close(self) -> None: ...


class PlainDisplay(Display):
    """One line per event that matters; for logs and pipes."""

    def __init__(self, out: TextIO | None = None) -> None:
        self.out = out or sys.stdout
        self.metric = "objective"
        self.objectives: list[str] = []

    def _p(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    def study_start(self, info: dict[str, Any]) -> None:
        self.objectives = list(info.get("objectives") or ["objective"])
        self.metric = self.objectives[0]
        what = "one training run" if info.get("single_run") else \
            f"{info['n_trials']} trials, {info['finished']} finished before"
        self._p(f"study {info['study']}: {what}; storage {info['storage']}; "
                f"output {info['output']}"
                + (f"; {info['workers']} workers" if info.get("workers", 1) > 1 else ""))

    def trial_start(self, number: int, params: dict[str, Any]) -> None:
        self._p(f"trial {number} started: {fmt_params(params)}")

    def evaluation(self, number: int, step: int, total: int | None, *, metric: str,
                   value: float | None, best: float | None) -> None:
        where = f"{step}/{total}" if total else str(step)
        self._p(f"trial {number} step {where}: {metric}={fmt(value)}"
                + (f" (best {fmt(best)})" if best is not None else ""))

    def trial_end(self, number: int, state: str, values: list[float] | None,
                  reason: str | None, *, best: str | None, duration: float | None) -> None:
        took = f" in {duration:.1f}s" if duration is not None else ""
        if state == "COMPLETE":
            names = self.objectives or [self.metric]
            shown = ", ".join(f"{m}={fmt(v)}" for m, v in zip(names, values or [],
                                                              strict=False))
            self._p(f"trial {number} COMPLETE{took}: {shown}"
                    + (f"; best {best}" if best else ""))
        else:
            self._p(f"trial {number} {state}{took}: {reason or ''}".rstrip(": "))

    def message(self, text: str) -> None:
        self._p(text)


class LiveDisplay(PlainDisplay):
    """A live table of the running trials (rich), finished trials printed above it."""

    def __init__(self, out: TextIO | None = None) -> None:
        super().__init__(out)
        from rich.console import Console
        from rich.live import Live

        self.console = Console(file=self.out)
        self.rows: dict[int, dict[str, Any]] = {}
        self.best: float | None = None
        self.live = Live(self._table(), console=self.console, refresh_per_second=4,
                         transient=True)
        self.live.start()

    def _table(self) -> Any:
        from rich.table import Table

        table = Table(box=None, pad_edge=False, show_edge=False)
        for col in ("trial", "step", "loss", self.metric, "best", "time"):
            table.add_column(col, justify="right" if col != "trial" else "left")
        for number, row in sorted(self.rows.items()):
            step = f"{row['step']}/{row['total']}" if row.get("total") else str(row["step"])
            table.add_row(str(number), step, fmt(row.get("loss", "")),
                          fmt(row.get("value", "")), fmt(self.best) if self.best is not None
                          else "", f"{time.monotonic() - row['t0']:.0f}s")
        return table

    def _refresh(self) -> None:
        self.live.update(self._table())

    def _p(self, text: str) -> None:
        self.console.print(text, markup=False, highlight=False)

    def trial_start(self, number: int, params: dict[str, Any]) -> None:
        self.rows[number] = {"step": 0, "total": None, "t0": time.monotonic()}
        super().trial_start(number, params)
        self._refresh()

    def progress(self, number: int, step: int, total: int | None,
                 metrics: dict[str, float]) -> None:
        row = self.rows.setdefault(number, {"step": 0, "total": None,
                                            "t0": time.monotonic()})
        row["step"], row["total"] = step, total
        if "loss" in metrics:
            row["loss"] = metrics["loss"]
        self._refresh()

    def evaluation(self, number: int, step: int, total: int | None, *, metric: str,
                   value: float | None, best: float | None) -> None:
        row = self.rows.setdefault(number, {"step": step, "total": total,
                                            "t0": time.monotonic()})
        row["value"] = value
        self.best = best
        self._refresh()

    def trial_end(self, number: int, state: str, values: list[float] | None,
                  reason: str | None, *, best: str | None, duration: float | None) -> None:
        self.rows.pop(number, None)
        super().trial_end(number, state, values, reason, best=best, duration=duration)
        self._refresh()

    def close(self) -> None:
        self.live.stop()


def make_display(quiet: bool, out: TextIO | None = None) -> Display:
    out = out or sys.stdout
    if quiet:
        return Display()
    from specc.spec.terminal import interactive

    if interactive(out):
        try:
            return LiveDisplay(out)
        except Exception:  # rich missing or a terminal it cannot drive
            pass
    return PlainDisplay(out)


class Hub:
    """Receives the events of every trial (of every worker) and fans them out."""

    def __init__(self, display: Display, callbacks: Sequence[Any] = (),
                 directions: Sequence[str] = ("minimize",),
                 on_trial_end: Callable[[], object] | None = None) -> None:
        self.display = display
        self.callbacks = list(callbacks)
        self.directions = list(directions)
        self.metric = "objective"
        self.best: float | None = None
        self.best_number: int | None = None
        self.totals: dict[int, int | None] = {}
        self.started: dict[int, float] = {}
        self._on_trial_end = on_trial_end

    def _call(self, name: str, *args: Any) -> None:
        for cb in self.callbacks:
            fn = getattr(cb, name, None)
            if fn is None:
                continue
            try:
                fn(*args)
            except Exception:
                print(f"specc: callback {type(cb).__name__}.{name} raised:\n"
                      + traceback.format_exc(), file=sys.stderr)

    def _better(self, value: float) -> bool:
        if not math.isfinite(value):
            return False
        if self.best is None:
            return True
        return value < self.best if self.directions[0] == "minimize" else value > self.best

    # --- events ------------------------------------------------------------------------------
    def study_start(self, info: dict[str, Any]) -> None:
        self.metric = (info.get("objectives") or ["objective"])[0]
        best = info.get("best_value")
        if isinstance(best, float):
            self.best, self.best_number = best, info.get("best_number")
        self.display.study_start(info)
        self._call("on_study_start", info)

    def trial_start(self, number: int, params: dict[str, Any]) -> None:
        self.started[number] = time.monotonic()
        self.display.trial_start(number, params)
        self._call("on_trial_start", number, params)

    def progress(self, number: int, step: int, total: int | None,
                 metrics: dict[str, float]) -> None:
        self.totals[number] = total
        self.display.progress(number, step, total, metrics)

    def evaluation(self, number: int, step: int, value: float | None) -> None:
        best = self.best
        if len(self.directions) == 1 and value is not None and self._better(value):
            best = value
        self.display.evaluation(number, step, self.totals.get(number), metric=self.metric,
                                value=value, best=best)

    def trial_end(self, number: int, state: str, values: list[float] | None,
                  reason: str | None) -> None:
        t0 = self.started.pop(number, None)
        duration = time.monotonic() - t0 if t0 is not None else None
        if state == "COMPLETE" and values and len(self.directions) == 1 \
                and self._better(values[0]):
            self.best, self.best_number = values[0], number
        best = (f"{fmt(self.best)} (trial {self.best_number})"
                if self.best is not None and len(self.directions) == 1 else None)
        self.display.trial_end(number, state, values, reason, best=best, duration=duration)
        if self._on_trial_end is not None:
            self._on_trial_end()
        self._call("on_trial_end", number, state, values, reason)

    def message(self, text: str) -> None:
        self.display.message(text)

    def study_end(self, summary: Any) -> None:
        self.display.close()
        self._call("on_study_end", summary)

    def dispatch(self, event: tuple[Any, ...]) -> None:
        """An event from a worker process: ``(method name, *args)``."""
        name, *args = event
        getattr(self, name)(*args)


class QueueEvents:
    """A worker process's side of the hub: events go to the parent through a queue."""

    def __init__(self, queue: Any) -> None:
        self.queue = queue

    def __getattr__(self, name: str) -> Callable[..., None]:
        if name.startswith("_"):
            raise AttributeError(name)

        def send(*args: Any) -> None:
            self.queue.put((name, *args))

        return send
