"""What RS-SFT and AWR share: per-round metrics, the result, one SFT pass per round."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

#: Called after each round with the round number (1-based) and its metrics, e.g. to
#: report an intermediate objective to Optuna.
RoundHook = Callable[[int, dict[str, float]], None]


@dataclass(frozen=True)
class RoundMetrics:
    """One generate-score-train round."""

    round: int
    generated: int
    kept: int
    reward_mean: float
    reward_std: float
    reward_min: float
    reward_max: float
    kept_reward_mean: float
    train_loss: float | None
    """None when nothing was kept, so no step ran."""
    weight_mean: float | None = None
    """AWR only: mean sample weight."""
    weight_max: float | None = None
    """AWR only: largest sample weight (equals `clip_advantage` when clipping bit)."""

    def as_dict(self) -> dict[str, float]:
        """Flat float metrics, the unset ones left out."""
        return {k: float(v) for k, v in asdict(self).items() if v is not None}


@dataclass(frozen=True)
class AlgorithmResult:
    """What a run of rounds produced; `eval_reward` is the objective."""

    rounds: list[RoundMetrics] = field(default_factory=list)
    eval_reward: float = math.nan
    steps: int = 0
    """Optimizer steps over all rounds (PPO: updates)."""
    model: Any = None
    """The trained policy (a PEFT model when LoRA was on)."""


def with_lora(model: Any, peft_config: Any | None) -> Any:
    """Wrap the model in its adapters once, so every round trains the same ones."""
    if peft_config is None:
        return model
    from peft import PeftModel, get_peft_model

    return model if isinstance(model, PeftModel) else get_peft_model(model, peft_config)


@dataclass(frozen=True)
class TrainerSetup:
    """How each round builds its trainer: the class (`SFTTrainer` or a subclass, e.g. the
    runner's cached-preparation one), extra constructor keywords (such as
    `optimizer_cls_and_kwargs`) and callbacks. A fresh trainer (and optimizer) is made
    per round, on the same model."""

    trainer_class: type | None = None
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    callbacks: Sequence[Any] = ()


def train_sft(model: Any, tokenizer: Any, rows: Sequence[dict[str, Any]], args: Any, *,
              setup: TrainerSetup | None = None,
              default_class: type | None = None) -> tuple[float | None, int]:
    """One `SFTTrainer` (or subclass) pass over prompt-completion `rows`: (loss, steps)."""
    if not rows:
        return None, 0
    from datasets import Dataset
    from transformers.trainer_callback import PrinterCallback, ProgressCallback
    from trl.trainer.sft_trainer import SFTTrainer

    setup = setup or TrainerSetup()
    cls = setup.trainer_class or default_class or SFTTrainer
    trainer = cls(model=model, args=args, train_dataset=Dataset.from_list(list(rows)),
                  processing_class=tokenizer, callbacks=list(setup.callbacks),
                  **dict(setup.kwargs))
    trainer.remove_callback(PrinterCallback)
    trainer.remove_callback(ProgressCallback)
    out = trainer.train()
    loss = float(out.training_loss)
    return (loss if math.isfinite(loss) else math.nan), int(out.global_step)
