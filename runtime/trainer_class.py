"""The TRL trainer class a trial instantiates: a subclass that reuses tokenized datasets
across trials (keyed by the dataset's fingerprint, the tokenizer and the config fields
that shape tokenization) and builds a NeMo RL scheduler list with SequentialLR; and the
CPU threads a trial trains with."""

from __future__ import annotations

import importlib
import os
from typing import Any

from specc.spec.catalog.optim import lookup_scheduler

__all__ = ["cached_trainer", "import_qualname", "sequential_scheduler", "set_threads"]

#: Config fields that change how a trainer tokenizes its datasets (the cache key).
_PREP_FIELDS = ("max_length", "max_prompt_length", "max_completion_length", "truncation_mode",
                "packing", "packing_strategy", "padding_free", "pad_to_multiple_of",
                "completion_only_loss", "assistant_only_loss", "dataset_text_field",
                "eos_token", "pad_token")



def import_qualname(qualname: str) -> Any:
    module, _, name = qualname.rpartition(".")
    return getattr(importlib.import_module(module), name)


def cached_trainer(base: type, worker: Any) -> type:
    """Subclass a TRL trainer: tokenized datasets are reused across trials (keyed by the
    dataset's fingerprint, the tokenizer and the config fields that shape tokenization),
    and a NeMo RL scheduler list is built with SequentialLR."""

    class Cached(base):  # type: ignore[misc]
        _specc_scheduler: list[dict[str, Any]] | None = None

        def _prepare_dataset(self, dataset: Any, *args: Any, **kwargs: Any) -> Any:
            key = _prep_key(base.__name__, dataset, args, kwargs)
            if key is not None and key in worker._prepared:
                worker.stats["prepared_hits"] += 1
                return worker._prepared[key]
            out = super()._prepare_dataset(dataset, *args, **kwargs)
            worker.stats["prepared_misses"] += 1
            if key is not None:
                worker._prepared[key] = out
            return out

        def create_scheduler(self, num_training_steps: int, optimizer: Any = None) -> Any:
            if not self._specc_scheduler:
                return super().create_scheduler(num_training_steps, optimizer)
            self.lr_scheduler = sequential_scheduler(optimizer or self.optimizer,
                                                     self._specc_scheduler)
            return self.lr_scheduler

    Cached.__name__ = Cached.__qualname__ = f"Specc{base.__name__}"
    return Cached


def _prep_key(name: str, dataset: Any, args: tuple[Any, ...],
              kwargs: dict[str, Any]) -> tuple[Any, ...] | None:
    fingerprint = getattr(dataset, "_fingerprint", None)
    if fingerprint is None:
        return None
    parts: list[Any] = [name, fingerprint]
    for a in (*args, *kwargs.values()):
        if hasattr(a, "name_or_path"):
            parts.append(("tokenizer", a.name_or_path, len(a)))
        elif hasattr(a, "to_dict") and hasattr(a, "output_dir"):
            parts.append(tuple(getattr(a, f, None) for f in _PREP_FIELDS))
        elif a is None or isinstance(a, str | int | float | bool):
            parts.append(a)
        else:
            return None  # e.g. a formatting function: do not guess
    return tuple(parts)


def sequential_scheduler(optimizer: Any, entries: list[dict[str, Any]]) -> Any:
    """NeMo RL's scheduler list as torch's SequentialLR (allow-listed classes only)."""
    from torch.optim.lr_scheduler import SequentialLR

    steps = [e for e in entries if "name" in e]
    milestones: list[int] = next((e["milestones"] for e in entries if "milestones" in e), [])
    schedulers = []
    for e in steps:
        sig = lookup_scheduler(e["name"])
        if sig is None:
            raise ValueError(f"scheduler {e['name']} is not allow-listed")
        schedulers.append(import_qualname(sig.qualname)(optimizer, **e.get("kwargs", {})))
    if len(schedulers) == 1:
        return schedulers[0]
    return SequentialLR(optimizer, schedulers, milestones=list(milestones))


def set_threads(model: Any) -> None:
    """CPU threads for this trial. Small models are fastest on one thread (thread start-up
    and contention cost more than the matmuls); `SPECC_TORCH_THREADS` overrides."""
    import torch

    if torch.cuda.is_available():
        return
    wanted = os.environ.get("SPECC_TORCH_THREADS")
    if wanted:
        torch.set_num_threads(max(int(wanted), 1))
        return
    params = sum(p.numel() for p in model.parameters())
    torch.set_num_threads(1 if params < 50_000_000 else max(os.cpu_count() or 1, 1))


