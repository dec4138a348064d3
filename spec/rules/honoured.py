"""Keys specc accepts but its trainers cannot honour: a warning naming each one set.

`NOT_HONOURED` is the one list of such algorithm-block keys (`tests/test_key_coverage.py`
walks every key of every algorithm block and checks each is lowered or listed here).
W015: an algorithm key the selected trainer ignores (`grpo.max_rollout_turns: 3`,
`ppo.max_episode_length: 5`, validation keys, NeMo RL-only settings); W016: a generation
backend `specc run` cannot use; W017: a NeMo RL `env` block (multi-turn environments)
that specc's generating trainers do not roll out.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from specc.spec.facts import GENERATES
from specc.spec.records import record
from specc.spec.rules.context import Context

_TRL = ("sft", "dpo", "orpo", "kto", "grpo", "rloo")
_ROUNDS = ("rs_sft", "awr")
_ALL = (*_TRL, *_ROUNDS, "ppo")


@record(frozen=True)
class Unhonoured:
    """One key of some algorithm blocks that their trainers do not read."""

    key: str
    algorithms: tuple[str, ...]
    why: str
    #: Whether the written value asks for something the trainer does not do.
    asks: Callable[[Any], bool] = lambda v: True


NOT_HONOURED: tuple[Unhonoured, ...] = (
    Unhonoured("val_batches", _ALL, "evaluation always runs over the whole validation split"),
    Unhonoured("val_global_batch_size", _ALL,
               "the evaluation batch is `val_micro_batch_size` per device"),
    Unhonoured("val_at_start", _ALL, "no evaluation runs before the first step",
               lambda v: v is True),
    Unhonoured("val_period", _ROUNDS,
               "RS-SFT and AWR evaluate after every round, not every N steps"),
    Unhonoured("max_prompt_length", ("dpo", "orpo", "kto"),
               "TRL 1.16's trainers have no prompt-length limit (only `max_length`); "
               "the memory estimate still reads it"),
    Unhonoured("preference_average_log_probs", ("dpo",),
               "TRL's DPO sums token log-probs", lambda v: v is True),
    Unhonoured("sft_average_log_probs", ("dpo",),
               "TRL's DPO sums token log-probs", lambda v: v is True),
    Unhonoured("gt_reward_scale", ("dpo",), "TRL's DPOTrainer has no RPO reward scale"),
    Unhonoured("max_rollout_turns", ("grpo",),
               "TRL's GRPOTrainer rolls out one turn per prompt (no multi-turn rollouts)",
               lambda v: isinstance(v, int) and v > 1),
    Unhonoured("use_leave_one_out_baseline", ("grpo",),
               "TRL's GRPOTrainer baselines with the mean of the whole group (use `rloo` "
               "for a leave-one-out baseline)", lambda v: v is True),
    Unhonoured("val_batch_size", ("grpo",),
               "the evaluation batch is `val_micro_batch_size` per device"),
    Unhonoured("max_val_samples", ("grpo",),
               "evaluation uses the whole validation split (cap it with "
               "`data.validation.max_samples`)"),
    Unhonoured("async_grpo", ("grpo",), "TRL's GRPOTrainer generates synchronously",
               lambda v: isinstance(v, dict) and v.get("enabled") is not False),
    Unhonoured("max_episode_length", ("ppo",),
               "specc's PPO episode is one completion (one turn)",
               lambda v: isinstance(v, int) and v > 1),
)


def unhonoured(algorithm: str) -> dict[str, Unhonoured]:
    """The listed keys of one algorithm's block."""
    return {u.key: u for u in NOT_HONOURED if algorithm in u.algorithms}


def check(ctx: Context) -> None:
    if ctx.point:
        return
    algo = ctx.algorithm
    if algo is None:
        return
    block = ctx.data.get(algo)
    searched = set(ctx.spec.hpo.search_space) if ctx.spec.hpo else set()
    for key, u in unhonoured(algo).items():
        dotted = f"{algo}.{key}"
        value = block.get(key) if isinstance(block, dict) else None
        written = isinstance(block, dict) and key in block
        if (written and u.asks(value)) or dotted in searched:
            shown = f"`{dotted}: {_show(value)}`" if written else f"`{dotted}`"
            ctx.diags.add("W015", f"{shown} is not honoured by `specc run`: {u.why}",
                          path=(algo, key) if written else ("hpo", "search_space", dotted),
                          on_key=True, hint=f"remove `{key}` (it is accepted for NeMo RL "
                          "compatibility and planning)")
    if algo == "ppo":
        _ppo_policy(ctx)
    gen = ctx.spec.policy.generation
    # vLLM is TRL's to use (GRPO, RLOO: `use_vllm`), where it is installed with a CUDA GPU
    # (else `specc run` stops first, N032); specc's own trainers generate with `hf` only
    vllm_ok = gen is not None and gen.backend == "vllm" and algo in ("grpo", "rloo")
    if algo in GENERATES and gen is not None and gen.backend != "hf" and not vllm_ok:
        ctx.diags.add("W016", f"`policy.generation.backend: {gen.backend}` cannot be used "
                      f"by `specc run` for `{algo}`: it generates with `hf` (transformers' "
                      "generate)" + (", and with vLLM only for grpo and rloo (TRL's "
                                     "`use_vllm`)" if gen.backend == "vllm" else ""),
                      path=("policy", "generation", "backend"),
                      hint="set `backend: hf` to train with specc (`specc run` refuses "
                      "it, N015/N032)")
    if algo in GENERATES and ctx.written(("env",)):
        ctx.diags.add("W017", f"`env` is not used by `specc run`: `{algo}` scores each "
                      "single-turn completion with `reward.functions`; NeMo RL environments "
                      "(multi-turn or not) are not rolled out", path=("env",), on_key=True,
                      hint="score with `reward.functions` and remove `env:`")


def _ppo_policy(ctx: Context) -> None:
    """PPO's loop steps AdamW at a constant learning rate (`docs/algorithms.md`)."""
    from specc.spec.catalog.optim import lookup_optimizer
    from specc.spec.models.policy import ShortScheduler

    pol = ctx.spec.policy
    sched = pol.scheduler
    constant = isinstance(sched, ShortScheduler) and sched.type == "constant" and not (
        sched.warmup_steps or sched.warmup_ratio)
    if ctx.written(("policy", "scheduler")) and sched is not None and not constant:
        ctx.diags.add("W015", "`policy.scheduler` is not honoured by `specc run` for PPO: its "
                      "loop keeps the learning rate constant", path=("policy", "scheduler"),
                      on_key=True, hint="remove `scheduler:` (PPO steps AdamW at `lr`)")
    sig = lookup_optimizer(pol.optimizer.name)
    name = sig.qualname if sig else pol.optimizer.name
    extra = sorted(set(pol.optimizer.kwargs) - {"lr", "weight_decay", "betas", "eps", "fused",
                                                 "foreach"})
    if name != "torch.optim.AdamW" or extra:
        what = f"`{pol.optimizer.name}`" if name != "torch.optim.AdamW" else \
            "keyword " + ", ".join(f"`{k}`" for k in extra)
        ctx.diags.add("W015", f"`policy.optimizer` {what} is not honoured by `specc run` for "
                      "PPO: its loop steps torch.optim.AdamW (`lr`, `weight_decay`, `betas`, "
                      "`eps`, `fused`)",
                      path=("policy", "optimizer"), on_key=True,
                      hint="use `name: torch.optim.AdamW` with those keywords")


def _show(value: Any) -> str:
    text = str(value).lower() if isinstance(value, bool) else str(value)
    return text if len(text) <= 40 else text[:37] + "..."
