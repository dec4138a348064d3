"""Optimizer and scheduler names (allow-list) and their kwargs (recorded signatures)."""

from __future__ import annotations

import itertools
from typing import Any

from specc.spec.catalog import optim as catalog
from specc.spec.locations import Path
from specc.spec.models.policy import SchedulerMilestones, SchedulerStep, ShortScheduler
from specc.spec.rules.context import Context
from specc.spec.schema_check import close_matches

#: Names from Hugging Face TrainingArguments and other tools, and the torch argument.
KWARG_ALIASES: dict[str, str] = {
    "learning_rate": "lr", "epsilon": "eps", "adam_epsilon": "eps", "adam_eps": "eps",
    "beta1": "betas", "beta2": "betas", "adam_beta1": "betas", "adam_beta2": "betas",
    "wd": "weight_decay", "decay": "weight_decay",
}


def check(ctx: Context) -> None:
    _optimizer(ctx)
    _scheduler(ctx)


def _kwargs(ctx: Context, sig: catalog.Signature, kwargs: dict[str, Any], at: Path) -> None:
    names = [p.name for p in sig.params]
    for name, kind, message in catalog.check_kwargs(sig, kwargs):
        path = (*at, name)
        short = sig.qualname.rsplit(".", 1)[-1]
        if kind == "unknown":
            if ctx.point:
                continue
            alias = KWARG_ALIASES.get(name)
            close = [alias] if alias in names else close_matches(
                name, names, n=1, cutoff=0.6)
            ctx.diags.add("O002", f"{short} has no argument `{name}`", path=path, on_key=True,
                          hint=f"did you mean `{close[0]}`?" if close else
                          "accepted: " + ", ".join(names))
        elif kind == "missing":
            ctx.diags.add("O008", f"{short} needs `{name}`", path=at,
                          hint=f"add `{name}:` to the kwargs")
        else:
            value = kwargs.get(name)
            quoted = isinstance(value, str) and _numeric(value)
            ctx.diags.add("O003", f"{short}: {message}", path=path,
                          hint="write the number without quotes" if quoted else
                          _param_hint(sig, name))


def _numeric(s: str) -> bool:
    try:
        float(s)
    except ValueError:
        return False
    return True


def _param_hint(sig: catalog.Signature, name: str) -> str:
    p = next((p for p in sig.params if p.name == name), None)
    if p is None:
        return "check the value"
    return p.doc or f"`{name}` takes a {p.kind.replace('_', ' ')}"


def _optimizer(ctx: Context) -> None:
    opt = ctx.spec.policy.optimizer
    sig = catalog.lookup_optimizer(opt.name)
    if sig is None:
        if not ctx.point and _nemo_backend(ctx) and not close_name(opt.name):
            ctx.diags.add("W007", f"optimizer `{opt.name}` is not on specc's allow-list: NeMo RL "
                          "imports it, specc cannot check it (and `specc run` refuses it)",
                          path=("policy", "optimizer", "name"),
                          hint="fine for NeMo RL; for a specc run use one of: "
                          + ", ".join(catalog.OPTIMIZERS))
        elif not ctx.point:
            close = close_matches(opt.name, list(catalog.OPTIMIZERS), n=1, cutoff=0.5)
            ctx.diags.add("O001", f"optimizer `{opt.name}` is not on specc's allow-list",
                          path=("policy", "optimizer", "name"),
                          hint=f"did you mean `{close[0]}`?" if close else
                          "allowed: " + ", ".join(catalog.OPTIMIZERS))
        return
    _kwargs(ctx, sig, opt.kwargs, ("policy", "optimizer", "kwargs"))


def _scheduler(ctx: Context) -> None:
    sched = ctx.spec.policy.scheduler
    steps = ctx.total_steps()
    if isinstance(sched, ShortScheduler):
        _short(ctx, sched, steps)
        return
    if not sched:
        return
    entries = [(i, e) for i, e in enumerate(sched) if isinstance(e, SchedulerStep)]
    milestones = [(i, e) for i, e in enumerate(sched) if isinstance(e, SchedulerMilestones)]
    base = ("policy", "scheduler")
    for i, e in entries:
        sig = catalog.lookup_scheduler(e.name)
        if sig is None:
            if not ctx.point:
                close = close_matches(e.name, list(catalog.SCHEDULERS), n=1,
                                                  cutoff=0.5)
                ctx.diags.add("O004", f"scheduler `{e.name}` is not on specc's allow-list",
                              path=(*base, i, "name"),
                              hint=f"did you mean `{close[0]}`?" if close else
                              "allowed: " + ", ".join(catalog.SCHEDULERS))
            continue
        _kwargs(ctx, sig, e.kwargs, (*base, i, "kwargs"))
    if len(milestones) > 1:
        ctx.diags.add("O005", "the scheduler list has more than one `milestones` entry",
                      path=(*base, milestones[1][0]), hint="keep one, as the last entry")
    if milestones and milestones[0][0] != len(sched) - 1:
        ctx.diags.add("O005", "`milestones` must be the last entry of the scheduler list",
                      path=(*base, milestones[0][0]), hint="move it to the end")
    if len(entries) > 1 and not milestones:
        ctx.diags.add("O005", f"{len(entries)} schedulers but no `milestones` entry", path=base,
                      hint=f"add `- milestones: [...]` with {len(entries) - 1} step(s)")
    if milestones:
        idx, ms = milestones[0]
        values = ms.milestones
        if len(values) != len(entries) - 1:
            ctx.diags.add("O005", f"{len(entries)} scheduler(s) need {len(entries) - 1} "
                          f"milestone(s), got {len(values)}", path=(*base, idx, "milestones"),
                          hint="len(milestones) must be the number of schedulers minus one")
        if any(b <= a for a, b in itertools.pairwise(values)):
            ctx.diags.add("O006", "milestones must increase", path=(*base, idx, "milestones"),
                          hint="sort them and remove duplicates")
        if values and steps is not None and values[0] >= steps and not ctx.point:
            ctx.diags.add("O007", f"the first scheduler runs until step {values[0]}, but "
                          f"training stops after {steps} steps", path=(*base, idx, "milestones"),
                          hint=f"use a milestone below {steps}, e.g. {max(steps // 10, 1)}")
    elif entries and steps is not None:
        _first_warmup(ctx, entries[0][1], steps, (*base, entries[0][0]))


def _first_warmup(ctx: Context, e: SchedulerStep, steps: int, at: Path) -> None:
    if e.name.rsplit(".", 1)[-1] == "LinearLR":
        total = e.kwargs.get("total_iters", 5)
        if isinstance(total, int) and total >= steps:
            ctx.diags.add("O007", f"LinearLR warms up for {total} steps, but training stops "
                          f"after {steps}", path=(*at, "kwargs", "total_iters"),
                          hint=f"use total_iters below {steps}, e.g. {max(steps // 10, 1)}")


def _short(ctx: Context, s: ShortScheduler, steps: int | None) -> None:
    if s.warmup_steps is not None and steps is not None and s.warmup_steps >= steps:
        ctx.diags.add("O007", f"warmup_steps {s.warmup_steps} is not shorter than training "
                      f"({steps} steps)", path=("policy", "scheduler", "warmup_steps"),
                      hint=f"use warmup_steps below {steps}, or warmup_ratio 0.1")


def close_name(name: str) -> bool:
    """Whether ``name`` looks like a misspelt allow-listed optimizer."""
    return bool(close_matches(name, list(catalog.OPTIMIZERS), n=1, cutoff=0.8))


def _nemo_backend(ctx: Context) -> bool:
    """The policy is trained by NeMo RL's DTensor or Megatron backend (it imports the
    optimizer by name)."""
    pol = ctx.spec.policy
    return any(isinstance(b, dict) and b.get("enabled") is True
               for b in (pol.dtensor_cfg, pol.megatron_cfg))
