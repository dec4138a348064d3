"""One trial: build the TRL trainer the plan lowered, train, evaluate, report.

A :class:`Worker` lives as long as its process and reuses what does not change between
trials: the base weights (copied from memory, not re-read from disk), tokenizers, loaded
datasets and the trainers' tokenized datasets. `run_trial` never raises for a problem of
the trial itself: exceptions, out-of-memory, NaN and the seed guide's warning signs become
a FAIL with its reason. Only KeyboardInterrupt propagates.
"""

from __future__ import annotations

import contextlib
import copy
import importlib
import logging
import math
import os
import time
import traceback
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from specc.compiler.trial import TrialDescription, World
from specc.errors import SpeccError
from specc.runtime import checkpoints
from specc.runtime.callbacks import Reporter, TrialCallback
from specc.runtime.data import DataError, load_split
from specc.runtime.rewards import RewardError, resolve
from specc.runtime.stages import Stage, StageError, load_policy, save_trained
from specc.runtime.tracking import TrackingCallback, TrialInfo, spec_yaml, trial_env
from specc.runtime.trainer_class import cached_trainer, import_qualname, set_threads
from specc.spec.builtins import BUILTIN_PREFIX
from specc.spec.catalog.optim import lookup_optimizer
from specc.spec.facts import GENERATES
from specc.spec.objective import value_of

__all__ = ["Reporter", "TrialInfo", "TrialResult", "Worker"]

State = Literal["COMPLETE", "PRUNED", "FAIL"]
_DTYPES = {"bfloat16": "bfloat16", "float16": "float16", "float32": "float32"}
#: Trainer settings the runtime adds to every trial's config: the study shows progress
#: (no tqdm bars), reads every logged step, and tracking is the `logger` block's.
DISPLAY_CONFIG: dict[str, Any] = {"disable_tqdm": True, "logging_steps": 1}


def record_call(desc: TrialDescription, path: Path) -> None:
    """``trials/<n>/trainer.json``: the trainer call the trial makes, from its
    description (plus the display settings the runtime adds)."""
    import json

    call = desc.trainer_call()
    if call is None:
        return
    call["runtime_config"] = dict(DISPLAY_CONFIG)
    if "report_to" not in call["config"]:
        call["runtime_config"]["report_to"] = ["none"]
    path.write_text(json.dumps(call, indent=2, sort_keys=False, default=str) + "\n",
                    encoding="utf-8")


@dataclass
class TrialResult:
    """How a trial ended."""

    state: State
    values: list[float] | None
    reason: str | None
    steps: int
    metrics: dict[str, float] = field(default_factory=dict)


class UnsupportedAlgorithm(SpeccError):
    """The trial's algorithm has no trainer specc can run."""


@dataclass(frozen=True)
class Fold:
    """Fold ``index`` of k-fold cross-validation (`hpo.evaluation.cross_validation`): the
    training split's rows in contiguous k parts, this one held out for evaluation."""

    index: int
    k: int

    def rows(self, n: int) -> tuple[list[int], list[int]]:
        """(training rows, held-out rows) of a split of ``n`` rows."""
        lo, hi = self.index * n // self.k, (self.index + 1) * n // self.k
        return [*range(lo), *range(hi, n)], list(range(lo, hi))


class _FoldReporter:
    """A fold's reports, placed after the earlier folds' steps: the study sees one
    training curve per trial (fold 1's steps, then fold 2's, ...), so a pruner compares
    every trial at the same point of the same fold."""

    def __init__(self, reporter: Reporter, offset: int, total: int | None) -> None:
        self.reporter, self.offset, self.total = reporter, offset, total

    def report(self, step: int, metrics: dict[str, float]) -> bool:
        return self.reporter.report(self.offset + step, metrics)

    def log(self, step: int, total: int | None, metrics: dict[str, float]) -> None:
        self.reporter.log(self.offset + step, self.total, metrics)


def detect_world() -> World:
    """The devices of this machine, for compiling the trials this process runs."""
    import torch

    cuda = torch.cuda.is_available()
    mps = not cuda and torch.backends.mps.is_available()
    return World(devices=max(torch.cuda.device_count(), 1) if cuda else 1, cuda=cuda, mps=mps)


class Worker:
    """Runs trials in this process, caching base weights and datasets between them."""

    def __init__(self) -> None:
        os.environ.setdefault("TQDM_DISABLE", "1")  # progress is the study's to show
        with contextlib.suppress(Exception):
            import datasets

            datasets.disable_progress_bars()
        self._models: dict[tuple[str, str], Any] = {}
        self._tokenizers: dict[str, Any] = {}
        self._datasets: dict[tuple[Any, ...], Any] = {}
        self._prepared: dict[tuple[Any, ...], Any] = {}
        self._classes: dict[str, type] = {}
        self.stage: Stage | None = None  # how the running trial's policy was loaded
        self.stats = {"model_loads": 0, "model_copies": 0, "prepared_hits": 0,
                      "prepared_misses": 0}

    # --- caches ------------------------------------------------------------------------
    def model_path(self, name: str, spec_dir: str) -> str:
        if name.startswith(BUILTIN_PREFIX):
            from specc.runtime.tiny_model import materialize

            return str(materialize(name))
        local = name if os.path.isabs(name) else os.path.join(spec_dir, name)
        return os.path.abspath(local) if os.path.exists(local) else name

    def tokenizer(self, path: str) -> Any:
        if path not in self._tokenizers:
            from transformers import AutoTokenizer

            tok = AutoTokenizer.from_pretrained(path)
            if tok.pad_token is None:
                tok.pad_token = tok.eos_token
            self._tokenizers[path] = tok
        return self._tokenizers[path]

    def model(self, path: str, precision: str) -> Any:
        """A fresh copy of the base model: loaded from disk once, copied in memory after."""
        key = (path, precision)
        if key not in self._models:
            import torch
            from transformers import AutoModelForCausalLM

            self._models[key] = AutoModelForCausalLM.from_pretrained(
                path, dtype=getattr(torch, _DTYPES[precision]))
            self.stats["model_loads"] += 1
        self.stats["model_copies"] += 1
        return copy.deepcopy(self._models[key])

    def dataset(self, desc: TrialDescription, split: str, spec_dir: str) -> Any:
        part = desc.split(split)
        src = part.source if part is not None else None
        algo = str(desc.model.selected()) if desc.model is not None else ""
        key = (algo, split, src.model_dump_json() if src else None, spec_dir)
        if key not in self._datasets:
            self._datasets[key] = load_split(src, algo, split, spec_dir)
        return self._datasets[key]

    def trainer_class(self, qualname: str) -> type:
        """The TRL trainer with specc's dataset cache and scheduler hook mixed in."""
        if qualname not in self._classes:
            module, _, name = qualname.rpartition(".")
            base = getattr(importlib.import_module(module), name)
            self._classes[qualname] = cached_trainer(base, self)
        return self._classes[qualname]

    # --- the trial -----------------------------------------------------------------------
    def run_trial(self, desc: TrialDescription, reporter: Reporter, *, save: bool = False,
                  info: TrialInfo | None = None, resume: str | None = None) -> TrialResult:
        """Train the trial ``desc`` describes. ``info`` (the trial's number, study,
        parameters and resolved spec) names and places its tracked run and is logged as
        the run's config (`logger` block).

        With `hpo.evaluation.cross_validation`, the trial trains k times, each from the
        base weights with one fold of the training split held out for evaluation; its
        objective values are the means over the folds.

        ``resume``: a checkpoint of an earlier attempt of this trial to continue from (a
        distributed job starts again from step 1)."""
        from specc.runtime import launch

        if launch.is_job(desc):  # its own distributed job (torchrun), reporting back here
            return TrialResult(**launch.run_job(desc, reporter, save=save, info=info))
        trial_dir = Path(desc.directory)
        trial_dir.mkdir(parents=True, exist_ok=True)
        record_call(desc, trial_dir / "trainer.json")
        k = desc.folds
        if k is None:
            return self._run_one(desc, trial_dir, reporter, save=save, info=info,
                                 resume=resume)
        total = desc.derived.total_steps if desc.derived else None
        results: list[TrialResult] = []
        steps = 0
        for i in range(k):
            per_fold = _FoldReporter(reporter, steps, total * k if total else None)
            r = self._run_one(desc, trial_dir, per_fold, info=info, fold=Fold(i, k))
            steps += r.steps
            if r.state != "COMPLETE" or r.values is None:
                return TrialResult(r.state, None, f"fold {i + 1}/{k}: {r.reason}", steps,
                                   r.metrics)
            results.append(r)
        return _mean_of_folds(results, steps)

    def _run_one(self, desc: TrialDescription, trial_dir: Path, reporter: Reporter, *,
                 save: bool = False, info: TrialInfo | None = None,
                 fold: Fold | None = None, resume: str | None = None) -> TrialResult:
        log_path = trial_dir / "log.txt"
        with _trial_log(log_path) as log, contextlib.ExitStack() as scope:
            started = time.monotonic()
            callback: TrialCallback | None = None
            tracker: TrackingCallback | None = None
            try:
                trainer, callback, tracker = self._build(desc, trial_dir, reporter, log,
                                                         scope=scope, info=info, fold=fold)
                log.info("training %s for %s steps%s", type(trainer).__mro__[1].__name__,
                         trainer.args.max_steps,
                         f", fold {fold.index + 1} of {fold.k}" if fold else "")
                if resume:
                    log.info("resuming from %s", resume)
                    trainer.add_callback(checkpoints.SpecOptimizerValues(
                        trainer.args.learning_rate, trainer.args.weight_decay))
                output = trainer.train(resume_from_checkpoint=resume)
                steps = int(trainer.state.global_step)
                if callback.stop_reason is None and callback.last_eval_step != steps \
                        and trainer.eval_dataset is not None:
                    trainer.evaluate()
                metrics = {**callback.last, **{k: float(v) for k, v in output.metrics.items()
                                               if isinstance(v, int | float)}}
                metrics["peak_memory_gb"] = _peak_memory_gb(callback)
                metrics["training_time"] = round(time.monotonic() - started, 3)
                lora = desc.trainer is not None and desc.trainer.peft is not None
                if save and callback.stop_reason is None:
                    save_trained(trainer, trial_dir, lora=lora, stage=self.stage)
                result = self._result(desc, callback, steps, metrics)
                if tracker is not None:
                    tracker.finish(result.state, result.values, steps, result.reason)
                return result
            except KeyboardInterrupt:
                raise
            except Exception as e:  # failure isolation: the study goes on
                log.error("trial failed:\n%s", traceback.format_exc())
                steps = 0
                metrics = dict(callback.last) if callback else {}
                return TrialResult("FAIL", None, _reason(e), steps, metrics)
            finally:
                if tracker is not None:
                    tracker.close()
                if callback is not None:
                    callback.close()
                _free_memory()

    def _result(self, desc: TrialDescription, cb: TrialCallback, steps: int,
                metrics: dict[str, float]) -> TrialResult:
        if cb.pruned:
            return TrialResult("PRUNED", None, cb.stop_reason, steps, metrics)
        if cb.stop_reason is not None:
            return TrialResult("FAIL", None, cb.stop_reason, steps, metrics)
        values = []
        no_validation = desc.split("validation") is None or \
            desc.split("validation").source is None  # type: ignore[union-attr]
        for name in desc.objectives:
            value = value_of(name, metrics)  # a metric, or an expression of metrics
            if value is None or not math.isfinite(value):
                why = "was never reported" if value is None else f"is {value}"
                hint = " (no validation data?)" if name.startswith("eval_") and \
                    no_validation else ""
                return TrialResult("FAIL", None, f"objective {name} {why}{hint}", steps,
                                   metrics)
            values.append(float(value))
        return TrialResult("COMPLETE", values, None, steps, metrics)

    def _build(self, desc: TrialDescription, trial_dir: Path, reporter: Reporter,
               log: logging.Logger, *, scope: contextlib.ExitStack, info: TrialInfo | None,
               fold: Fold | None = None) -> tuple[Any, TrialCallback, TrackingCallback | None]:
        spec, lowered = desc.model, desc.trainer
        if spec is None or lowered is None or lowered.trainer_class is None:
            algo = spec.selected() if spec is not None else None
            raise UnsupportedAlgorithm(f"`{algo}` cannot be run by specc yet: "
                                       + "; ".join(lowered.notes if lowered else []))
        algo = spec.selected()
        file = desc.file
        spec_dir = os.path.dirname(os.path.abspath(file)) if file else os.getcwd()
        for note in lowered.notes:
            log.info("note: %s", note)
        config_cls = import_qualname(str(lowered.config_class))
        args = config_cls(**{"report_to": ["none"], **lowered.config, **DISPLAY_CONFIG})
        from specc.runtime.launch import load_model, one_device

        one_device(args)  # never DataParallel: several GPUs are a distributed job
        model, tokenizer, self.stage = load_policy(  # a previous stage's output, or a model
            self, spec.policy.model_name, spec.policy.precision, spec_dir,
            merge=spec.policy.merge_adapter, log=log,
            # quantised / sharded / fp32 master weights
            load=lambda path: load_model(self, path, desc))
        total = desc.derived.total_steps if desc.derived else None
        callback = TrialCallback(reporter, desc.health, trial_dir / "metrics.jsonl",
                                 total, metric=desc.objectives[0],
                                 tags={"fold": fold.index} if fold else None,
                                 algorithm=str(algo))
        tracking = lowered.tracking
        tracker = None
        if info is not None and tracking is not None and tracking.backends:
            scope.enter_context(trial_env(tracking))  # read as the trainer is built
            tracker = TrackingCallback(info, tracking, spec_yaml(info.spec),
                                       list(desc.objectives))
            log.info("tracking: %s (run %s)", ", ".join(tracking.backends),
                     tracking.run_name)
        callbacks: list[Any] = [callback] + ([tracker] if tracker is not None else [])
        train, held_out = self._splits(desc, spec_dir, fold)
        ckpt = checkpoints.enabled(spec)
        if ckpt is not None and fold is None:
            callbacks.append(checkpoints.CheckpointCallback(ckpt, Path(args.output_dir)))
        kwargs: dict[str, Any] = {
            "model": model,
            "args": args,
            "train_dataset": train,
            "eval_dataset": held_out,
            "processing_class": tokenizer,
            "callbacks": callbacks,
        }
        if kwargs["train_dataset"] is None:
            raise DataError("no training data: set `data.train.path`")
        if lowered.peft is not None and not self.stage.adapter_kept:
            from peft import LoraConfig

            kwargs["peft_config"] = LoraConfig(**lowered.peft)
        if algo in GENERATES:
            kwargs["reward_funcs"] = resolve(spec.reward, spec_dir)
            if not kwargs["reward_funcs"]:
                raise RewardError("no reward functions: add `reward.functions`")
        if lowered.optimizer is not None:
            sig = lookup_optimizer(lowered.optimizer["class"])
            if sig is not None:
                kwargs["optimizer_cls_and_kwargs"] = (
                    import_qualname(sig.qualname), dict(lowered.optimizer["kwargs"]))
        trainer_cls = self.trainer_class(str(lowered.trainer_class))
        set_threads(model)
        trainer = trainer_cls(**kwargs)
        from transformers.trainer_callback import PrinterCallback, ProgressCallback

        trainer.remove_callback(PrinterCallback)  # progress is the study's to show
        trainer.remove_callback(ProgressCallback)
        trainer._specc_scheduler = lowered.scheduler
        if tracker is not None:
            tracker.attach(trainer)
        return trainer, callback, tracker

    def _splits(self, desc: TrialDescription, spec_dir: str,
                fold: Fold | None) -> tuple[Any, Any]:
        """(training data, evaluation data): the trial's splits, or a fold of the training
        split and its held-out rows."""
        train = self.dataset(desc, "train", spec_dir)
        if fold is None or train is None:
            return train, self.dataset(desc, "validation", spec_dir)
        if len(train) < fold.k:
            raise DataError(f"{fold.k}-fold cross-validation needs at least {fold.k} "
                            f"training rows; data.train has {len(train)}")
        rows, held = fold.rows(len(train))
        return train.select(rows), train.select(held)


def _mean_of_folds(results: list[TrialResult], steps: int) -> TrialResult:
    """One trial's result from its folds: objective values and metrics averaged, and the
    spread of the first objective as `cv_std`."""
    k = len(results)
    values = [sum(col) / k for col in zip(*(r.values or [] for r in results), strict=True)]
    common = set.intersection(*(set(r.metrics) for r in results))
    metrics = {m: sum(r.metrics[m] for r in results) / k for m in sorted(common)}
    firsts = [(r.values or [math.nan])[0] for r in results]
    metrics["cv_std"] = math.sqrt(sum((v - values[0]) ** 2 for v in firsts) / k)
    metrics["cv_folds"] = float(k)
    for i, v in enumerate(firsts):
        metrics[f"cv_fold_{i}"] = v
    return TrialResult("COMPLETE", values, None, steps, metrics)


def _reason(e: BaseException) -> str:
    text = str(e).strip().splitlines()[0] if str(e).strip() else ""
    name = type(e).__name__
    if name in ("OutOfMemoryError",) or "out of memory" in text.lower():
        return f"out of memory: {text or name}"
    if isinstance(e, DataError | RewardError | UnsupportedAlgorithm | StageError):
        return text
    return f"{name}: {text}" if text else name


def _peak_memory_gb(cb: TrialCallback) -> float:
    import torch

    if torch.cuda.is_available():
        return round(torch.cuda.max_memory_allocated() / 1024**3, 4)
    return round(cb.peak_rss / 1024**3, 4)


def _free_memory() -> None:
    import gc

    gc.collect()
    with contextlib.suppress(Exception):
        import torch

        if torch.cuda.is_available():
            torch.cuda.empty_cache()
            torch.cuda.reset_peak_memory_stats()


@contextlib.contextmanager
def _trial_log(path: Path) -> Iterator[logging.Logger]:
    """Route transformers/TRL/PEFT logging and warnings into the trial's log.txt."""
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    names = ("transformers", "trl", "peft", "datasets", "specc.trial", "py.warnings")
    loggers = [logging.getLogger(n) for n in names]
    for lg in loggers:
        lg.addHandler(handler)
    log = logging.getLogger("specc.trial")
    log.setLevel(logging.INFO)
    log.propagate = False
    logging.captureWarnings(True)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("default")
            yield log
    finally:
        logging.captureWarnings(False)
        for lg in loggers:
            lg.removeHandler(handler)
        handler.close()
