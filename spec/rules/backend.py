"""Who runs the study (`hpo.backend`) and the Ray Tune scheduler (`hpo.scheduler`).

The Optuna backend prunes with `hpo.pruner`; the Ray backend stops or perturbs trials with
`hpo.scheduler` (ASHA, Hyperband, PBT, PB2) and never builds an Optuna pruner. Population-
based training (PBT, PB2) copies one trial's checkpoint into another and goes on training
it with perturbed values, so it needs checkpoints, a population running at once, one
objective, and searched keys that may change mid-training (:mod:`specc.spec.mutable`).
Counts are in reports, as the pruner's are. Plain data: nothing here imports Ray.

H019 scheduler under Optuna; H020 `ray_tune` read as `ray` (info); H021-H025 PBT/PB2
mutations and search space; H026 several objectives; H027 checkpointing off; H028
cross-validation; H029 ASHA `grace_period` above `max_t`. W022 pruner unused under Ray;
W023 sampler settings unused under PBT/PB2 (its seed is used); W024 a count beyond the
trial's reports; W025 a scheduler key of another type; W026 a PBT population of one.
"""

from __future__ import annotations

import math

from specc.spec.models.hpo import CategoricalDim, Hpo, Sampler, Scheduler
from specc.spec.mutable import default_mutations, why_fixed
from specc.spec.rules.context import Context

#: The Scheduler keys each type reads (`type` aside); Ray Tune's constructor arguments.
APPLIES: dict[str, frozenset[str]] = {
    "asha": frozenset({"grace_period", "max_t", "reduction_factor", "brackets"}),
    "hyperband": frozenset({"max_t", "reduction_factor"}),
    "pbt": frozenset({"perturbation_interval", "mutations", "quantile_fraction",
                      "resample_probability", "perturbation_factors", "synch"}),
    "pb2": frozenset({"perturbation_interval", "mutations", "quantile_fraction", "synch"}),
}
_NAMES = {"asha": "ASHA", "hyperband": "Hyperband", "pbt": "PBT", "pb2": "PB2"}
POPULATION = ("pbt", "pb2")
#: The Ray scheduler closest to each Optuna pruner (W022's hint).
CLOSEST: dict[str, str] = {"hyperband": "hyperband"}
_ROUNDS = ("rs_sft", "awr")  # evaluate after every round, not every `val_period` steps


def check(ctx: Context) -> None:
    hpo = ctx.spec.hpo
    if ctx.point or hpo is None:
        return
    if hpo.backend == "ray_tune":
        ctx.diags.add("H020", "`backend: ray_tune` read as `ray` (the seed's name for Ray Tune)",
                      path=("hpo", "backend"), hint="write `backend: ray` to silence this")
    sched = hpo.scheduler
    if hpo.backend == "optuna":
        if sched is not None:
            ctx.diags.add("H019", f"`hpo.scheduler` ({sched.type}) is a Ray Tune scheduler; "
                          "the Optuna backend (the default) stops trials with `hpo.pruner`",
                          path=("hpo", "scheduler"), on_key=True,
                          hint="set `backend: ray` or use `pruner`")
        return
    if hpo.pruner.type != "none":
        closest = CLOSEST.get(hpo.pruner.type, "asha")
        ctx.diags.add("W022", f"`hpo.pruner` (`{hpo.pruner.type}`) is not used by the Ray "
                      "backend: Ray Tune stops trials with `hpo.scheduler`",
                      path=("hpo", "pruner", "type"),
                      hint=f"use `scheduler: {{type: {closest}}}`, the closest Ray scheduler, "
                      "and `pruner: {type: none}`")
    if sched is None:
        return
    name = _NAMES[sched.type]
    if len(hpo.objectives) > 1:
        ctx.diags.add("H026", f"the {name} scheduler works on one objective; this study has "
                      f"{len(hpo.objectives)}", path=("hpo", "scheduler", "type"),
                      hint="keep one objective, or remove `scheduler` (Ray's Optuna searcher "
                      "takes several objectives without one)")
    _keys(ctx, sched)
    _counts(ctx, hpo, sched)
    if sched.type in POPULATION:
        _population(ctx, hpo, sched)


def _keys(ctx: Context, sched: Scheduler) -> None:
    """W025: a key the scheduler's type does not read."""
    own = APPLIES[sched.type]
    for key in Scheduler.model_fields:
        if key == "type" or key in own or getattr(sched, key) is None:
            continue
        users = [_NAMES[t] for t, keys in APPLIES.items() if key in keys]
        ctx.diags.add("W025", f"`hpo.scheduler.{key}` has no effect with `type: {sched.type}`: "
                      f"it is a setting of {' and '.join(users)}",
                      path=("hpo", "scheduler", key), on_key=True,
                      hint=f"remove `{key}`; {_NAMES[sched.type]} reads "
                      + ", ".join(f"`{k}`" for k in sorted(APPLIES[sched.type])))


def reports(ctx: Context) -> int | None:
    """How many times one trial reports its objective, when the spec fixes it."""
    hpo = ctx.spec.hpo
    algo = ctx.algorithm
    if hpo is None or algo is None or algo in _ROUNDS or ctx.spec.data.validation is None:
        return None
    if hpo.evaluation.cross_validation is not None:
        return None
    block = ctx.spec.block()
    period = hpo.evaluation.val_period or getattr(block, "val_period", None)
    total = ctx.total_steps()
    searched = {k.rsplit(".", 1)[-1] for k in hpo.search_space}
    if not period or not total or searched & {"max_steps", "max_num_steps", "val_period"}:
        return None
    return math.ceil(total / period)  # every `period` steps, and once more at the end


def _counts(ctx: Context, hpo: Hpo, sched: Scheduler) -> None:
    """H029 for a grace period Ray refuses; W024 for counts no trial reaches."""
    at = ("hpo", "scheduler")
    grace, max_t = sched.grace_period, sched.max_t
    if sched.type == "asha" and grace is not None and max_t is not None and grace > max_t:
        ctx.diags.add("H029", f"ASHA's `grace_period` ({grace}) is above `max_t` ({max_t}): "
                      "Ray Tune refuses it", path=(*at, "grace_period"),
                      hint=f"set `grace_period` at most {max_t}")
        return
    n = reports(ctx)
    if n is None:
        return
    steps = ctx.total_steps()
    period = hpo.evaluation.val_period or getattr(ctx.spec.block(), "val_period", None)
    each = f"a trial reports {n} time{'s' if n != 1 else ''} ({steps} steps, every {period})"
    if max_t is not None and max_t > n and sched.type in ("asha", "hyperband"):
        ctx.diags.add("W024", f"`max_t: {max_t}` is beyond the trial's reports: {each}, so "
                      f"the rungs above {n} are never reached", path=(*at, "max_t"),
                      hint=f"set `max_t: {n}` (the default), or train longer")
    if grace is not None and grace >= n and sched.type == "asha":
        ctx.diags.add("W024", f"`grace_period: {grace}` leaves ASHA nothing to stop: {each}, "
                      "and no trial can be stopped before its last report",
                      path=(*at, "grace_period"),
                      hint=f"set `grace_period` below {n}, or report more often "
                      "(`hpo.evaluation.val_period`)")
    interval = sched.perturbation_interval or 1
    if sched.type in POPULATION and interval >= n:
        ctx.diags.add("W024", f"`perturbation_interval: {interval}` leaves "
                      f"{_NAMES[sched.type]} no exploit step: {each}, and the first decision "
                      "would come at the last one",
                      path=(*at, "perturbation_interval") if sched.perturbation_interval
                      else (*at, "type"),
                      hint=f"set `perturbation_interval` below {n}, or report more often "
                      "(`hpo.evaluation.val_period`)")


def _population(ctx: Context, hpo: Hpo, sched: Scheduler) -> None:
    """PBT/PB2: what it mutates, and what the copying of checkpoints needs."""
    name = _NAMES[sched.type]
    at = ("hpo", "scheduler")
    dims = hpo.search_space
    mutable = default_mutations(list(dims))
    listed = f"the mutable searched keys are {', '.join(f'`{k}`' for k in mutable)}" \
        if mutable else "no searched key may change mid-training (the learning rate, " \
        "weight decay, KL/beta coefficients and reward weights may)"
    written = sched.mutations or []
    for i, key in enumerate(written):
        if key not in dims:
            ctx.diags.add("H021", f"{name} mutation `{key}` is not a key of the search space",
                          path=(*at, "mutations", i),
                          hint=f"add `{key}` to `hpo.search_space`, or remove it; {listed}")
            continue
        why = why_fixed(key)
        if why is not None:
            ctx.diags.add("H022", f"`{key}` cannot change mid-training: {why}",
                          path=(*at, "mutations", i), hint=f"remove it; {listed}")
    if not mutable and not sched.mutations:
        ctx.diags.add("H023", f"{name} has nothing to perturb: {listed}",
                      path=(*at, "type"),
                      hint="search the learning rate or the KL coefficient, or use "
                      "`scheduler: {type: asha}`")
    if sched.type == "pb2":  # each key PB2 would perturb (refused ones are said above)
        for i, key in enumerate(written) if written else enumerate(mutable):
            if isinstance(dims.get(key), CategoricalDim) and why_fixed(key) is None:
                ctx.diags.add("H024", f"PB2 explores continuous bounds; `{key}` is categorical",
                              path=(*at, "mutations", i) if written else
                              ("hpo", "search_space", key), on_key=not written,
                              hint="make it a `float`/`int` range, leave it out of "
                              "`mutations`, or use `type: pbt`")
    for key, dim in dims.items():
        if dim.when:
            ctx.diags.add("H025", f"`{key}` is conditional (`when:`), but {name} samples and "
                          "perturbs every key on its own over a flat space, so the condition "
                          "cannot hold", path=("hpo", "search_space", key, "when"), on_key=True,
                          hint="remove `when:` (search the dimension always), or use "
                          "`scheduler: {type: asha}`")
    ckpt = ctx.spec.checkpointing
    if ckpt is not None and not ckpt.enabled and ctx.written(("checkpointing", "enabled")):
        ctx.diags.add("H027", f"{name} copies checkpoints between trials, and "
                      "`checkpointing.enabled` is false", path=("checkpointing", "enabled"),
                      hint=f"remove `enabled: false` ({name} saves a checkpoint at every "
                      "report), or use `scheduler: {type: asha}`")
    if hpo.evaluation.cross_validation is not None:
        ctx.diags.add("H028", f"{name} continues one trial's model in another, and a "
                      "cross-validated trial trains one model per fold",
                      path=("hpo", "evaluation", "cross_validation"), on_key=True,
                      hint="remove `cross_validation`, or use `scheduler: {type: asha}`")
    unused = [k for k in Sampler.model_fields if k != "seed" and ctx.written(("hpo", "sampler", k))]
    if unused:
        seed = hpo.sampler.seed
        ctx.diags.add("W023", f"`hpo.sampler` is not used but for its `seed`: {name} draws "
                      "each trial's first values from the search space itself, and explores "
                      "from there", path=("hpo", "sampler", unused[0]), on_key=True,
                      hint=(f"keep `sampler: {{seed: {seed}}}`" if seed is not None else
                            "remove `sampler:`") + ", or use `scheduler: {type: asha}` to keep "
                      "the sampler choosing points")
    population = min(hpo.parallel, hpo.n_trials)
    if population < 2:
        ctx.diags.add("W026", f"{name} exploits among the trials running at once, and this "
                      f"study runs {population}: no trial ever copies another",
                      path=("hpo", "parallel") if ctx.written(("hpo", "parallel"))
                      else ("hpo", "scheduler", "type"),
                      hint="set `parallel` (and `n_trials`) to 2 or more")
