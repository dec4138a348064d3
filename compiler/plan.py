"""`specc plan`: lower a valid spec and its search space into the list of trials that will
run — derived numbers, memory against the GPU, feasibility, and the exact trainer call."""

from __future__ import annotations

from dataclasses import field, replace
from typing import Any

from specc.compiler import space
from specc.compiler.lowering import NOT_LOWERED
from specc.compiler.preview import preview_points, preview_size
from specc.compiler.tracking import RunRef, missing_packages
from specc.compiler.trial import TrialDescription, compile_trial
from specc.compiler.validate import validate_one
from specc.spec import defaults
from specc.spec.diagnostics import Collector, Diagnostic, Severity
from specc.spec.facts import GENERATES
from specc.spec.models import Spec
from specc.spec.models.policy import RUNNABLE_BACKENDS
from specc.spec.records import record
from specc.spec.storage_url import public_url

DEFAULT_PREVIEW = 5
#: Errors that still let `specc plan` print the plan (the trial does not fit its GPU).
MEMORY_ERRORS = frozenset({"M001", "M004"})


#: One trial of the plan: the compiled description `specc run` executes.
Trial = TrialDescription

__all__ = ["DEFAULT_PREVIEW", "Plan", "Trial", "build_plan", "feasible_share"]


@record
class Plan:
    """Every trial a spec compiles to, and the study that will run them."""

    file: str
    name: str
    algorithm: str | None
    study: dict[str, Any]
    space: dict[str, Any]
    trials: list[Trial]
    diagnostics: list[Diagnostic]
    expanded: dict[str, Any] | None = field(default=None, repr=False)
    #: The validated base spec and its merged, uninterpolated tree (points re-resolve
    #: from it), so a runner needs no second load.
    spec: Spec | None = field(default=None, repr=False)
    raw: dict[str, Any] | None = field(default=None, repr=False)

    def to_dict(self, *, with_spec: bool = False) -> dict[str, Any]:
        return {
            "file": self.file,
            "name": self.name,
            "algorithm": self.algorithm,
            "study": self.study,
            "space": self.space,
            "fits": all(t.memory is None or t.memory.get("fits", True) for t in self.trials),
            "trials": [t.to_dict(with_spec=with_spec) for t in self.trials],
            "diagnostics": [d.to_dict() for d in self.diagnostics],
        }


def build_plan(file: str, *, overrides: list[str] | None = None, preview: int | None = None,
               output_dir: str | None = None, diags: Collector | None = None,
               for_run: bool = False, with_memory_errors: bool = False) -> Plan | None:
    """Compile ``file``; None (with diagnostics in ``diags``) when the spec has errors.

    ``with_memory_errors``: a spec whose only errors say it does not fit its GPU (M001)
    still compiles, its trials infeasible, so `plan --format json` can print the numbers.
    ``for_run`` adds the checks only `specc run` needs (N012: an algorithm specc plans
    but cannot train yet; N013: a tracking backend whose package is not installed)."""
    diags = diags if diags is not None else Collector()
    checked = validate_one(file, diags, overrides=overrides)
    spec, loaded = checked.spec, checked.loaded
    if checked.nemo is not None and checked.nemo.nemo_only:
        nemo = checked.nemo
        diags.scoped(loaded.locations, file).add(
            "N014", f"`specc {'run' if for_run else 'plan'}` cannot train NeMo RL's "
            f"`{nemo.master}`: specc validates it as a NeMo RL config but does not train it",
            path=(nemo.master_key,), on_key=True,
            hint="run it with NeMo RL; specc trains sft, dpo, grpo, ppo and its own algorithms")
        return None
    if for_run and spec is not None and spec.policy.generation is not None \
            and spec.policy.generation.backend not in RUNNABLE_BACKENDS \
            and spec.selected() in GENERATES:
        backend = spec.policy.generation.backend
        diags.scoped(loaded.locations, file).add(
            "N015", f"`specc run` generates with `hf` only, not NeMo RL's `{backend}` backend",
            path=("policy", "generation", "backend"),
            hint="set `backend: hf` to run with specc (`specc plan` and `specc validate` accept "
            f"`{backend}`)")
    if for_run and spec is not None:
        algo = spec.selected()
        if algo in NOT_LOWERED:
            sub = diags.scoped(loaded.locations, file)
            at = ("algorithm",) if loaded.data and "algorithm" in loaded.data else (algo,)
            sub.add("N012", f"`specc run` cannot train `{algo}` yet: {NOT_LOWERED[algo]}",
                    path=at, hint="`specc plan` and `specc validate` support it; to run, "
                    "use sft, dpo, orpo, kto, grpo or rloo")
        _check_tracking(spec, diags.scoped(loaded.locations, file))
        from specc.compiler.launch_checks import check_machine

        check_machine(spec, diags.scoped(loaded.locations, file))
    errors = [d for d in diags if d.severity is Severity.ERROR]
    if spec is None or loaded.raw is None or (errors and not (
            with_memory_errors and all(d.code in MEMORY_ERRORS for d in errors))):
        return None
    out_dir = output_dir or defaults.output_dir(spec)
    hpo = spec.hpo
    dims = dict(hpo.search_space) if hpo else {}
    sampler = hpo.sampler.type if hpo else None
    drawn: dict[str, Any] = {}
    if not dims or hpo is None:
        points: list[space.Point] = [{}]
        kind, model_from = "single", None
    else:
        pv = preview_points(hpo, preview_size(hpo, preview, DEFAULT_PREVIEW))
        points, model_from = pv.points, pv.model_based_from
        kind = "grid" if sampler == "grid" else "preview"
        drawn = {"drawn_by": pv.drawn_by, "seeded": pv.seeded,
                 "model_based_from": pv.model_based_from}
    study = defaults.study_name(spec)
    trials = [replace(compile_trial(file, loaded.raw, p, number=i,
                                    run=RunRef(out_dir, study, i)),
                      model_based=model_from is not None and i >= model_from)
              for i, p in enumerate(points)]
    return Plan(
        file=file,
        name=spec.name,
        algorithm=spec.selected(),
        study=_study(spec, out_dir),
        space={"kind": kind, "dimensions": {k: v.model_dump(exclude_none=True)
                                            for k, v in dims.items()},
               "grid_size": space.grid_size(dims) if dims else 1,
               "sampler": sampler, **drawn},
        trials=trials,
        diagnostics=sorted(diags.items, key=Diagnostic.sort_key),
        expanded=loaded.data,
        spec=spec,
        raw=loaded.raw,
    )


def _check_tracking(spec: Spec, diags: Collector) -> None:
    """N013: a tracking backend is switched on but its package is not installed."""
    for backend, package in missing_packages(spec):
        diags.add("N013", f"`logger.{backend}_enabled` is true but the `{package.pip}` "
                  "package is not installed", path=("logger", f"{backend}_enabled"),
                  on_key=True, hint=f"`pip install {package.pip}`, or set "
                  f"`logger.{backend}_enabled: false`")


def _study(spec: Spec, out_dir: str) -> dict[str, Any]:
    hpo = spec.hpo
    if hpo is None:
        return {"kind": "single run", "output_dir": out_dir}
    return {
        "sampler": hpo.sampler.model_dump(exclude_none=True),
        "pruner": hpo.pruner.model_dump(exclude_none=True),
        "objectives": [o.model_dump() for o in hpo.objectives],
        "n_trials": hpo.n_trials,
        "timeout": hpo.timeout,
        "storage": public_url(hpo.storage or defaults.storage_url(out_dir, hpo.parallel)),
        "study_name": defaults.study_name(spec),
        "parallel": hpo.parallel,
        "early_stopping_patience": hpo.early_stopping_patience,
        "keep_best_n": hpo.keep_best_n,
        "max_failed_trials": hpo.max_failed_trials,
        "evaluation": hpo.evaluation.model_dump(exclude_none=True),
        "output_dir": out_dir,
    }


def feasible_share(plan: Plan) -> tuple[int, int]:
    return sum(t.feasible for t in plan.trials), len(plan.trials)
