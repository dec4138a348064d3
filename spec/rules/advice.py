"""Advice ranges from the seed guides: info and warnings, never errors."""

from __future__ import annotations

from specc.spec.locations import Path
from specc.spec.records import record
from specc.spec.rules.context import Context


@record(frozen=True)
class Range:
    """A recommended range for one key of one algorithm block (seed 003 tables)."""

    algorithm: str
    key: str
    low: float
    high: float
    why: str


#: Recommended ranges (seed 003 "Tuning Guide" tables and seed 002 key parameters).
RANGES: tuple[Range, ...] = (
    Range("orpo", "beta", 0.05, 0.2, "seed 003 recommends 0.05-0.2 for the odds-ratio weight"),
    Range("awr", "advantage_beta", 1.0, 10.0,
          "seed 003: above 10 risks overfitting to outliers"),
    Range("ppo", "clip_range", 0.1, 0.3, "seed 003 recommends 0.1-0.3"),
    Range("ppo", "ent_coef", 0.001, 0.1, "seed 003 recommends 0.001-0.1"),
    Range("ppo", "init_kl_coef", 0.01, 0.1, "seed 003 recommends 0.01-0.1"),
    Range("ppo", "ppo_epochs", 2, 8, "seed 003 recommends 2-8"),
    Range("grpo", "num_generations_per_prompt", 4, 16,
          "seed 002: 4-16; fewer is noisy, more is slow"),
    Range("grpo", "num_iterations", 1, 8, "seed 003 uses 4 PPO-style epochs; more overfits"),
)


def check(ctx: Context) -> None:
    if ctx.point:
        return
    spec = ctx.spec
    algo = ctx.algorithm
    block = spec.block()
    if algo == "dpo" and spec.dpo is not None:
        beta = spec.dpo.reference_policy_kl_penalty
        path: Path = ("dpo", "reference_policy_kl_penalty")
        if beta > 0.5:
            ctx.diags.add("A001", f"DPO beta {beta:g} > 0.5: risk of instability", path=path,
                          hint="seed 003: start at 0.1; 0.05-0.2 is the usual range")
        elif beta < 0.01:
            ctx.diags.add("A001", f"DPO beta {beta:g} < 0.01 gives a very weak preference signal",
                          path=path, severity=None,
                          hint="seed 003: 0.01-0.05 only for gentle refinement of a good model")
    for r in RANGES:
        if r.algorithm != algo or block is None:
            continue
        value = getattr(block, r.key, None)
        if isinstance(value, int | float) and not r.low <= value <= r.high:
            ctx.diags.add("A005", f"{r.algorithm}.{r.key} = {value:g} is outside {r.low:g}-"
                          f"{r.high:g}", path=(r.algorithm, r.key), hint=r.why)
    lora = spec.policy.lora
    if lora.enabled and abs(lora.alpha - 2 * lora.r) > 1e-9:
        ctx.diags.add("A002", f"LoRA alpha {lora.alpha:g} is not 2 x r ({2 * lora.r})",
                      path=("policy", "lora", "alpha"),
                      hint="seed 003: alpha = 2 x r is standard; change it only when "
                      "experimenting")
    _lr(ctx)
    if algo == "grpo" and spec.loss_fn is not None:  # seed 003's advice is for GRPO
        kl = spec.loss_fn.reference_policy_kl_penalty
        if kl > 0.1:
            ctx.diags.add("A004", f"GRPO KL beta {kl:g} > 0.1 keeps the policy very close to "
                          "the reference", path=("loss_fn", "reference_policy_kl_penalty"),
                          hint="seed 002: 0.001-0.1; 0 disables the reference model")
    mgn = spec.policy.max_grad_norm
    if ctx.written(("policy", "max_grad_norm")) and (mgn is None or mgn == 0):
        ctx.diags.add("A006", "gradient clipping is disabled", path=("policy", "max_grad_norm"),
                      hint="seed 003 clips at 1.0 (0.5 when training is unstable)")
    elif mgn is not None and mgn > 5:
        ctx.diags.add("A006", f"max_grad_norm {mgn:g} barely clips (seed 003 treats norms "
                      "above 5 as a warning sign)", path=("policy", "max_grad_norm"),
                      hint="use 1.0")


#: Typical learning rates per algorithm (seed 003 stages; seed 002 key parameters).
LR_RANGES: dict[str, tuple[float, float]] = {
    "sft": (1e-6, 5e-4), "dpo": (1e-7, 1e-4), "orpo": (1e-7, 1e-4), "kto": (1e-7, 1e-4),
    "grpo": (1e-7, 5e-4), "rloo": (1e-7, 5e-4), "rs_sft": (1e-7, 1e-4), "awr": (1e-7, 1e-4),
    "ppo": (1e-7, 5e-5),
}


def _lr(ctx: Context) -> None:
    lr = ctx.spec.policy.optimizer.kwargs.get("lr")
    algo = ctx.algorithm
    if algo is None or isinstance(lr, bool) or not isinstance(lr, int | float) or lr <= 0:
        return
    lo, hi = LR_RANGES[algo]
    if not lo <= lr <= hi:
        ctx.diags.add("A003", f"learning rate {lr:g} is outside the typical {lo:g}-{hi:g} for "
                      f"{algo}", path=("policy", "optimizer", "kwargs", "lr"),
                      hint="seed 003: 5e-6 for ORPO/DPO, 3e-6 for RS-SFT/AWR, 1e-6 for PPO/GRPO "
                      "with LoRA on 7B models")
