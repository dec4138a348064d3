"""Lowering of RS-SFT, AWR and PPO to specc's own trainers and configs
(`specc.runtime.algorithms.configs`): each config field comes from one spec key.

RS-SFT and AWR fine-tune once per round: `max_steps` (`max_num_steps` or
`hpo.evaluation.max_steps`) and `num_train_epochs` (`max_num_epochs`, default 1) apply per
round, and evaluation (`eval_reward`) runs after each round, so the inner `SFTTrainer`
gets `eval_strategy: no`. PPO makes `max_steps` updates (`max_num_steps`, else
`num_episodes` over the batch) and evaluates every `val_period` updates and at the end.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from specc.compiler.derive import Derived
    from specc.spec.models import Spec


def _generating(spec: Spec, d: Derived, cfg: Any) -> None:
    gen = spec.policy.generation
    if gen is not None:
        cfg.put("max_new_tokens", gen.max_new_tokens)
        cfg.put("temperature", gen.temperature)
        cfg.put("top_p", gen.top_p)
        cfg.put("top_k", gen.top_k)
        cfg.put("min_p", gen.min_p)
        cfg.put("repetition_penalty", gen.repetition_penalty)
        cfg.put("stop_token_ids", list(gen.stop_token_ids) if gen.stop_token_ids else None)
        cfg.put("stop_strings", list(gen.stop_strings) if gen.stop_strings else None)
    if spec.reward is not None and spec.reward.functions:
        cfg.put("reward_weights", [f.weight for f in spec.reward.functions])
        cfg.put("normalize_rewards", spec.reward.normalize)
    cfg.put("generation_batch_size", prompts_per_call(spec, d.micro_batch_size))


def prompts_per_call(spec: Spec, micro: int) -> int:
    """Prompts one `generate` call takes: `val_micro_batch_size`, else as many as make a
    micro batch of sequences (`num_samples_per_prompt` each for RS-SFT/AWR)."""
    block = spec.block()
    val = getattr(block, "val_micro_batch_size", None)
    n = int(getattr(block, "num_samples_per_prompt", 1) or 1)
    return int(val) if val else max(micro // n, 1)


def _per_round(spec: Spec, d: Derived, cfg: Any) -> None:
    block = spec.block()
    cap = (spec.hpo.evaluation.max_steps if spec.hpo and spec.hpo.evaluation.max_steps
           else getattr(block, "max_num_steps", None))
    cfg["max_steps"] = cap if cap is not None else -1
    cfg["num_train_epochs"] = float(getattr(block, "max_num_epochs", None) or 1)
    cfg["eval_strategy"] = "no"  # the driver evaluates after each round
    cfg.pop("eval_steps", None)
    cfg.put("max_length", spec.policy.max_total_sequence_length)
    cfg.put("num_rounds", getattr(block, "num_rounds", 1))
    cfg.put("num_samples_per_prompt", getattr(block, "num_samples_per_prompt", None))


def _rs_sft(spec: Spec, d: Derived, cfg: Any, out: Any) -> None:
    _generating(spec, d, cfg)
    _per_round(spec, d, cfg)
    b = spec.rs_sft
    if b is not None:
        cfg.put("reward_threshold", b.reward_threshold)
        cfg.put("max_samples", b.max_samples)
        cfg.put("best_of_n", b.best_of_n)


def _awr(spec: Spec, d: Derived, cfg: Any, out: Any) -> None:
    _generating(spec, d, cfg)
    _per_round(spec, d, cfg)
    b = spec.awr
    if b is not None:
        cfg.put("advantage_beta", b.advantage_beta)
        cfg.put("normalize_advantage", b.normalize_advantage)
        cfg.put("clip_advantage", b.clip_advantage)


def _ppo(spec: Spec, d: Derived, cfg: Any, out: Any) -> None:
    _generating(spec, d, cfg)
    b = spec.ppo
    if b is None:
        return
    for key in ("ppo_epochs", "clip_range", "vf_coef", "ent_coef", "kl_penalty",
                "init_kl_coef", "target_kl", "adaptive_kl", "gamma", "lam",
                "mini_batch_size", "num_episodes"):
        cfg.put(key, getattr(b, key))
    if b.target_kl is None:  # a fixed coefficient: put() drops None, so say it
        cfg["target_kl"] = None


OWN_ALGORITHMS = {"rs_sft": _rs_sft, "awr": _awr, "ppo": _ppo}
