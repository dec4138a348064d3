"""AWR: advantages and weights by hand, the weighted SFT loss against an independent
per-sample NLL, and a real round on the tiny model."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
import torch
from datasets import Dataset
from peft import LoraConfig, PeftModel
from trl.trainer.sft_config import SFTConfig

from specc.compiler.builtin_data import rows
from specc.runtime.algorithms.awr import (
    WeightedSFTTrainer,
    advantages,
    awr_round,
    awr_weights,
    run_awr,
)
from specc.runtime.algorithms.sampling import WeightedRewards
from specc.runtime.tiny_model import build_model, build_tokenizer
from specc.spec.models.algorithms import AWR
from specc.spec.models.policy import Generation

# three prompts, two samples each
REWARDS = [1.0, 3.0, 2.0, 2.0, 0.0, 4.0]
GROUPS = [0, 0, 1, 1, 2, 2]


def test_advantages_are_taken_against_each_prompts_mean() -> None:
    # baselines: (1 + 3) / 2 = 2, (2 + 2) / 2 = 2, (0 + 4) / 2 = 2
    assert advantages(REWARDS, GROUPS, normalize=False) == [-1.0, 1.0, 0.0, 0.0, -2.0, 2.0]
    # their population std: sqrt((1 + 1 + 0 + 0 + 4 + 4) / 6) = sqrt(10 / 6) = 1.29099...
    std = math.sqrt(10 / 6)
    got = advantages(REWARDS, GROUPS, normalize=True)
    assert got == pytest.approx([-1 / std, 1 / std, 0.0, 0.0, -2 / std, 2 / std])
    assert got[1] == pytest.approx(0.7745967, rel=1e-6)
    # one prompt whose samples tie: advantages 0, and normalising does not divide by 0
    assert advantages([0.5, 0.5], [0, 0], normalize=True) == [0.0, 0.0]


def test_weights_are_exp_advantage_over_beta_clipped() -> None:
    advs = [-1.0, 1.0, 0.0, -2.0, 2.0, 1000.0]
    # beta 2: exp(-0.5), exp(0.5), 1, exp(-1), exp(1) = 2.718 -> clip 2.0, overflow -> 2.0
    assert awr_weights(advs, beta=2.0, clip=2.0) == pytest.approx(
        [0.6065307, 1.6487213, 1.0, 0.3678794, 2.0, 2.0], rel=1e-6)
    # normalised advantages from above with beta 1 and clip 4: exp(2 / 1.29) = 4.71 -> 4
    std = math.sqrt(10 / 6)
    normed = advantages(REWARDS, GROUPS, normalize=True)
    assert awr_weights(normed, beta=1.0, clip=4.0) == pytest.approx(
        [math.exp(-1 / std), math.exp(1 / std), 1.0, 1.0, math.exp(-2 / std), 4.0])


def _args(tmp_path: Path, steps: int = 1, batch: int = 3) -> SFTConfig:
    return SFTConfig(output_dir=str(tmp_path), max_steps=steps,
                     per_device_train_batch_size=batch, learning_rate=1e-3, report_to=[],
                     save_strategy="no", logging_steps=1, use_cpu=True, max_length=48,
                     disable_tqdm=True, seed=0)


def _completion_nll(model: Any, tok: Any, prompt: str, completion: str) -> float:
    """Token-mean NLL of `completion` (plus EOS, as SFTTrainer appends it) after
    `prompt`, from the model's own logits."""
    prompt_ids = tok(prompt, add_special_tokens=False)["input_ids"]
    ids = tok(prompt + completion + tok.eos_token, add_special_tokens=False)["input_ids"]
    with torch.no_grad():
        logits = model(input_ids=torch.tensor([ids])).logits[0]
    logp = torch.log_softmax(logits[:-1].float(), -1)
    targets = torch.tensor(ids[1:])
    token_logp = logp[torch.arange(len(targets)), targets][len(prompt_ids) - 1:]
    return float(-token_logp.mean())


def test_weighted_loss_is_the_mean_of_weight_times_per_sample_nll(tmp_path: Path) -> None:
    model: Any = build_model()
    tok: Any = build_tokenizer()
    data: list[dict[str, Any]] = [{"prompt": "1+2=", "completion": "3", "weight": 0.5},
            {"prompt": "10-4=", "completion": "6 ok", "weight": 2.0},
            {"prompt": "7+7=", "completion": "14", "weight": 1.25}]
    trainer = WeightedSFTTrainer(model=model, args=_args(tmp_path),
                                 train_dataset=Dataset.from_list(data), processing_class=tok)
    batch = next(iter(trainer.get_train_dataloader()))
    assert sorted(batch["weight"].tolist()) == [0.5, 1.25, 2.0]  # the column survived
    model.eval()
    with torch.no_grad():
        loss = float(trainer.compute_loss(model, dict(batch)))
    by_weight = {d["weight"]: d for d in data}
    expected = sum(
        w * _completion_nll(model, tok, by_weight[w]["prompt"], by_weight[w]["completion"])
        for w in batch["weight"].tolist()) / 3
    assert loss == pytest.approx(expected, rel=1e-4)
    # not the plain (token-weighted, unweighted) SFT loss
    batch.pop("weight")
    with torch.no_grad():
        plain = float(trainer.compute_loss(model, dict(batch)))
    assert plain != pytest.approx(loss, rel=1e-3)


def _length(completions: list[Any], **kwargs: Any) -> list[float]:
    return [float(len(c)) for c in completions]


GEN = Generation(max_new_tokens=6, temperature=1.0)


def test_a_real_round_weights_every_sample_and_trains(tmp_path: Path) -> None:
    model: Any = build_model()
    tok: Any = build_tokenizer()
    data = rows("specc:arith-prompts", "train")
    block = AWR(num_samples_per_prompt=2, advantage_beta=1.0, clip_advantage=1.5)
    metrics, steps = awr_round(model, tok, data[:3], block=block, generation=GEN,
                               rewards=WeightedRewards([_length], [1.0]),
                               args=_args(tmp_path, batch=2), batch_size=3)
    assert metrics.generated == metrics.kept == 6 and steps == 1
    assert metrics.weight_max is not None and metrics.weight_max <= 1.5
    assert metrics.train_loss is not None and math.isfinite(metrics.train_loss)
    result = run_awr(model, tok, data[:2], data[2:4], block=block, generation=GEN,
                     rewards=WeightedRewards([_length], [1.0]), args=_args(tmp_path),
                     rounds=1, peft_config=LoraConfig(r=2, lora_alpha=4,
                                                      target_modules=["q_proj"]))
    assert len(result.rounds) == 1 and math.isfinite(result.eval_reward)
    assert isinstance(result.model, PeftModel)  # the adapters were trained, not the base
