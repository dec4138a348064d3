"""Rules about how a run is kept and judged: checkpointing, health rules, objectives."""

from __future__ import annotations

from typing import Any

from specc.spec.health import BY_FIELD
from specc.spec.rules.context import Context


def check(ctx: Context) -> None:
    if ctx.point:
        return
    _checkpointing(ctx)
    _health(ctx)


def _checkpointing(ctx: Context) -> None:
    ckpt = ctx.spec.checkpointing
    if ckpt is None or not ckpt.enabled:
        return
    if ckpt.checkpoint_dir is not None:
        ctx.diags.add("W020", f"`checkpointing.checkpoint_dir` ({ckpt.checkpoint_dir}) is not "
                      "used: specc keeps each trial's checkpoints in the trial's folder "
                      "(trials/<n>/hf/checkpoint-<step>), where a retried trial finds them",
                      path=("checkpointing", "checkpoint_dir"), on_key=True,
                      hint="remove `checkpoint_dir`; pass `--output` to place the run")


def _health(ctx: Context) -> None:
    """W021: a threshold written for an algorithm its rule does not watch."""
    algo = ctx.algorithm
    if algo is None:
        return
    for base in (("health",), ("hpo", "health")):
        node: Any = ctx.data
        for k in base:
            node = node.get(k) if isinstance(node, dict) else None
        if not isinstance(node, dict):
            continue
        _unwatched(ctx, base, node, str(algo))
        per = node.get("by_algorithm")
        if isinstance(per, dict) and isinstance(per.get(algo), dict):
            _unwatched(ctx, (*base, "by_algorithm", str(algo)), per[algo], str(algo))


def _unwatched(ctx: Context, at: tuple[str, ...], node: dict[str, Any], algo: str) -> None:
    for key in node:
        rule = BY_FIELD.get(key)
        if rule is None or algo in rule.algorithms:
            continue
        watched = ", ".join(sorted(rule.algorithms))
        ctx.diags.add("W021", f"`{key}` has no effect for `{algo}`: the {rule.what} rule "
                      f"watches {watched} only", path=(*at, key), on_key=True,
                      hint=f"remove it; an instruct model's {rule.what} under {algo} is no "
                      "sign of trouble" if rule.what in ("entropy", "kl") else "remove it")
