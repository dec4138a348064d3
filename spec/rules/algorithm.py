"""Which algorithm runs, and whether the blocks it needs are there."""

from __future__ import annotations

from specc.spec.facts import GENERATES
from specc.spec.models.root import ALGORITHMS
from specc.spec.rules.context import Context


def check(ctx: Context) -> None:
    spec = ctx.spec
    present = [a for a in ALGORITHMS if getattr(spec, a) is not None]
    algo = spec.selected()
    if algo is None and ctx.nemo_only and not present:
        return  # a NeMo RL algorithm specc validates but does not train (R033)
    if algo is None:
        if present:
            ctx.diags.add("N006", "several algorithm blocks (" + ", ".join(present)
                          + ") and no `algorithm` key", path=(present[0],), on_key=True,
                          hint=f"add `algorithm: {present[0]}` (or remove the other blocks)")
        elif not any(d.code == "R037" for d in ctx.diags):  # a TRL config said why
            ctx.diags.add("N006", "no algorithm: neither an `algorithm` key nor an algorithm "
                          "block", path=(), hint="add `algorithm: dpo` (or sft, grpo, ...)")
        return
    if ctx.point:
        return
    for other in present:
        if other != algo:
            ctx.diags.add("W002", f"`{other}` block has no effect: the algorithm is `{algo}`",
                          path=(other,), on_key=True,
                          hint=f"remove `{other}:` or set `algorithm: {other}`")
    # NeMo RL configs score rollouts in their `env` block (carried through); only a spec
    # without either has nothing to score with.
    if algo in GENERATES and (spec.reward is None or not spec.reward.functions) \
            and spec.env is None:
        ctx.diags.add("N007", f"`{algo}` scores its generations with reward functions, and none "
                      "are given", path=("reward",) if ctx.written(("reward",)) else (),
                      hint="add `reward: {functions: [{name: specc.rewards:exact_match}]}`")
    if algo not in GENERATES and spec.reward is not None and spec.reward.functions:
        ctx.diags.add("W003", f"`reward` has no effect: `{algo}` does not generate", path=(
            "reward",), on_key=True, hint="remove `reward:` or pick grpo/rloo")
    # only GRPO's lowering reads `loss_fn` (RLOO has its own KL key; PPO's clipping and KL
    # are `ppo.clip_range` and `ppo.init_kl_coef`)
    if algo != "grpo" and ctx.written(("loss_fn",)):
        ctx.diags.add("W003", f"`loss_fn` has no effect: it configures GRPO, the "
                      f"algorithm is `{algo}`", path=("loss_fn",), on_key=True,
                      hint="remove `loss_fn:`" + (" and set `ppo.clip_range`/`ppo.init_kl_coef`"
                                                  if algo == "ppo" else ""))
