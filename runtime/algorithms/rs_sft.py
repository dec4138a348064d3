"""Rejection-sampling SFT (seed 003 stage 2): sample, keep the best, fine-tune.

Each round generates `num_samples_per_prompt` completions per training prompt with the
current policy (the spec's `policy.generation` block), scores them with the spec's
weighted reward functions, keeps those strictly above `reward_threshold` (only the
best per prompt with `best_of_n`), caps the kept set at `max_samples` (highest rewards
first), and fine-tunes on it with TRL's `SFTTrainer` in prompt-completion format. The
objective is the mean reward of greedy completions on held-out prompts.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

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
    Sample,
    WeightedRewards,
    eval_reward,
    generate,
    reward_stats,
)

if TYPE_CHECKING:
    from specc.spec.models.algorithms import RSSFT
    from specc.spec.models.policy import Generation


def select(samples: Sequence[Sample], threshold: float, *, best_of_n: bool = False,
           max_samples: int | None = None) -> list[Sample]:
    """The samples RS-SFT trains on, in generation order.

    Keeps rewards strictly above `threshold`; with `best_of_n`, only the highest-reward
    sample of each prompt (the first generated on a tie) and only if it passes; then at
    most `max_samples`, the highest rewards first (earlier samples first on a tie).
    """
    passed = [(i, s) for i, s in enumerate(samples) if s.reward > threshold]
    if best_of_n:
        best: dict[int, tuple[int, Sample]] = {}
        for i, s in passed:
            if s.prompt_index not in best or s.reward > best[s.prompt_index][1].reward:
                best[s.prompt_index] = (i, s)
        passed = sorted(best.values(), key=lambda t: t[0])
    if max_samples is not None and len(passed) > max_samples:
        top = sorted(passed, key=lambda t: (-t[1].reward, t[0]))[:max_samples]
        passed = sorted(top, key=lambda t: t[0])
    return [s for _, s in passed]


def rs_sft_round(model: Any, tokenizer: Any, rows: Sequence[Row], *, block: RSSFT,
                 generation: Generation, rewards: WeightedRewards, args: Any,
                 round_number: int = 1, best_of_n: bool = False, batch_size: int = 8,
                 setup: TrainerSetup | None = None) -> tuple[RoundMetrics, int]:
    """One round on `model` (trained in place): its metrics and optimizer steps."""
    samples = generate(model, tokenizer, rows, generation, block.num_samples_per_prompt,
                       rewards=rewards, batch_size=batch_size)
    kept = select(samples, block.reward_threshold, best_of_n=best_of_n,
                  max_samples=block.max_samples)
    data = [{"prompt": s.prompt, "completion": s.completion} for s in kept]
    loss, steps = train_sft(model, tokenizer, data, args, setup=setup)
    stats = reward_stats([s.reward for s in samples])
    kept_mean = reward_stats([s.reward for s in kept])["reward_mean"]
    return RoundMetrics(round=round_number, generated=len(samples), kept=len(kept),
                        kept_reward_mean=kept_mean, train_loss=loss, **stats), steps


def run_rs_sft(model: Any, tokenizer: Any, train_rows: Sequence[Row],
               eval_rows: Sequence[Row], *, block: RSSFT, generation: Generation,
               rewards: WeightedRewards, args: Any, rounds: int = 1,
               best_of_n: bool = False, peft_config: Any | None = None,
               batch_size: int = 8, setup: TrainerSetup | None = None,
               on_round: RoundHook | None = None) -> AlgorithmResult:
    """`rounds` RS-SFT rounds, then the evaluation reward on `eval_rows`.

    `args` is a `trl.SFTConfig` (epochs/steps per round, optimizer, batch sizes);
    `peft_config` a `peft.LoraConfig` or None. `on_round(round, metrics)` gets each
    round's metrics plus `eval_reward` when `eval_rows` are given.
    """
    model = with_lora(model, peft_config)
    history: list[RoundMetrics] = []
    steps = 0
    reward = float("nan")
    for r in range(1, rounds + 1):
        metrics, n = rs_sft_round(model, tokenizer, train_rows, block=block,
                                  generation=generation, rewards=rewards, args=args,
                                  round_number=r, best_of_n=best_of_n,
                                  batch_size=batch_size, setup=setup)
        steps += n
        history.append(metrics)
        reward = eval_reward(model, tokenizer, eval_rows, generation, rewards,
                             batch_size=batch_size)
        if on_round is not None:
            on_round(r, {**metrics.as_dict(), "eval_reward": reward})
    return AlgorithmResult(rounds=history, eval_reward=reward, steps=steps, model=model)
