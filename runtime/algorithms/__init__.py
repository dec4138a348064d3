"""Algorithm cores that TRL 1.16 has no trainer for: RS-SFT, AWR (both on `SFTTrainer`)
and PPO (on transformers/TRL primitives). See `docs/algorithms.md`."""

from specc.runtime.algorithms.awr import WeightedSFTTrainer, advantages, awr_weights, run_awr
from specc.runtime.algorithms.ppo import PPOLoop, PPOResult, ValueHead, ppo_updates, run_ppo
from specc.runtime.algorithms.ppo_math import (
    AdaptiveKL,
    clipped_policy_loss,
    gae,
    kl_penalty,
    token_rewards,
    value_loss,
)
from specc.runtime.algorithms.rounds import AlgorithmResult, RoundMetrics, TrainerSetup
from specc.runtime.algorithms.rs_sft import run_rs_sft, select
from specc.runtime.algorithms.sampling import Sample, WeightedRewards

__all__ = [
    "AdaptiveKL",
    "AlgorithmResult",
    "PPOLoop",
    "PPOResult",
    "RoundMetrics",
    "Sample",
    "TrainerSetup",
    "ValueHead",
    "WeightedRewards",
    "WeightedSFTTrainer",
    "advantages",
    "awr_weights",
    "clipped_policy_loss",
    "gae",
    "kl_penalty",
    "ppo_updates",
    "run_awr",
    "run_ppo",
    "run_rs_sft",
    "select",
    "token_rewards",
    "value_loss",
]
