"""Loading a policy that is a previous stage's output, and saving a trial's model so the
next stage can start from it (see `specc.spec.stages` for what a name resolves to).

- A model folder (or a run whose best trial saved `model/`) loads as any local model.
- An adapter (or a run whose best trial saved `adapter/`) is loaded onto its base as a
  trainable PEFT model, and training goes on with that adapter (the spec's `lora` shape
  is the adapter's); the reference model of DPO/KTO/GRPO/PPO is then the adapter-free
  base. With `policy.merge_adapter: true` the adapter is merged into its base first: the
  policy *and* the reference start from the previous stage's model, and the spec's `lora`
  (if enabled) trains a fresh adapter.
- A trial that trained an adapter saves it with `specc_stage.json` naming its base. One
  whose base was merged in memory saves the merged model (`model/`), since that base
  exists nowhere on disk.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from specc.errors import SpeccError
from specc.spec.builtins import BUILTIN_PREFIX
from specc.spec.stages import STAGE_FILE, ModelRef, resolve_model

__all__ = ["Stage", "StageError", "load_policy", "merge_adapter", "save_trained"]


class StageError(SpeccError):
    """A previous stage's output cannot be loaded."""


@dataclass(frozen=True)
class Stage:
    """How this trial's policy was loaded."""

    ref: ModelRef
    #: The base model name an adapter trained in this trial sits on (for `specc_stage.json`).
    base_name: str
    #: The policy is a PEFT model carrying the previous stage's adapter (keep training it).
    adapter_kept: bool = False
    #: An adapter was merged into the base in memory (save the merged model).
    merged: bool = False


def load_policy(worker: Any, model_name: str, precision: str, spec_dir: str, *,
                merge: bool, log: logging.Logger | None = None,
                load: Callable[[str], Any] | None = None) -> tuple[Any, Any, Stage]:
    """(model, tokenizer, stage) for `policy.model_name`. ``load`` loads a model folder
    (default: the worker's cached copy in ``precision``)."""
    if load is None:
        def load(path: str) -> Any:
            return worker.model(path, precision)
    ref = resolve_model(model_name, spec_dir)
    if ref.problem:
        raise StageError(ref.problem)
    if ref.kind != "adapter":
        path = ref.model_dir or worker.model_path(model_name, spec_dir)
        if log and ref.run:
            log.info("stage: starting from %s (best trial %s of %s)", path, ref.trial, ref.run)
        base = model_name if model_name.startswith(BUILTIN_PREFIX) else path
        return load(path), worker.tokenizer(path), Stage(ref, base)
    assert ref.base is not None
    base_path = worker.model_path(ref.base, spec_dir)
    model = load(base_path)
    has_tokenizer = any(os.path.isfile(os.path.join(ref.path, f))
                        for f in ("tokenizer.json", "tokenizer_config.json"))
    tokenizer = worker.tokenizer(ref.path if has_tokenizer else base_path)
    from peft import PeftModel

    peft = PeftModel.from_pretrained(model, ref.path, is_trainable=not merge)
    if log:
        log.info("stage: adapter %s on %s%s", ref.path, ref.base,
                 ", merged into it" if merge else ", trained further")
    if merge:
        return peft.merge_and_unload(), tokenizer, Stage(ref, ref.base, merged=True)
    return peft, tokenizer, Stage(ref, ref.base, adapter_kept=True)


def save_trained(trainer: Any, trial_dir: Path, *, lora: bool, stage: Stage | None) -> Path:
    """Save the trial's trained policy for the next stage: `adapter/` (with the base it
    needs) or `model/`."""
    adapter = lora or (stage is not None and stage.adapter_kept)
    if adapter and stage is not None and stage.merged:
        model = trainer.model
        if hasattr(model, "merge_and_unload"):
            model = model.merge_and_unload()
        target = trial_dir / "model"
        model.save_pretrained(str(target))
        processing = getattr(trainer, "processing_class", None) or getattr(
            trainer, "tokenizer", None)
        if processing is not None:
            processing.save_pretrained(str(target))
        return target
    target = trial_dir / ("adapter" if adapter else "model")
    trainer.save_model(str(target))
    if adapter and stage is not None:
        (target / STAGE_FILE).write_text(json.dumps({"base_model": stage.base_name}) + "\n",
                                         encoding="utf-8")
    return target


def merge_adapter(adapter: str, output: str, *, spec_dir: str = ".",
                  precision: str = "float32") -> Path:
    """`specc merge`: the adapter (or a run's best adapter) merged into its base, saved
    with its tokenizer to `output`."""
    ref = resolve_model(adapter, spec_dir)
    if ref.problem:
        raise StageError(ref.problem)
    if ref.kind != "adapter":
        raise StageError(f"`{adapter}` is not a LoRA adapter (no adapter_config.json)")
    model, tokenizer, _ = load_policy(_Loader(), adapter, precision, spec_dir, merge=True)
    out = Path(output)
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(out))
    tokenizer.save_pretrained(str(out))
    return out


class _Loader:
    """What `load_policy` needs of a worker, without its caches (`specc merge`)."""

    def model_path(self, name: str, spec_dir: str) -> str:
        if name.startswith(BUILTIN_PREFIX):
            from specc.runtime.tiny_model import materialize

            return str(materialize(name))
        local = name if os.path.isabs(name) else os.path.join(spec_dir, name)
        return os.path.abspath(local) if os.path.exists(local) else name

    def model(self, path: str, precision: str) -> Any:
        import torch
        from transformers import AutoModelForCausalLM

        return AutoModelForCausalLM.from_pretrained(path, dtype=getattr(torch, precision))

    def tokenizer(self, path: str) -> Any:
        from transformers import AutoTokenizer

        return AutoTokenizer.from_pretrained(path)
