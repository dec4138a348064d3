"""A trial's checkpoints (the spec's `checkpointing` block): where they are, which one a
retried trial resumes from, and which ones are kept.

The trainer saves ``trials/<n>/hf/checkpoint-<step>`` every `save_period` steps (model or
adapter, optimizer, scheduler, RNG state and ``trainer_state.json`` with the step counter;
the trainer writes ``trainer_state.json`` last, so a checkpoint cut short by a kill has
none and is skipped). A trial whose worker died is retried as a new trial with the same
parameters; :func:`resume_point` finds the last complete checkpoint of its earlier
attempts and the trainer resumes from it (``resume_from_checkpoint``: step counter,
optimizer and scheduler state, RNG state, and the data order, by skipping the batches it
already trained on).
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from transformers import TrainerCallback

from specc.spec.models.checkpointing import Checkpointing

_NAME = re.compile(r"checkpoint-(\d+)$")
#: Files a checkpoint needs to resume a run, besides the weights.
_STATE_FILES = ("optimizer.pt", "scheduler.pt")


def step_of(path: Path) -> int | None:
    """The step of checkpoint folder ``path`` when it is complete (None: cut short)."""
    m = _NAME.search(path.name)
    if m is None or not path.is_dir():
        return None
    try:
        state = json.loads((path / "trainer_state.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not all((path / f).exists() for f in _STATE_FILES):
        return None
    step = state.get("global_step") if isinstance(state, dict) else None
    return int(step) if isinstance(step, int) else None


def checkpoints(folder: Path) -> list[tuple[int, Path]]:
    """The complete checkpoints in a trainer output folder, by step."""
    if not folder.is_dir():
        return []
    found = [(step_of(p), p) for p in folder.iterdir() if _NAME.search(p.name)]
    return sorted((s, p) for s, p in found if s is not None)


def resume_point(folders: Iterable[Path]) -> tuple[int, Path] | None:
    """The last complete checkpoint among ``folders`` (the trainer output folders of a
    trial's earlier attempts, latest first)."""
    for folder in folders:
        found = checkpoints(folder)
        if found:
            return found[-1]
    return None


def metric_key(name: str) -> str:
    """The trainer's name for a checkpoint metric (NeMo RL's `val:loss` is `eval_loss`)."""
    from specc.spec.metrics import ALIASES

    if name in ALIASES:
        return ALIASES[name]
    if ":" in name:
        kind, _, rest = name.partition(":")
        if kind == "val":
            return "eval_loss" if rest.endswith("loss") else f"eval_{rest}"
        return rest
    return name


def _metric_at(folder: Path, key: str, step: int) -> float | None:
    try:
        state = json.loads((folder / "trainer_state.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    for entry in reversed(state.get("log_history") or []):
        if entry.get("step") == step:
            for k in (key, f"eval_{key}"):
                if isinstance(entry.get(k), int | float):
                    return float(entry[k])
    return None


def prune(folder: Path, ckpt: Checkpointing) -> list[int]:
    """Keep `keep_top_k` checkpoints in ``folder`` (the best by `metric_name`, or the most
    recent) plus the latest; returns the steps removed."""
    k = ckpt.keep_top_k
    found = checkpoints(folder)
    if k is None or len(found) <= k:
        return []
    latest = found[-1][0]
    if ckpt.metric_name:
        key = metric_key(ckpt.metric_name)
        higher = ckpt.higher_is_better if ckpt.higher_is_better is not None else \
            "loss" not in key
        scored = [(s, _metric_at(p, key, s)) for s, p in found]
        known = [(s, v) for s, v in scored if v is not None]
        known.sort(key=lambda sv: (-sv[1] if higher else sv[1], -sv[0]))
        keep = {s for s, _ in known[:k]} or {s for s, _ in found[-k:]}
    else:
        keep = {s for s, _ in found[-k:]}
    keep.add(latest)
    removed = []
    for s, p in found:
        if s not in keep:
            shutil.rmtree(p, ignore_errors=True)
            removed.append(s)
    return removed


def remove_all(folder: Path) -> None:
    """Every checkpoint (complete or not) in a trainer output folder."""
    if folder.is_dir():
        for p in folder.iterdir():
            if _NAME.search(p.name) and p.is_dir():
                shutil.rmtree(p, ignore_errors=True)


class CheckpointCallback(TrainerCallback):
    """After each save: `keep_top_k` applied to the trial's checkpoints."""

    def __init__(self, ckpt: Checkpointing, folder: Path) -> None:
        self.ckpt, self.folder = ckpt, folder

    def on_save(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        prune(self.folder, self.ckpt)


def enabled(spec: Any) -> Checkpointing | None:
    """The spec's `checkpointing` block when it is enabled."""
    ckpt = getattr(spec, "checkpointing", None)
    return ckpt if isinstance(ckpt, Checkpointing) and ckpt.enabled else None


class SpecOptimizerValues(TrainerCallback):
    """After resuming from a checkpoint, the learning rate and weight decay are this run's
    own: loading the checkpoint's optimizer and scheduler state brings back the values of
    the run that saved it (another trial's, when population-based training moved this
    trial to its checkpoint). The schedule's position is kept; its scale is the new
    learning rate's."""

    def __init__(self, lr: float | None, weight_decay: float | None) -> None:
        self.lr, self.weight_decay = lr, weight_decay

    def on_train_begin(self, args: Any, state: Any, control: Any, optimizer: Any = None,
                       lr_scheduler: Any = None, **kwargs: Any) -> None:
        if optimizer is None or not state.global_step:
            return
        groups = getattr(optimizer, "param_groups", [])
        if self.weight_decay is not None:
            for g in groups:
                if g.get("weight_decay"):  # the no-decay group (biases, norms) stays at 0
                    g["weight_decay"] = self.weight_decay
        schedulers = [lr_scheduler, *getattr(lr_scheduler, "_schedulers", [])]
        base = next((s.base_lrs[0] for s in schedulers if getattr(s, "base_lrs", None)),
                    None)
        if self.lr is None or not base or base == self.lr:
            return
        ratio = self.lr / base
        for g in groups:
            for key in ("lr", "initial_lr"):
                if key in g:
                    g[key] *= ratio
        for s in schedulers:
            for key in ("base_lrs", "_last_lr"):
                if isinstance(getattr(s, key, None), list):
                    setattr(s, key, [v * ratio for v in getattr(s, key)])
