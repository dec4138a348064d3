"""The trainer callback of a trial: metric history, progress, pruning reports and the seed
guide's warning signs (:mod:`specc.spec.health`: NaN/Inf at once; gradient norm for every
algorithm, KL and entropy for policy-gradient RL, DPO's reward margin, each after
`patience` logged steps in a row). A rule that stops the trial makes it PRUNED with a
``health: ...`` reason; a warning rule is logged (the trial's log, the study's display)
once and training goes on."""

from __future__ import annotations

import json
import logging
import math
import time
from pathlib import Path
from typing import Any, Protocol

from transformers import TrainerCallback

from specc.spec.health import FINITE, RULES, HealthRule
from specc.spec.models.health import Health


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
                 tags: dict[str, int] | None = None, algorithm: str | None = None) -> None:
        self.reporter = reporter
        self.rules: list[tuple[HealthRule, float]] = [
            (r, t) for r in RULES if (t := r.threshold(health, algorithm)) is not None]
        self.streak: dict[str, int] = {}
        self.warned: set[str] = set()
        self.health_reason: str | None = None
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
        self._health(step, numeric, control, logged=True)

    def _health(self, step: int, m: dict[str, float], control: Any, *, logged: bool) -> None:
        if self.stop_reason is not None:
            return
        reason = self._warning_sign(step, m, logged)
        if reason:
            self.stop_reason = self.health_reason = f"health: {reason}"
            self.pruned = True  # the sampler learns from it (a FAIL it would ignore)
            control.should_training_stop = True

    def _warning_sign(self, step: int, m: dict[str, float], logged: bool) -> str | None:
        if self.health.stop_on_nan:
            for key in FINITE:
                if key in m and not math.isfinite(m[key]):
                    return f"{key} is {m[key]} at step {step}"
        if not logged:
            return None
        patience = self.health.patience
        for rule, threshold in self.rules:
            value = next((m[k] for k in rule.metrics if k in m), None)
            if value is None or not math.isfinite(value):
                continue
            run = self.streak.get(rule.field, 0) + 1 if rule.bad(value, threshold) else 0
            self.streak[rule.field] = run
            if run < patience:
                continue
            shown = rule.shown(value, threshold)
            window = f" for {run} logged steps" if patience > 1 else ""
            if rule.stops:
                return f"{shown}{window} (to step {step})"
            if rule.field not in self.warned:
                self.warned.add(rule.field)
                warn = getattr(self.reporter, "warn", None)
                text = f"health warning: {shown}{window} (to step {step})"
                logging.getLogger("specc.trial").warning("%s", text)
                if warn is not None:
                    warn(step, text)
        return None

    def on_save(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        """A checkpoint was written (after the evaluation of the same step): a reporter
        that hands checkpoints on (the Ray backend's) hears of it."""
        saved = getattr(self.reporter, "saved", None)
        if saved is not None:
            step = int(state.global_step)
            saved(step, Path(args.output_dir) / f"checkpoint-{step}")

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
        self._health(step, numeric, control, logged=False)
        if self.stop_reason is not None:
            return
        from specc.spec.objective import is_name

        # an expression may combine evaluation and training metrics: the latest of each
        seen = numeric if self.metric is None or is_name(self.metric) else dict(self.last)
        if self.reporter.report(step, seen):
            self.pruned = True
            shown = ", ".join(f"{k}={v:.4g}" for k, v in numeric.items()
                              if k == self.metric) or "below the pruner's threshold"
            self.stop_reason = f"pruned at step {step} ({shown})"
            control.should_training_stop = True
