"""The trainer callback of a trial: metric history, progress, pruning reports and the seed
guide's warning signs (NaN/Inf loss, gradient norm, KL, entropy)."""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Any, Protocol

from transformers import TrainerCallback

from specc.spec.models.hpo import Health


class Reporter(Protocol):
    """What the study layer hears from a running trial."""

    def report(self, step: int, metrics: dict[str, float]) -> bool:
        """At every evaluation; return True to prune the trial."""
        ...

    def log(self, step: int, total: int | None, metrics: dict[str, float]) -> None:
        """At every logging step (progress display)."""
        ...


class TrialCallback(TrainerCallback):
    """Writes `metrics.jsonl`, reports evaluations, and stops the trial when told to or
    when a warning sign appears (the reason is kept for the trial's record)."""

    def __init__(self, reporter: Reporter, health: Health, history: Path,
                 total_steps: int | None, metric: str | None = None, *,
                 tags: dict[str, int] | None = None) -> None:
        self.reporter = reporter
        self.tags = dict(tags or {})  # added to every metrics.jsonl line (e.g. the fold)
        self.health = health
        self.history = history.open("a", encoding="utf-8")
        self.total = total_steps
        self.metric = metric
        self.stop_reason: str | None = None
        self.pruned = False
        self.last: dict[str, float] = {}
        self.last_eval: dict[str, float] = {}
        self.last_eval_step = -1
        self.peak_rss = 0
        self._started = time.monotonic()

    def close(self) -> None:
        self.history.close()

    def _record(self, kind: str, step: int, values: dict[str, Any]) -> None:
        clean = {k: float(v) for k, v in values.items() if isinstance(v, int | float)}
        self.history.write(json.dumps({"kind": kind, "step": step, **self.tags,
                                       "time": round(time.monotonic() - self._started, 3),
                                       **clean}) + "\n")
        self.history.flush()

    def _memory(self) -> None:
        try:
            import psutil

            self.peak_rss = max(self.peak_rss, psutil.Process().memory_info().rss)
        except Exception:  # pragma: no cover - psutil missing or unsupported platform
            pass

    def on_log(self, args: Any, state: Any, control: Any, logs: dict[str, Any] | None = None,
               **kwargs: Any) -> None:
        if not logs:
            return
        step = int(state.global_step)
        self._record("log", step, logs)
        numeric = {k: float(v) for k, v in logs.items() if isinstance(v, int | float)}
        self.last.update(numeric)
        self._memory()
        self.reporter.log(step, self.total, numeric)
        reason = self._warning_sign(numeric)
        if reason and self.stop_reason is None:
            self.stop_reason = f"health: {reason} at step {step}"
            control.should_training_stop = True

    def _warning_sign(self, m: dict[str, float]) -> str | None:
        h = self.health
        for key in ("loss", "eval_loss"):
            if key in m and h.stop_on_nan and not math.isfinite(m[key]):
                return f"{key} is {m[key]}"
        g = m.get("grad_norm")
        if g is not None and (not math.isfinite(g) or g > h.max_grad_norm):
            return f"grad_norm {g:.4g} > {h.max_grad_norm:g}"
        kl = m.get("kl")
        if kl is not None and kl > h.max_kl:
            return f"kl {kl:.4g} > {h.max_kl:g}"
        ent = m.get("entropy")
        if ent is not None and ent < h.min_entropy:
            return f"entropy {ent:.4g} < {h.min_entropy:g}"
        return None

    def on_evaluate(self, args: Any, state: Any, control: Any,
                    metrics: dict[str, Any] | None = None, **kwargs: Any) -> None:
        if not metrics:
            return
        step = int(state.global_step)
        numeric = {k: float(v) for k, v in metrics.items() if isinstance(v, int | float)}
        self._record("eval", step, numeric)
        self.last_eval = numeric
        self.last_eval_step = step
        self.last.update(numeric)
        reason = self._warning_sign(numeric)
        if reason and self.stop_reason is None:
            self.stop_reason = f"health: {reason} at step {step}"
            control.should_training_stop = True
            return
        if self.reporter.report(step, numeric) and self.stop_reason is None:
            self.pruned = True
            shown = ", ".join(f"{k}={v:.4g}" for k, v in numeric.items()
                              if k == self.metric) or "below the pruner's threshold"
            self.stop_reason = f"pruned at step {step} ({shown})"
            control.should_training_stop = True
