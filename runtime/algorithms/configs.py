"""Trainer configs of the three algorithms TRL 1.16 has no trainer for.

`RSSFTConfig` and `AWRConfig` are TRL `SFTConfig`s (each round's fine-tune reads the
`SFTConfig` fields, per round) with the generate-and-score knobs added; `PPOConfig` is a
transformers `TrainingArguments` with seed 003's PPO knobs. `specc.compiler.lowering`
fills them (`tests/test_lowering.py` checks every name it sets against these classes),
`specc.runtime.algorithms.trainers` reads them, and `specc plan --emit python` scripts
construct them the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from transformers import TrainingArguments
from trl.trainer.sft_config import SFTConfig

#: Generation fields shared by the three configs (the spec's `policy.generation`).
GENERATION_FIELDS = ("max_new_tokens", "temperature", "top_p", "top_k", "min_p",
                     "repetition_penalty", "stop_token_ids", "stop_strings")


@dataclass
class _Generating:
    """Generation and reward settings (a mixin of the three configs)."""

    max_new_tokens: int = field(default=128, metadata={"help": "Completion length limit."})
    temperature: float = field(default=1.0, metadata={"help": "Sampling temperature (0 = greedy)."})
    top_p: float = field(default=1.0, metadata={"help": "Nucleus sampling mass."})
    top_k: int | None = field(default=None, metadata={"help": "Top-k sampling."})
    min_p: float | None = field(default=None, metadata={"help": "Min-p sampling."})
    repetition_penalty: float | None = field(default=None,
                                             metadata={"help": "Repetition penalty."})
    stop_token_ids: list[int] | None = field(default=None,
                                             metadata={"help": "End tokens beside EOS."})
    stop_strings: list[str] | None = field(default=None,
                                           metadata={"help": "Strings that end a completion."})
    reward_weights: list[float] | None = field(
        default=None, metadata={"help": "Weight of each reward function (default 1 each)."})
    normalize_rewards: bool = field(
        default=False, metadata={"help": "Scale the weighted reward sum to [0, 1]."})
    generation_batch_size: int = field(
        default=8, metadata={"help": "Prompts generated for at once."})

    def generation(self) -> Any:
        """The generation settings as the algorithm cores read them."""
        return SimpleNamespace(**{k: getattr(self, k) for k in GENERATION_FIELDS})


@dataclass
class _Rounds:
    num_rounds: int = field(default=1, metadata={"help": "Generate-score-train rounds."})
    num_samples_per_prompt: int = field(default=4,
                                        metadata={"help": "Completions per prompt."})


@dataclass
class RSSFTConfig(_Rounds, _Generating, SFTConfig):
    """Rejection-sampling SFT: each round's fine-tune is an `SFTTrainer` on this config."""

    reward_threshold: float = field(default=0.6,
                                    metadata={"help": "Keep samples whose reward exceeds this."})
    max_samples: int | None = field(default=None,
                                    metadata={"help": "Cap on the kept samples per round."})
    best_of_n: bool = field(default=False,
                            metadata={"help": "Keep only the best passing sample per prompt."})

    def block(self) -> Any:
        return SimpleNamespace(num_samples_per_prompt=self.num_samples_per_prompt,
                               reward_threshold=self.reward_threshold,
                               max_samples=self.max_samples)


@dataclass
class AWRConfig(_Rounds, _Generating, SFTConfig):
    """Advantage-weighted regression: each round's fine-tune is a `WeightedSFTTrainer`."""

    advantage_beta: float = field(default=5.0, metadata={"help": "Advantage temperature."})
    normalize_advantage: bool = field(default=True,
                                      metadata={"help": "Divide advantages by their std."})
    clip_advantage: float = field(default=10.0, metadata={"help": "Maximum sample weight."})

    def block(self) -> Any:
        return SimpleNamespace(num_samples_per_prompt=self.num_samples_per_prompt,
                               advantage_beta=self.advantage_beta,
                               normalize_advantage=self.normalize_advantage,
                               clip_advantage=self.clip_advantage)


@dataclass
class PPOConfig(_Generating, TrainingArguments):
    """PPO: `max_steps` policy updates of `per_device_train_batch_size x
    gradient_accumulation_steps` prompts each (one completion per prompt)."""

    ppo_epochs: int = field(default=4, metadata={"help": "PPO epochs per batch."})
    clip_range: float = field(default=0.2, metadata={"help": "Clip epsilon."})
    vf_coef: float = field(default=0.5, metadata={"help": "Value loss coefficient."})
    ent_coef: float = field(default=0.01, metadata={"help": "Entropy bonus."})
    kl_penalty: str = field(default="kl", metadata={"help": "KL estimator."})
    init_kl_coef: float = field(default=0.05, metadata={"help": "Initial KL coefficient."})
    target_kl: float | None = field(default=0.1, metadata={"help": "Adaptive KL target."})
    adaptive_kl: bool = field(default=True, metadata={"help": "Adapt the KL coefficient."})
    gamma: float = field(default=0.99, metadata={"help": "Discount factor."})
    lam: float = field(default=0.95, metadata={"help": "GAE lambda."})
    mini_batch_size: int | None = field(default=None,
                                        metadata={"help": "Samples per PPO minibatch."})
    num_episodes: int | None = field(
        default=None, metadata={"help": "Episodes (prompts) in total when max_steps is -1."})

    def block(self) -> Any:
        return SimpleNamespace(
            ppo_epochs=self.ppo_epochs, clip_range=self.clip_range, vf_coef=self.vf_coef,
            ent_coef=self.ent_coef, kl_penalty=self.kl_penalty,
            init_kl_coef=self.init_kl_coef, target_kl=self.target_kl,
            adaptive_kl=self.adaptive_kl, gamma=self.gamma, lam=self.lam,
            mini_batch_size=self.mini_batch_size, seed=self.seed,
            max_num_steps=self.max_steps if self.max_steps > 0 else None,
            num_episodes=self.num_episodes)
