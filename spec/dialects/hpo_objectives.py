"""The seed HPO dialects' `evaluation` and objective keys, read as `hpo` settings."""

from __future__ import annotations

import copy
from typing import Any

from specc.spec.dialects.rewrite import Writer
from specc.spec.locations import Path
from specc.spec.metrics import ALIASES

_DIRECTIONS = {"minimize": "minimize", "minimise": "minimize", "min": "minimize",
               "maximize": "maximize", "maximise": "maximize", "max": "maximize"}
_MAXIMISED = ("reward", "accurac", "margin", "score")


def evaluation(ev: dict[str, Any], hpo: dict[str, Any], w: Writer,
                notes: list[str]) -> None:
    objective: dict[str, Any] = {}
    evaluation: dict[str, Any] = {}
    base: Path = ("evaluation",)
    for key, value in ev.items():
        if key in ("metric", "primary_metric", "objective_metric", "direction", "directions",
                   "secondary_metrics"):
            objective[key] = value
        elif key in ("max_steps", "val_period"):
            evaluation[key] = value
            w.carry(("evaluation", key), (*base, key))
        elif key == "cross_validation":
            if value is True:
                folds = ev.get("n_folds", ev.get("k_folds", 5))
                evaluation["cross_validation"] = {"n_folds": folds}
                w.carry(("evaluation", "cross_validation"), (*base, key))
                fold_key = "n_folds" if "n_folds" in ev else "k_folds" if "k_folds" in ev \
                    else key
                w.carry(("evaluation", "cross_validation", "n_folds"), (*base, fold_key))
                notes.append(f"cross_validation with {folds} folds -> "
                             "evaluation.cross_validation")
            elif isinstance(value, dict):
                evaluation[key] = copy.deepcopy(value)
                w.carry(("evaluation", key), (*base, key))
                w.subtree(("evaluation", key), (*base, key))
            elif value is not False:
                evaluation[key] = value  # the schema reports it
                w.carry(("evaluation", key), (*base, key))
        elif key in ("n_folds", "k_folds"):
            continue  # read with cross_validation; alone it has no effect
        elif key == "early_stopping":
            if isinstance(value, int) and not isinstance(value, bool):
                hpo["early_stopping_patience"] = value
                w.carry(("early_stopping_patience",), (*base, key))
            elif value is True and "patience" not in ev:
                notes.append("early_stopping without `patience` ignored (no trial count "
                             "given)")
        elif key == "patience":
            if ev.get("early_stopping", True) is not False:
                hpo["early_stopping_patience"] = value
                w.carry(("early_stopping_patience",), (*base, key))
                notes.append(f"early_stopping patience {value} -> early_stopping_patience")
        else:
            evaluation[key] = copy.deepcopy(value)  # specc's own or unknown: schema decides
            w.carry(("evaluation", key), (*base, key))
            w.subtree(("evaluation", key), (*base, key))
    if evaluation:
        hpo["evaluation"] = evaluation
        w.carry(("evaluation",), base)
    if objective:
        objectives(objective, base, hpo, w, notes)


def objectives(obj: dict[str, Any], base: Path, hpo: dict[str, Any], w: Writer,
                notes: list[str]) -> None:
    mkey = next((k for k in ("primary_metric", "metric", "objective_metric") if k in obj),
                None)
    metric = obj.get(mkey) if mkey else "eval_loss"
    name = ALIASES.get(metric, metric) if isinstance(metric, str) else metric
    directions = obj.get("directions")
    direction = obj.get("direction")
    if direction is None and isinstance(directions, list) and directions:
        direction = directions[0]
    inferred = False
    if direction is None:
        direction = "maximize" if isinstance(name, str) and any(
            m in name for m in _MAXIMISED) else "minimize"
        inferred = True
    else:
        direction = _DIRECTIONS.get(str(direction).strip().lower(), direction)
    first = {"metric": name, "direction": direction}
    objectives = [first]
    w.carry(("objectives",), (*base, mkey) if mkey else base)
    w.carry(("objectives", 0), (*base, mkey) if mkey else base)
    w.carry(("objectives", 0, "metric"), (*base, mkey) if mkey else base)
    dkey = "direction" if "direction" in obj else "directions" if "directions" in obj else mkey
    w.carry(("objectives", 0, "direction"), (*base, dkey) if dkey else base)
    said = f"{mkey or 'metric'} `{metric}` -> objective `{name}` ({direction}" + (
        ", inferred)" if inferred else ")")
    notes.append(said)
    secondary = obj.get("secondary_metrics")
    if isinstance(secondary, list) and secondary:
        added: list[str] = []
        ignored: list[str] = []
        for i, entry in enumerate(secondary):
            sname: Any = entry
            sdir: Any = None
            if isinstance(entry, dict):
                sname = entry.get("metric", entry.get("name"))
                sdir = entry.get("direction")
            elif isinstance(directions, list) and len(directions) == len(secondary) + 1:
                sdir = directions[i + 1]
            if sdir is None or not isinstance(sname, str):
                ignored.append(f"`{sname}`")
                continue
            sdir = _DIRECTIONS.get(str(sdir).strip().lower(), sdir)
            objectives.append({"metric": ALIASES.get(sname, sname), "direction": sdir})
            n = len(objectives) - 1
            w.carry(("objectives", n), (*base, "secondary_metrics", i))
            added.append(f"`{sname}`")
        if added:
            notes.append("secondary_metrics " + ", ".join(added) + " -> more objectives")
        if ignored:
            notes.append("secondary_metrics " + ", ".join(ignored) + " ignored: no direction "
                         "given for them (list them in `directions`, or write `hpo.objectives`)")
    hpo["objectives"] = objectives
