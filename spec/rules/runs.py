"""Rules about how a run is kept and judged: checkpointing, health rules, objectives."""

from __future__ import annotations

from typing import Any

from specc.spec.health import BY_FIELD
from specc.spec.metrics import ALIASES, METRICS
from specc.spec.objective import ObjectiveError, parse, reward_components
from specc.spec.rules.context import Context
from specc.spec.schema_check import close_matches


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


def reported(ctx: Context) -> frozenset[str]:
    """The metrics a trial of this spec reports: the algorithm's, and for reward functions
    each one's `rewards/<fn>/mean|std` (TRL logs them beside the weighted sum)."""
    algo = ctx.algorithm
    out = METRICS.get(str(algo), frozenset()) if algo else frozenset()
    reward = ctx.spec.reward
    if reward is not None and reward.functions:
        out = out | reward_components([f.name for f in reward.functions])
    if "completion_length" in out:  # TRL's own name for it
        out = out | {"completions/mean_length", "eval_completions/mean_length"}
    return out


def check_objectives(ctx: Context) -> None:
    """H018 for an objective that does not parse (or is not a safe expression), H007 for a
    metric it reads that the algorithm does not report, H017 for an `eval_` metric without
    validation data."""
    hpo, algo = ctx.spec.hpo, ctx.algorithm
    if hpo is None or not algo:
        return
    known = reported(ctx)
    for i, obj in enumerate(hpo.objectives):
        at = ("hpo", "objectives", i, "metric")
        try:
            names = parse(obj.metric).names
        except ObjectiveError as e:
            ctx.diags.add("H018", str(e), path=at,
                          hint="e.g. `eval_rewards/accuracy/mean - 0.1 * completion_length`; "
                          "write division with spaces (`a / b`)")
            continue
        for name in names:
            if name not in known:
                alias = ALIASES.get(name)
                close = [alias] if alias in known else close_matches(
                    name, sorted(known), n=1)
                ctx.diags.add("H007", f"`{algo}` does not report `{name}`", path=at,
                              hint=f"did you mean `{close[0]}`?" if close else
                              "reported: " + ", ".join(sorted(known)))
            elif name.startswith("eval_") and ctx.spec.data.validation is None \
                    and hpo.evaluation.cross_validation is None:
                ctx.diags.add("H017", f"`{name}` is computed on validation data, and "
                              "`data.validation` is not set", path=at,
                              hint="add `data: {validation: {path: ..., split: validation}}`")
