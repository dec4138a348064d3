"""Advantage-Weighted Regression (seed 003 stage 2) on TRL's `SFTTrainer`.

Each round generates `num_samples_per_prompt` completions per prompt, scores them,
takes each sample's advantage against its prompt's baseline (the mean reward of that
prompt's samples), optionally divides the advantages by their standard deviation over
the round (`normalize_advantage`), weights each sample by
`min(exp(advantage / advantage_beta), clip_advantage)` and trains the weighted NLL
`mean_i(w_i * NLL_i)`, where `NLL_i` is sample i's token-mean NLL over its completion
(`WeightedSFTTrainer`). Weights are not renormalised per batch: that is AWR's
objective `E[w * -log pi]`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import torch
from trl.trainer.sft_trainer import SFTTrainer

from specc.runtime.algorithms.rounds import (
    AlgorithmResult,
    RoundHook,
    RoundMetrics,
    TrainerSetup,
    train_sft,
    with_lora,
)
from specc.runtime.algorithms.sampling import (
    Row,
    WeightedRewards,
    eval_reward,
    generate,
    reward_stats,
)

if TYPE_CHECKING:
    from specc.spec.models.algorithms import AWR
    from specc.spec.models.policy import Generation

EPSILON = 1e-8
"""Added to the advantages' standard deviation before dividing by it."""


def advantages(rewards: Sequence[float], groups: Sequence[int], *,
               normalize: bool) -> list[float]:
    """`reward - mean reward of its group` (a group is one prompt's samples), divided by
    the population std of all advantages plus `EPSILON` when `normalize`."""
    sums: dict[int, list[float]] = {}
    for r, g in zip(rewards, groups, strict=True):
        sums.setdefault(g, []).append(r)
    base = {g: sum(v) / len(v) for g, v in sums.items()}
    adv = [r - base[g] for r, g in zip(rewards, groups, strict=True)]
    if normalize and adv:
        mean = sum(adv) / len(adv)
        std = math.sqrt(sum((a - mean) ** 2 for a in adv) / len(adv))
        adv = [a / (std + EPSILON) for a in adv]
    return adv


def awr_weights(advs: Sequence[float], *, beta: float, clip: float) -> list[float]:
    """`min(exp(a / beta), clip)` per advantage (computed in log space: no overflow)."""
    return [clip if a / beta >= math.log(clip) else math.exp(a / beta) for a in advs]


class _WeightCollator:
    """Wraps SFTTrainer's collator and adds the rows' `weight` column as a tensor (the
    base collator keeps only `input_ids`, `labels` and `seq_lengths`)."""

    def __init__(self, base: Any) -> None:
        self.base = base

    def __call__(self, examples: list[dict[str, Any]]) -> dict[str, Any]:
        batch: dict[str, Any] = self.base(examples)
        if all("weight" in e for e in examples):
            batch["weight"] = torch.tensor([float(e["weight"]) for e in examples],
                                           dtype=torch.float32)
        return batch


class WeightedSFTTrainer(SFTTrainer):
    """`SFTTrainer` whose loss is `mean_i(weight_i * token-mean NLL_i)`.

    The train dataset needs a `weight` column. `remove_unused_columns` is forced off
    (the Trainer would otherwise drop `weight` before the collator sees it), and the
    loss is a per-micro-batch mean, so the Trainer divides it by the accumulation steps.
    """

    loss_is_scaled_for_ga = False  # type: ignore[assignment]  # TRL types it as None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        config = kwargs.get("args")
        if config is not None:
            config.remove_unused_columns = False
        super().__init__(*args, **kwargs)
        self.data_collator = _WeightCollator(self.data_collator)

    def compute_loss(self, model: Any, inputs: dict[str, Any], return_outputs: bool = False,
                     num_items_in_batch: Any = None) -> Any:
        weight = inputs.pop("weight", None)
        if weight is None:  # evaluation batches without weights: plain SFT loss
            return super().compute_loss(  # type: ignore[no-untyped-call]
                model, inputs, return_outputs, num_items_in_batch)
        outputs = model(**inputs, use_cache=False, fused_lm_head=True)
        nll = sample_nll(outputs.log_probs, outputs.label_mask)
        loss = (weight.to(nll.device, nll.dtype) * nll).mean()
        mode = "train" if model.training else "eval"
        self._metrics[mode]["weight_mean"].append(float(weight.mean()))
        return (loss, outputs) if return_outputs else loss


def sample_nll(log_probs: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Per-row mean of `-log_probs` over `mask` (rows without tokens give 0)."""
    m = mask.to(log_probs.dtype)
    return -(log_probs * m).sum(-1) / m.sum(-1).clamp(min=1)


def awr_round(model: Any, tokenizer: Any, rows: Sequence[Row], *, block: AWR,
              generation: Generation, rewards: WeightedRewards, args: Any,
              round_number: int = 1, batch_size: int = 8,
              setup: TrainerSetup | None = None) -> tuple[RoundMetrics, int]:
    """One round on `model` (trained in place): its metrics and optimizer steps."""
    samples = generate(model, tokenizer, rows, generation, block.num_samples_per_prompt,
                       rewards=rewards, batch_size=batch_size)
    scores = [s.reward for s in samples]
    advs = advantages(scores, [s.prompt_index for s in samples],
                      normalize=block.normalize_advantage)
    w = awr_weights(advs, beta=block.advantage_beta, clip=block.clip_advantage)
    data = [{"prompt": s.prompt, "completion": s.completion, "weight": wi}
            for s, wi in zip(samples, w, strict=True)]
    if setup is not None and setup.trainer_class is not None and not issubclass(
            setup.trainer_class, WeightedSFTTrainer):
        raise TypeError("AWR trains with WeightedSFTTrainer or a subclass of it")
    loss, steps = train_sft(model, tokenizer, data, args, setup=setup,
                            default_class=WeightedSFTTrainer)
    stats = reward_stats(scores)
    return RoundMetrics(round=round_number, generated=len(samples), kept=len(samples),
                        kept_reward_mean=stats["reward_mean"], train_loss=loss,
                        weight_mean=sum(w) / len(w) if w else None,
                        weight_max=max(w) if w else None, **stats), steps


def run_awr(model: Any, tokenizer: Any, train_rows: Sequence[Row], eval_rows: Sequence[Row],
            *, block: AWR, generation: Generation, rewards: WeightedRewards, args: Any,
            rounds: int = 1, peft_config: Any | None = None, batch_size: int = 8,
            setup: TrainerSetup | None = None,
            on_round: RoundHook | None = None) -> AlgorithmResult:
    """`rounds` AWR rounds, then the evaluation reward on `eval_rows` (see `run_rs_sft`
    for `args`, `peft_config` and `on_round`)."""
    model = with_lora(model, peft_config)
    history: list[RoundMetrics] = []
    steps = 0
    reward = float("nan")
    for r in range(1, rounds + 1):
        metrics, n = awr_round(model, tokenizer, train_rows, block=block,
                               generation=generation, rewards=rewards, args=args,
                               round_number=r, batch_size=batch_size, setup=setup)
        steps += n
        history.append(metrics)
        reward = eval_reward(model, tokenizer, eval_rows, generation, rewards,
                             batch_size=batch_size)
        if on_round is not None:
            on_round(r, {**metrics.as_dict(), "eval_reward": reward})
    return AlgorithmResult(rounds=history, eval_reward=reward, steps=steps, model=model)
