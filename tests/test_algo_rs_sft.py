"""RS-SFT: the selection rule exactly, weighted rewards, and a real round on the tiny model."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
from trl.trainer.sft_config import SFTConfig

from specc.compiler.builtin_data import rows
from specc.runtime.algorithms.rs_sft import rs_sft_round, run_rs_sft, select
from specc.runtime.algorithms.sampling import Sample, WeightedRewards
from specc.runtime.tiny_model import build_model, build_tokenizer
from specc.spec.models.algorithms import RSSFT
from specc.spec.models.policy import Generation


def _samples(rewards: list[list[float]]) -> list[Sample]:
    """Samples per prompt, in generation order; the completion names its position."""
    return [Sample(p, f"p{p}", f"p{p}s{k}", r)
            for p, rs in enumerate(rewards) for k, r in enumerate(rs)]


def _kept(kept: list[Sample]) -> list[str]:
    return [str(s.completion) for s in kept]


def test_keeps_exactly_the_samples_strictly_above_the_threshold() -> None:
    samples = _samples([[0.6, 0.61, 0.2], [1.0, 0.6000001, -3.0]])
    assert _kept(select(samples, 0.6)) == ["p0s1", "p1s0", "p1s1"]
    assert _kept(select(samples, 1.0)) == []
    assert _kept(select(samples, -5.0)) == [s.completion for s in samples]


def test_best_of_n_keeps_the_best_passing_sample_of_each_prompt() -> None:
    # prompt 0: the first of the two 0.9s; prompt 1: nothing passes; prompt 2: its only one
    samples = _samples([[0.7, 0.9, 0.9], [0.5, 0.1], [0.8]])
    assert _kept(select(samples, 0.6, best_of_n=True)) == ["p0s1", "p2s0"]


def test_cap_keeps_the_highest_rewards_in_generation_order() -> None:
    samples = _samples([[0.7, 0.9], [0.8, 0.95]])
    assert _kept(select(samples, 0.6, max_samples=2)) == ["p0s1", "p1s1"]
    ties = _samples([[0.9, 0.9, 0.9]])
    assert _kept(select(ties, 0.0, max_samples=2)) == ["p0s0", "p0s1"]
    both = _samples([[0.7, 0.9], [0.8, 0.95], [0.99]])
    assert _kept(select(both, 0.75, best_of_n=True, max_samples=2)) == ["p1s1", "p2s0"]


def _one(completions: list[Any], **kwargs: Any) -> list[float]:
    return [1.0] * len(completions)


def _answer_len(completions: list[Any], answer: list[str], **kwargs: Any) -> list[float]:
    return [float(len(a)) for a in answer]


def test_weighted_rewards_sum_and_normalise() -> None:
    columns = {"answer": ["7", "12"]}
    plain = WeightedRewards([_one, _answer_len], [2.0, -0.5])
    assert plain(["a", "b"], ["x", "y"], columns) == [2.0 - 0.5, 2.0 - 1.0]
    # weights' range [-0.5, 2.0]: (t + 0.5) / 2.5
    scaled = WeightedRewards([_one, _answer_len], [2.0, -0.5], normalize=True)
    assert scaled(["a", "b"], ["x", "y"], columns) == pytest.approx([2.0 / 2.5, 1.5 / 2.5])
    with pytest.raises(ValueError, match="no reward functions"):
        WeightedRewards([], [])(["a"], ["x"], {})


class _Alternating:
    """Rewards 0, 1, 0, 1, ... in call order, recording what it scored."""

    __name__ = "alternating"

    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []

    def __call__(self, prompts: list[str], completions: list[str],
                 **kwargs: Any) -> list[float]:
        assert kwargs["answer"], "dataset columns reach the reward function"
        out = [float((len(self.seen) + i) % 2) for i in range(len(completions))]
        self.seen += list(zip(prompts, completions, strict=True))
        return out


def _args(tmp_path: Path) -> SFTConfig:
    return SFTConfig(output_dir=str(tmp_path), max_steps=1, per_device_train_batch_size=2,
                     learning_rate=1e-3, report_to=[], save_strategy="no", logging_steps=1,
                     use_cpu=True, max_length=48, disable_tqdm=True, seed=0)


GEN = Generation(max_new_tokens=6, temperature=1.0, top_p=0.9)


def test_a_real_round_keeps_the_passing_samples_and_trains(tmp_path: Path) -> None:
    model: Any = build_model()
    tok: Any = build_tokenizer()
    reward = _Alternating()
    block = RSSFT(num_samples_per_prompt=2, reward_threshold=0.5, max_samples=3)
    train = rows("specc:arith-prompts", "train")[:4]
    metrics, steps = rs_sft_round(model, tok, train, block=block, generation=GEN,
                                  rewards=WeightedRewards([reward], [1.0]),
                                  args=_args(tmp_path), batch_size=4)
    assert metrics.generated == 8 == len(reward.seen)
    assert [p for p, _ in reward.seen] == [r["prompt"] for r in train for _ in range(2)]
    assert metrics.kept == 3  # four pass 0.5, capped at three
    assert metrics.kept_reward_mean == 1.0
    assert (metrics.reward_mean, metrics.reward_min, metrics.reward_max) == (0.5, 0.0, 1.0)
    assert steps == 1 and metrics.train_loss is not None and math.isfinite(metrics.train_loss)


def test_rounds_report_metrics_and_an_eval_reward(tmp_path: Path) -> None:
    model: Any = build_model()
    tok: Any = build_tokenizer()
    data = rows("specc:arith-prompts", "train")
    seen: list[tuple[int, dict[str, float]]] = []
    result = run_rs_sft(model, tok, data[:2], data[2:4],
                        block=RSSFT(num_samples_per_prompt=2, reward_threshold=-1.0),
                        generation=GEN, rewards=WeightedRewards([_one], [0.5]),
                        args=_args(tmp_path), rounds=2, best_of_n=True,
                        on_round=lambda r, m: seen.append((r, m)))
    assert [m.kept for m in result.rounds] == [2, 2]  # best of 2 for each of 2 prompts
    assert result.eval_reward == 0.5 and result.steps == 2
    assert [r for r, _ in seen] == [1, 2]
    assert all(math.isfinite(v) for _, m in seen for v in m.values())
