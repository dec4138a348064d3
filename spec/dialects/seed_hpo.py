"""The seed guides' other ways of writing a search, read as specc's `hpo` block.

Two dialects appear in the original brief:

* ``optimization: {method, n_trials, hyperparameters, evaluation}`` — the NeMo RL
  hyperparameter guide's grid/random-search configs (seed 000);
* ``hyperparameter_optimization: {algorithm, n_trials, timeout_hours, search_space,
  evaluation}`` — the Optuna-style configs of the HPO guide (seed 001).

:func:`normalise_hpo` rewrites such a block into ``hpo`` in place, before the schema sees the
spec, and says so once (R031, info) at the old key. Every new key keeps the location of
the key or value it came from, so later diagnostics (a log range with low 0, a path that
does not exist, ...) point at the line the user wrote. Nothing here raises on bad input:
values that do not fit are carried into ``hpo`` as written, and the schema and the
search-space rules report them there.
"""

from __future__ import annotations

import copy
import math
from typing import Any

from specc.spec.diagnostics import Collector
from specc.spec.dialects.hpo_objectives import evaluation, objectives
from specc.spec.dialects.rewrite import Writer, forget, remove, replace
from specc.spec.facts import ROLLOUTS
from specc.spec.locations import Loc, Locations, Path
from specc.spec.models.algorithms import ALGORITHM_BLOCKS

#: Top-level keys read as a search, in the order they are looked for.
DIALECTS: tuple[str, ...] = ("optimization", "hyperparameter_optimization")

#: `method` / `algorithm` -> specc sampler type.
SAMPLERS: dict[str, str] = {
    "grid": "grid", "grid_search": "grid", "gridsearch": "grid",
    "random": "random", "random_search": "random", "randomsearch": "random",
    "bayesian": "tpe", "bayes": "tpe", "bayesian_optimization": "tpe", "tpe": "tpe",
    "optuna": "tpe",
    "cmaes": "cmaes", "cma-es": "cmaes", "cma_es": "cmaes",
    "nsga2": "nsga2", "nsga-ii": "nsga2", "nsgaii": "nsga2", "multi_objective": "nsga2",
    "gp": "gp", "gaussian_process": "gp", "qmc": "qmc", "sobol": "qmc",
}

#: The selected algorithm's KL / beta coefficient.
KL_PATHS: dict[str, str] = {
    "dpo": "dpo.reference_policy_kl_penalty",
    "orpo": "orpo.beta",
    "kto": "kto.beta",
    "grpo": "loss_fn.reference_policy_kl_penalty",
    "rloo": "rloo.reference_policy_kl_penalty",
    "ppo": "ppo.init_kl_coef",
}
_ALGORITHMS = tuple(ALGORITHM_BLOCKS)

#: The seeds' short hyperparameter names -> dotted spec paths. `{kl}` is the selected
#: algorithm's KL/beta path, `{group}` its generations-per-prompt block.
NAMES: dict[str, str] = {
    "learning_rate": "policy.optimizer.kwargs.lr",
    "lr": "policy.optimizer.kwargs.lr",
    "weight_decay": "policy.optimizer.kwargs.weight_decay",
    "dpo_beta": "dpo.reference_policy_kl_penalty",
    "beta": "{kl}",
    "kl_penalty_coef": "{kl}",
    "kl_coef": "{kl}",
    "kl_penalty": "{kl}",
    "batch_size": "policy.train_global_batch_size",
    "global_batch_size": "policy.train_global_batch_size",
    "train_batch_size": "policy.train_global_batch_size",
    "per_device_train_batch_size": "policy.train_micro_batch_size",
    "micro_batch_size": "policy.train_micro_batch_size",
    "preference_weight": "dpo.preference_loss_weight",
    "sft_weight": "dpo.sft_loss_weight",
    "label_smoothing": "dpo.label_smoothing",
    "max_grad_norm": "policy.max_grad_norm",
    "warmup_steps": "policy.scheduler.warmup_steps",
    "warmup_ratio": "policy.scheduler.warmup_ratio",
    "dropout_rate": "policy.lora.dropout",
    "dropout": "policy.lora.dropout",
    "lora_dropout": "policy.lora.dropout",
    "lora_r": "policy.lora.r",
    "lora_rank": "policy.lora.r",
    "rank": "policy.lora.r",
    "lora_alpha": "policy.lora.alpha",
    "temperature": "policy.generation.temperature",
    "top_p": "policy.generation.top_p",
    "top_k": "policy.generation.top_k",
    "max_new_tokens": "policy.generation.max_new_tokens",
    "num_generations": "{group}.num_generations_per_prompt",
    "group_size": "{group}.num_generations_per_prompt",
}

#: Short names with no spec path, and why (said in the R031 message; H001 follows).
UNMAPPABLE: dict[str, str] = {
    "gradient_accumulation_steps": "derived from the global and micro batch sizes",
    "hidden_size": "a pretrained model's architecture is fixed",
    "num_layers": "a pretrained model's architecture is fixed",
    "num_attention_heads": "a pretrained model's architecture is fixed",
    "attention_dropout": "a pretrained model's architecture is fixed",
}

_TYPES: dict[str, tuple[str, bool]] = {
    "float": ("float", False), "uniform": ("float", False), "real": ("float", False),
    "loguniform": ("float", True), "log_uniform": ("float", True), "log": ("float", True),
    "int": ("int", False), "integer": ("int", False), "int_uniform": ("int", False),
    "categorical": ("categorical", False), "choice": ("categorical", False),
}


def algorithm_of(data: dict[str, Any]) -> str | None:
    """The selected algorithm as written (the `algorithm` key, or the single block present)."""
    algo = data.get("algorithm")
    if isinstance(algo, str):
        return algo if algo in _ALGORITHMS else None
    present = [a for a in _ALGORITHMS if isinstance(data.get(a), dict)]
    return present[0] if len(present) == 1 else None


def spec_path(name: str, algorithm: str | None) -> str | None:
    """The spec path a dialect's short name stands for (None: no known path)."""
    if "." in name:
        return name
    target = NAMES.get(name)
    if target is None:
        return None
    kl = KL_PATHS.get(algorithm or "", "loss_fn.reference_policy_kl_penalty")
    group = algorithm if algorithm in ROLLOUTS else "grpo"
    return target.format(kl=kl, group=group)


def normalise_hpo(data: dict[str, Any], locs: Locations, diags: Collector, file: str = "") -> None:
    """Rewrite a seed-dialect search block into `hpo`, in place (see the module doc)."""
    for name in DIALECTS:
        block = data.get(name)
        if not isinstance(block, dict):
            continue  # absent, or not a mapping: the schema reports it as an unknown key
        kloc = locs.keys.get((name,)) or locs.values.get((name,)) or Loc(file, 0, 0)
        if "hpo" in data:
            diags.add("S006", f"`{name}` and `hpo` both describe the search; specc reads one",
                      path=(name,), file=kloc.file, line=kloc.line, column=kloc.column,
                      hint=f"move the settings of `{name}` into `hpo` and delete `{name}`")
            remove(data, locs, name)
            continue
        w = Writer(locs, (name,))
        hpo, notes = _convert(block, w, algorithm_of(data))
        vloc = locs.values.get((name,)) or kloc
        replace(data, name, "hpo", hpo)
        forget(locs, (name,))
        forget(locs, ("hpo",))
        locs.values[("hpo",)] = vloc
        locs.keys[("hpo",)] = kloc
        locs.values.update(w.values)
        locs.keys.update(w.keys)
        diags.add("R031", f"`{name}` read as `hpo`: " + "; ".join(notes), path=(name,),
                  file=kloc.file, line=kloc.line, column=kloc.column,
                  hint="write the `hpo` block directly to silence this "
                  "(`specc plan --show-spec` prints it)")


def _convert(block: dict[str, Any], w: Writer, algorithm: str | None
             ) -> tuple[dict[str, Any], list[str]]:
    hpo: dict[str, Any] = {}
    notes: list[str] = []
    extra: dict[str, Any] = {}
    for key, value in block.items():
        if key in ("method", "algorithm", "sampler") and not isinstance(value, dict):
            sampler = SAMPLERS.get(str(value).strip().lower().replace(" ", "_"), value)
            hpo.setdefault("sampler", {})["type"] = sampler
            w.carry(("sampler",), (key,))
            w.carry(("sampler", "type"), (key,))
            notes.append(f"{key} `{value}` -> sampler `{sampler}`" if sampler != value or
                         value in SAMPLERS.values() else
                         f"{key} `{value}` kept as the sampler type (no known equivalent)")
        elif key == "seed":
            hpo.setdefault("sampler", {})["seed"] = value
            w.carry(("sampler", "seed"), (key,))
        elif key == "pruner" and isinstance(value, str):
            hpo["pruner"] = {"type": value}
            w.carry(("pruner",), (key,))
            w.carry(("pruner", "type"), (key,))
        elif key in ("timeout_hours", "timeout_minutes"):
            unit = "h" if key == "timeout_hours" else "m"
            if isinstance(value, int | float) and not isinstance(value, bool) and value > 0 \
                    and math.isfinite(value):
                hpo["timeout"] = f"{value:g}{unit}"
                notes.append(f"{key} {value:g} -> timeout `{hpo['timeout']}`")
            else:
                hpo["timeout"] = value  # the schema reports what does not fit
            w.carry(("timeout",), (key,))
        elif key in ("hyperparameters", "search_space", "parameters") and isinstance(value,
                                                                                   dict):
            hpo["search_space"] = _space(value, w, key, algorithm, notes)
        elif key == "evaluation" and isinstance(value, dict):
            evaluation(value, hpo, w, notes)
        elif key in ("metric", "primary_metric", "objective_metric", "direction",
                     "directions", "secondary_metrics"):
            extra[key] = value
        elif key in ("n_parallel_trials", "n_jobs"):
            hpo["parallel"] = value
            w.carry(("parallel",), (key,))
        elif key == "search_space_name":
            hpo["preset"] = value
            w.carry(("preset",), (key,))
            notes.append(f"search_space_name `{value}` -> preset `{value}`")
        else:  # specc's own keys pass as written; unknown ones the schema reports there
            hpo[key] = copy.deepcopy(value)
            w.carry((key,), (key,))
            w.subtree((key,), (key,))
    if extra:
        objectives(extra, (), hpo, w, notes)
    if hpo.get("sampler", {}).get("type") == "grid" and "n_trials" not in hpo:
        size = _grid_size(hpo.get("search_space"))
        if size:
            hpo["n_trials"] = size
            for k in ("method", "algorithm", "sampler"):
                if k in block:
                    w.carry(("n_trials",), (k,))
                    break
            notes.append(f"n_trials {size} (the whole grid, once)")
    return _ordered(hpo), notes


def _ordered(hpo: dict[str, Any]) -> dict[str, Any]:
    order = ("preset", "profile", "sampler", "pruner", "objectives", "n_trials", "timeout",
             "storage", "study_name", "parallel", "early_stopping_patience", "evaluation",
             "search_space")
    out = {k: hpo[k] for k in order if k in hpo}
    out.update((k, v) for k, v in hpo.items() if k not in out)
    return out


def _space(space: dict[str, Any], w: Writer, where: str, algorithm: str | None,
           notes: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    mapped: list[str] = []
    unknown: list[str] = []
    for name, value in space.items():
        key = str(name)
        path = spec_path(key, algorithm)
        if path is None:
            path = key
            unknown.append(key)
        elif path != key:
            mapped.append(f"{key} -> {path}")
        if path in out:  # two short names for one path: the later one is reported by
            path = key   # H001 under its own name rather than silently lost
        new: Path = ("search_space", path)
        old: Path = (where, name)
        w.carry(new, old)
        out[path] = _dim(value, w, new, old)
    w.carry(("search_space",), (where,))
    label = "search_space" if where == "search_space" else f"{where} -> search_space"
    notes.append(label + (f" ({', '.join(mapped)})" if mapped else ""))
    if unknown:
        groups: dict[str, list[str]] = {}
        for key in unknown:
            groups.setdefault(UNMAPPABLE.get(key, ""), []).append(f"`{key}`")
        said = [", ".join(names) + (f" ({why})" if why else "")
                for why, names in sorted(groups.items(), key=lambda g: g[0] == "")]
        notes.append("kept as written, not spec paths: " + "; ".join(said))
    return out


def _dim(value: Any, w: Writer, new: Path, old: Path) -> Any:
    if isinstance(value, list):
        w.carry((*new, "type"), old)
        w.carry((*new, "choices"), old)
        for i in range(len(value)):
            w.carry((*new, "choices", i), (*old, i))
        return {"type": "categorical", "choices": copy.deepcopy(value)}
    if not isinstance(value, dict):
        return copy.deepcopy(value)  # the schema says a dimension is a mapping
    dim: dict[str, Any] = {}
    kind = value.get("type")
    log = None
    if isinstance(kind, str) and kind.strip().lower() in _TYPES:
        kind, log_type = _TYPES[kind.strip().lower()]
        if log_type:
            log = True
    elif kind is None:
        if "choices" in value or "values" in value:
            kind = "categorical"
        else:
            ends = [value.get(k) for k in ("min", "max", "low", "high") if k in value]
            whole = ends and all(isinstance(v, int) and not isinstance(v, bool) for v in ends)
            kind = "int" if whole else "float"
    dim["type"] = kind
    w.carry((*new, "type"), (*old, "type") if "type" in value else old)
    renames = {"min": "low", "max": "high", "values": "choices"}
    for k, v in value.items():
        if k in ("type", "default"):
            continue  # `default`: the spec's own value is the default
        nk: str = renames.get(str(k), str(k))
        dim[nk] = copy.deepcopy(v)
        w.carry((*new, nk), (*old, k))
        w.subtree((*new, nk), (*old, k))
    if log and "log" not in dim:
        dim["log"] = True
        w.carry((*new, "log"), (*old, "type"))
    return dim


def _grid_size(space: Any) -> int | None:
    if not isinstance(space, dict) or not space:
        return None
    count = 1
    for dim in space.values():
        if not isinstance(dim, dict):
            return None
        choices = dim.get("choices")
        if dim.get("type") == "categorical" and isinstance(choices, list) and choices:
            count *= len(choices)
            continue
        low, high, step = dim.get("low"), dim.get("high"), dim.get("step")
        if dim.get("type") == "int" and step is None:
            step = 1
        nums = (low, high, step)
        if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in nums):
            return None
        assert isinstance(low, int | float) and isinstance(high, int | float)
        assert isinstance(step, int | float)
        if not all(math.isfinite(v) for v in (low, high, step)) or step <= 0 or high < low:
            return None
        count *= math.floor((high - low) / step + 1e-9) + 1
    return count
