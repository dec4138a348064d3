"""Render a plan: a readable table, JSON or YAML."""

from __future__ import annotations

import io
import json
from typing import Any

from specc.compiler.plan import Plan

GIB = 1024**3


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.3g}"
    return str(v)


def _short(path: str) -> str:
    """`policy.optimizer.kwargs.lr` -> `lr`, `dpo.reference_policy_kl_penalty` -> `dpo.ref..`"""
    parts = path.split(".")
    return parts[-1] if len(parts[-1]) > 3 else ".".join(parts[-2:])


def human_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GiB"


def _bar(used: int, cap: int, width: int = 10) -> str:
    if cap <= 0:
        return ""
    filled = min(round(width * used / cap), width)
    return "[" + "#" * filled + "." * (width - filled) + "]"


def table(plan: Plan, limit: int = 50) -> str:
    out = [f"plan for `{plan.name}` ({plan.algorithm}) from {plan.file}"]
    st = plan.study
    if "sampler" in st:
        objs = ", ".join(f"{o['metric']} ({o['direction']})" for o in st["objectives"])
        out.append(f"study: {st['sampler']['type']} sampler, {st['pruner']['type']} pruner, "
                   f"{st['n_trials']} trials, objective {objs}")
        out.append(f"storage: {st['storage']}")
        folds = (st.get("evaluation") or {}).get("cross_validation", {}).get("n_folds")
        if folds:
            out.append(f"evaluation: {folds}-fold cross-validation: each trial trains {folds} "
                       "times (the steps below, per fold) and scores the mean")
    sp = plan.space
    if sp["kind"] == "grid":
        out.append(f"search space: grid of {len(plan.trials)} points")
    elif sp["kind"] == "preview":
        out.append(f"search space: {len(sp['dimensions'])} dimension(s); showing "
                   f"{len(plan.trials)} sampled point(s) (--preview N for more)")
    if sp.get("model_based_from") is not None:
        out.append(f"points from trial {sp['model_based_from']} on (*) are model-based: the "
                   "sampler draws them from earlier results, so a run's differ")
    if sp.get("seeded") is False:
        out.append("no `hpo.sampler.seed`: these points use seed 0; a run draws others "
                   "(set a seed to preview them exactly)")
    out.append("")
    dims = list(sp["dimensions"])
    head = ["trial", *(_short(d) for d in dims), "eff.batch", "accum", "steps", "memory",
            "feasible"]
    rows = []
    for t in plan.trials[:limit]:
        d = t.derived
        mem = "-"
        if t.memory:
            used, cap = t.memory["total_bytes"], t.memory["capacity_bytes"]
            mem = f"{human_bytes(used)} / {human_bytes(cap)} {_bar(used, cap)}"
        why = "yes" if t.feasible else "no: " + "; ".join(r.split(" ", 1)[0] for r in t.reasons)
        mark = "*" if t.model_based else ""
        rows.append([f"{t.number}{mark}", *(_fmt(t.params.get(k, "-")) for k in dims),
                     str(d.effective_batch_size) if d else "-",
                     str(d.grad_accumulation_steps) if d else "-",
                     str(d.total_steps) if d and d.total_steps is not None else "-",
                     mem, why])
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    out.append("  ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)).rstrip())
    out.append("  ".join("-" * w for w in widths))
    out += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    if len(plan.trials) > limit:
        out.append(f"... {len(plan.trials) - limit} more (use --format json for all)")
    feasible = sum(t.feasible for t in plan.trials)
    out.append("")
    out.append(f"{feasible} of {len(plan.trials)} trial(s) feasible")
    infeasible = [t for t in plan.trials if not t.feasible][:3]
    for t in infeasible:
        out.append(f"  trial {t.number}: {t.reasons[0] if t.reasons else 'infeasible'}")
    out += _per_gpu(plan)
    return "\n".join(out) + "\n"


def _per_gpu(plan: Plan) -> list[str]:
    """How the first trial spreads over its GPUs, its host memory and the estimate's
    assumptions (sharding, quantisation, offload), when there is something to say."""
    t = plan.trials[0] if plan.trials else None
    if t is None or t.memory is None:
        return []
    out: list[str] = []
    if t.launch.kind == "torchrun":
        out.append(f"launch: torchrun, {t.launch.processes} processes ({t.launch.strategy}, "
                   f"{t.launch.backend}); memory is per GPU")
    if t.memory.get("host_bytes"):
        out.append(f"host memory: {human_bytes(t.memory['host_bytes'])} per GPU (offload, "
                   "paged optimizer states)")
    notes = [n for n in t.memory.get("notes", []) if not n.startswith("every sequence")]
    out += [f"note: {n}" for n in notes]
    return ["", *out] if out else []


def as_json(plan: Plan, with_spec: bool = False) -> str:
    return json.dumps(plan.to_dict(with_spec=with_spec), indent=2, default=str) + "\n"


def as_yaml(plan: Plan, with_spec: bool = False) -> str:
    return dump_yaml(json.loads(as_json(plan, with_spec)))


def dump_yaml(data: Any) -> str:
    from ruamel.yaml import YAML

    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    yaml.sort_base_mapping_type_on_output = False  # type: ignore[assignment]
    buf = io.StringIO()
    yaml.dump(data, buf)
    return buf.getvalue()
