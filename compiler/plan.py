"""`specc plan`: lower a valid spec and its search space into the list of trials that will
run — derived numbers, memory against the GPU, feasibility, and the exact trainer call."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from specc.compiler import space
from specc.compiler.derive import Derived, derive
from specc.compiler.fit import check_context_length, check_memory, estimate_spec
from specc.compiler.lowering import NOT_LOWERED, Lowered, lower
from specc.compiler.tracking import RunRef, missing_packages
from specc.compiler.validate import validate_one
from specc.spec import defaults
from specc.spec.diagnostics import Collector, Diagnostic, Severity
from specc.spec.models import Spec
from specc.spec.rules import Context

DEFAULT_PREVIEW = 5


@dataclass
class Trial:
    """One concrete training run of the plan."""

    number: int
    id: str
    params: dict[str, Any]
    feasible: bool
    reasons: list[str]
    derived: Derived | None = None
    memory: dict[str, Any] | None = None
    trainer: Lowered | None = None
    spec: dict[str, Any] | None = field(default=None, repr=False)

    def to_dict(self, *, with_spec: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {
            "number": self.number,
            "id": self.id,
            "params": self.params,
            "feasible": self.feasible,
            "reasons": self.reasons,
            "derived": self.derived.to_dict() if self.derived else None,
            "memory": self.memory,
            "trainer": self.trainer.to_dict() if self.trainer else None,
        }
        if with_spec:
            out["spec"] = self.spec
        return out


@dataclass
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
            "trials": [t.to_dict(with_spec=with_spec) for t in self.trials],
            "diagnostics": [d.to_dict() for d in self.diagnostics],
        }


def trial_id(data: dict[str, Any]) -> str:
    """Identity of a trial: a hash of its resolved spec without the `hpo` block."""
    body = {k: v for k, v in data.items() if k not in ("hpo", "name", "description")}
    text = json.dumps(body, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def _point_checks(ctx: Context) -> None:
    check_context_length(ctx)
    check_memory(ctx)


def build_plan(file: str, *, overrides: list[str] | None = None, preview: int | None = None,
               output_dir: str | None = None, diags: Collector | None = None,
               for_run: bool = False) -> Plan | None:
    """Compile ``file``; None (with diagnostics in ``diags``) when the spec has errors.

    ``for_run`` adds the checks only `specc run` needs (N012: an algorithm specc plans
    but cannot train yet; N013: a tracking backend whose package is not installed)."""
    diags = diags if diags is not None else Collector()
    checked = validate_one(file, diags, overrides=overrides)
    spec, loaded = checked.spec, checked.loaded
    if for_run and spec is not None:
        algo = spec.selected()
        if algo in NOT_LOWERED:
            sub = diags.scoped(loaded.locations, file)
            at = ("algorithm",) if loaded.data and "algorithm" in loaded.data else (algo,)
            sub.add("N012", f"`specc run` cannot train `{algo}` yet: {NOT_LOWERED[algo]}",
                    path=at, hint="`specc plan` and `specc validate` support it; to run, "
                    "use sft, dpo, orpo, kto, grpo or rloo")
        _check_tracking(spec, diags.scoped(loaded.locations, file))
    if spec is None or loaded.raw is None or any(d.severity is Severity.ERROR for d in diags):
        return None
    out_dir = output_dir or defaults.output_dir(spec)
    hpo = spec.hpo
    dims = dict(hpo.search_space) if hpo else {}
    sampler = hpo.sampler.type if hpo else None
    if not dims:
        points: list[space.Point] = [{}]
        kind = "single"
    elif sampler == "grid":
        points = space.grid_points(dims)
        kind = "grid"
    else:
        n = preview if preview is not None else min(hpo.n_trials if hpo else 1, DEFAULT_PREVIEW)
        points = space.sample_points(dims, n, hpo.sampler.seed if hpo else None)
        kind = "preview"
    study = defaults.study_name(spec)
    trials = [_trial(i, p, loaded.raw, file, RunRef(out_dir, study, i))
              for i, p in enumerate(points)]
    return Plan(
        file=file,
        name=spec.name,
        algorithm=spec.selected(),
        study=_study(spec, out_dir),
        space={"kind": kind, "dimensions": {k: v.model_dump(exclude_none=True)
                                            for k, v in dims.items()},
               "grid_size": space.grid_size(dims) if dims else 1,
               "sampler": sampler},
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


def _trial(number: int, point: space.Point, raw: dict[str, Any], file: str,
           run: RunRef) -> Trial:
    data = space.apply_point(raw, point)
    spec, errors = space.check_point(raw, point, file, extra=_point_checks, data=data)
    tid = trial_id(data)
    if spec is None:
        return Trial(number, tid, point, False, [f"{e.code} {e.message}" for e in errors],
                     spec=data)
    derived = derive(spec)
    est = estimate_spec(spec, file)
    lowered = lower(spec, derived, f"{run.output}/trials/{number}", run=run)
    return Trial(
        number=number, id=tid, params=point, feasible=not errors,
        reasons=[f"{e.code} {e.message}" for e in errors], derived=derived,
        memory=est.to_dict() if est else None, trainer=lowered, spec=data,
    )


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
        "storage": hpo.storage or defaults.storage_url(out_dir, hpo.parallel),
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
