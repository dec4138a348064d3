"""Batch arithmetic: global = micro x grad accumulation x data-parallel world, and GRPO's
rollout divisibility (TRL's rule). Hints name the nearest values that fix it.

The data-parallel world is GPUs / (tensor x pipeline x context parallel), from
`spec.parallel`: with model parallelism the messages name the replicas and the sizes."""

from __future__ import annotations

import math

from specc.spec.diagnostics import Severity
from specc.spec.facts import ROLLOUTS
from specc.spec.parallel import Parallel, parallel
from specc.spec.rules.context import Context


def _near_multiples(value: int, unit: int) -> list[int]:
    """The multiples of ``unit`` just below and above ``value`` (positive only)."""
    lo = (value // unit) * unit
    hi = lo + unit
    return [v for v in (lo, hi) if v > 0 and v != value]


def _divisors(of: int) -> list[int]:
    """All divisors of ``of`` (trial division up to its square root)."""
    small, large = [], []
    d = 1
    while d * d <= of and d <= 10**6:
        if of % d == 0:
            small.append(d)
            if d != of // d:
                large.append(of // d)
        d += 1
    return small + large[::-1]


def _divisors_near(value: int, of: int) -> list[int]:
    """Divisors of ``of`` nearest to ``value`` (one at or below, one above)."""
    divs = _divisors(of)
    below = [d for d in divs if d <= value]
    above = [d for d in divs if d > value]
    out = ([below[-1]] if below else []) + ([above[0]] if above else [])
    return [d for d in out if d != value]


def _fmt(values: list[int]) -> str:
    return " or ".join(str(v) for v in values)


def _world(par: Parallel) -> str:
    """"8 GPUs", or "2 data-parallel replicas (8 GPUs / tensor 2 x context 2 parallel)"."""
    n = par.gpus
    gpus = f"{n} GPU" + ("s" if n != 1 else "")
    if par.model == 1:
        return gpus
    d = par.data
    return (f"{d} data-parallel replica" + ("s" if d != 1 else "")
            + f" ({gpus} / {par.describe()})")


def _model_parallel(ctx: Context, par: Parallel) -> bool:
    """B006: the GPUs do not split into whole model replicas. True when the rest of the
    arithmetic can be checked."""
    if par.divides:
        return True
    keys = par.keys()
    dim, key = next(iter(keys.items()))
    size = getattr(par, dim)
    rest = par.model // size
    fits = [d for d in _divisors(par.gpus) if par.gpus % (d * rest) == 0]
    near = _divisors_near(size, par.gpus // rest) if par.gpus % rest == 0 else []
    fixes = [f"`{key.rsplit('.', 1)[1]}` {_fmt(near or fits[:2])}"] if (near or fits) else []
    ctx.diags.add("B006", f"{par.gpus} GPUs do not split into model replicas of "
                  f"{par.model} GPUs ({par.describe()})", path=tuple(key.split(".")),
                  hint="use " + ", or ".join(
                      [*fixes, f"a GPU count that is a multiple of {par.model}"]))
    return False


def check(ctx: Context) -> None:
    pol = ctx.spec.policy
    par = parallel(ctx.spec)
    if not _model_parallel(ctx, par):
        _grpo(ctx)
        return
    g, m, w = pol.train_global_batch_size, pol.train_micro_batch_size, par.data
    gpus = _world(par)
    if m * w > g:
        ctx.diags.add("B004", f"micro batch {m} x {gpus} = {m * w} is more than the global "
                      f"batch {g}", path=("policy", "train_micro_batch_size"),
                      hint=f"set train_micro_batch_size to at most {max(g // w, 1)}, or raise "
                      f"train_global_batch_size to {m * w}")
    elif g % (m * w):
        fixes = [f"train_global_batch_size {_fmt(_near_multiples(g, m * w))}"]
        if g % w == 0:
            micro = _divisors_near(m, g // w)
            if micro:
                ga = ", ".join(f"{g // (d * w)}" for d in micro)
                fixes.append(f"train_micro_batch_size {_fmt(micro)} (grad accumulation {ga})")
        ctx.diags.add("B001", f"global batch {g} is not micro batch {m} x grad accumulation x "
                      f"{gpus}: {g} / {m * w} = {g / (m * w):g}",
                      path=("policy", "train_global_batch_size"),
                      hint="use " + ", or ".join(fixes))
    _grpo(ctx)
    _cluster(ctx)


def _grpo(ctx: Context) -> None:
    algo = ctx.algorithm
    if algo not in ROLLOUTS:
        return
    block = ctx.spec.grpo if algo == "grpo" else ctx.spec.rloo
    if block is None or ctx.spec.layout != "specc":
        return  # a TRL CLI / seed 002 config: TRL's own generation-batch rules (S006) hold
    g = ctx.spec.policy.train_global_batch_size
    p, n = block.num_prompts_per_step, block.num_generations_per_prompt
    rollouts = p * n
    if g % n:
        fixes = [f"train_global_batch_size {_fmt(_near_multiples(g, n))}"]
        gens = [d for d in _divisors_near(n, g) if d >= 2]
        if gens:
            fixes.append(f"num_generations_per_prompt {_fmt(gens)}")
        # TRL's rule; NeMo RL's own backends (DTensor, Megatron) shuffle rollouts into
        # global batches and do not need it: there it is a warning for `specc run`
        nemo = _nemo_backend(ctx)
        ctx.diags.add("B003", f"global batch {g} does not divide by num_generations_per_prompt "
                      f"{n}: each prompt's {n} completions must land in the same global batch"
                      + (" (TRL's rule, for `specc run`; NeMo RL does not need it)" if nemo
                         else ""),
                      path=("policy", "train_global_batch_size"),
                      hint="use " + ", or ".join(fixes),
                      severity=Severity.WARNING if nemo else None)
    if rollouts % g:
        # smallest prompts-per-step around p that makes rollouts a multiple of g
        unit = g // math.gcd(g, n)  # prompts per step must be a multiple of this
        below = (p // unit) * unit
        above = below + unit
        prompts = [q for q in (below, above) if q > 0 and q != p]
        fixes = [f"num_prompts_per_step {_fmt(prompts)}"]
        globals_ = [d for d in _divisors_near(g, rollouts) if d % n == 0]
        if globals_:
            fixes.append(f"train_global_batch_size {_fmt(globals_)}")
        ctx.diags.add("B002", f"{p} prompts x {n} generations = {rollouts} rollouts per step, "
                      f"not a multiple of the global batch {g}",
                      path=(algo, "num_prompts_per_step"), hint="use " + ", or ".join(fixes))


def _nemo_backend(ctx: Context) -> bool:
    pol = ctx.spec.policy
    return any(isinstance(b, dict) and b.get("enabled") is True
               for b in (pol.dtensor_cfg, pol.megatron_cfg))


def _cluster(ctx: Context) -> None:
    if ctx.point:
        return
    hw, cl = ctx.spec.hardware, ctx.spec.cluster
    if cl is None:
        return
    for key in ("gpus_per_node", "num_nodes"):
        a, b = getattr(hw, key), getattr(cl, key)
        if a is not None and b is not None and a != b:
            ctx.diags.add("B005", f"hardware.{key} is {a} but cluster.{key} is {b}; "
                          "specc uses hardware's", path=("cluster", key),
                          hint="keep one of them, or make them agree")
