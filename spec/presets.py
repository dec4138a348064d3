"""Named search spaces (`hpo.preset`) and study profiles (`hpo.profile`), as data.

The names and ranges come from the StateSet HPO guide (seed 004: the GRPO parameter
table, the optimizer / model-architecture / generation spaces, the conservative and
aggressive spaces, the quick / conservative / aggressive / distributed profiles) and
the NeMo RL DPO guide (seeds 000 and 003), written as ordinary spec text.

:func:`apply` expands them in place before the schema sees the spec, so everything
downstream (schema, search-space rules, feasibility at the corners, the plan, the run)
sees plain `search_space` entries and study settings. What the user wrote always wins:
a preset only adds dimensions whose path is not searched yet, a profile only fills
settings that are not written. Generated entries carry the location of the `preset:` /
`profile:` value, so a diagnostic about one of them lands on the line that asked for it.
Unknown names are left alone for rule H014.
"""

from __future__ import annotations

import copy
import io
import math
from typing import Any

from specc.spec import keypath
from specc.spec.diagnostics import Collector
from specc.spec.dialects import KL_PATHS, algorithm_of
from specc.spec.facts import GENERATES, PREFERENCE, ROLLOUTS
from specc.spec.locations import Loc, Locations, Path
from specc.spec.models.algorithms import ALGORITHM_BLOCKS

#: Placeholders in preset paths: the selected algorithm's KL/beta coefficient, and the
#: selected algorithm's block (for keys GRPO and RLOO share).
KL = "{kl}"
ALGO = "{algo}"

_LR = "policy.optimizer.kwargs.lr"


def _float(low: float, high: float, *, log: bool = False) -> dict[str, Any]:
    dim: dict[str, Any] = {"type": "float", "low": low, "high": high}
    if log:
        dim["log"] = True
    return dim


def _choice(*choices: Any) -> dict[str, Any]:
    return {"type": "categorical", "choices": list(choices)}


#: Preset name -> search space (dotted path -> distribution).
SEARCH_SPACES: dict[str, dict[str, dict[str, Any]]] = {
    # seed 004's GRPO table: learning_rate, kl_penalty_coef, max_grad_norm, group_size
    "grpo": {
        _LR: _float(1.0e-6, 1.0e-3, log=True),
        KL: _float(0.001, 0.1, log=True),
        "policy.max_grad_norm": _float(0.5, 2.0),
        f"{ALGO}.num_generations_per_prompt": _choice(4, 8, 16),
    },
    # seeds 000/003: lr 1e-6..1e-4 (log), beta 0.05..0.5, SFT loss weight 0..0.5
    "dpo": {
        _LR: _float(1.0e-6, 1.0e-4, log=True),
        KL: _float(0.05, 0.5),
        "dpo.sft_loss_weight": _float(0.0, 0.5),
    },
    # seed 004's optimizer space (scalar keyword arguments only)
    "optimizer": {
        _LR: _float(1.0e-6, 1.0e-3, log=True),
        "policy.optimizer.kwargs.weight_decay": _float(0.0, 0.1),
    },
    # seed 004's model-architecture space: LoRA rank and dropout (keep alpha = 2 x r)
    "lora": {
        "policy.lora.r": _choice(8, 16, 32),
        "policy.lora.dropout": _float(0.0, 0.1),
    },
    # seed 004's generation space
    "generation": {
        "policy.generation.temperature": _float(0.7, 1.5),
        "policy.generation.top_p": _float(0.8, 0.99),
    },
    # filled per algorithm by `search_space` (see FULL)
    "full": {},
    # seed 004's conservative space: narrow, safe
    "conservative": {
        _LR: _float(1.0e-6, 1.0e-5, log=True),
        KL: _float(0.05, 0.15),
    },
    # seed 004's aggressive space: wide, exploration
    "aggressive": {
        _LR: _float(5.0e-6, 1.0e-3, log=True),
        KL: _float(0.001, 0.05, log=True),
    },
}

#: Presets written for some algorithms only.
FITS: dict[str, frozenset[str]] = {
    "grpo": ROLLOUTS,
    "dpo": PREFERENCE,
    "generation": GENERATES,
}
#: The algorithm's own preset, for `full` and for hints.
OWN: dict[str, str] = {"grpo": "grpo", "rloo": "grpo", "dpo": "dpo", "orpo": "dpo",
                       "kto": "dpo"}

#: `full` = the algorithm's own preset + optimizer + lora (when LoRA is on) + generation
#: (when the algorithm generates), earlier parts winning on shared paths.
FULL: tuple[str, ...] = ("optimizer", "lora", "generation")

#: Profile name -> study settings (keys of `hpo`).
PROFILES: dict[str, dict[str, Any]] = {
    # fast, few trials: prototyping (seed 004: 10-20 trials)
    "quick": {
        "sampler": {"type": "tpe", "n_startup_trials": 3},
        "pruner": {"type": "median", "n_startup_trials": 2, "n_warmup_steps": 1},
        "n_trials": 10,
        "evaluation": {"max_steps": 100, "val_period": 20},
    },
    # safe, standard budget (seed 004: 50-100 trials, median pruning, 5 warmup steps)
    "conservative": {
        "sampler": {"type": "tpe", "n_startup_trials": 10},
        "pruner": {"type": "median", "n_startup_trials": 5, "n_warmup_steps": 5},
        "n_trials": 50,
    },
    # wide exploration with aggressive pruning (Hyperband)
    "aggressive": {
        "sampler": {"type": "tpe", "n_startup_trials": 10},
        "pruner": {"type": "hyperband", "min_resource": 1, "reduction_factor": 3},
        "n_trials": 100,
    },
    # many workers on one storage (seed 004: 200+ trials, parallel trials); the storage
    # URL is the user's to give (`storage:` or `specc run --storage`)
    "distributed": {
        "sampler": {"type": "tpe", "n_startup_trials": 20, "constant_liar": True},
        "pruner": {"type": "median", "n_startup_trials": 10, "n_warmup_steps": 5},
        "n_trials": 200,
        "parallel": 4,
    },
}

PRESET_NAMES: tuple[str, ...] = tuple(SEARCH_SPACES)
PROFILE_NAMES: tuple[str, ...] = tuple(PROFILES)

_ALGORITHM_BLOCKS = tuple(ALGORITHM_BLOCKS)


def fits(name: str, algorithm: str | None) -> bool:
    """Whether preset ``name`` is meant for ``algorithm``."""
    only = FITS.get(name)
    return only is None or algorithm in only


def search_space(name: str, algorithm: str | None, *, lora: bool = True
                 ) -> dict[str, dict[str, Any]] | None:
    """Preset ``name`` for ``algorithm``, as plain search-space entries (None: unknown
    name). Paths that need a known algorithm are left out when it is not known; ``lora``
    says whether `full` includes the LoRA dimensions."""
    if name not in SEARCH_SPACES:
        return None
    if name == "full":
        parts: list[str] = []
        own = OWN.get(algorithm or "")
        if own:
            parts.append(own)
        parts.append("optimizer")
        if lora:
            parts.append("lora")
        if algorithm in GENERATES:
            parts.append("generation")
        out: dict[str, dict[str, Any]] = {}
        for part in parts:
            for k, v in (search_space(part, algorithm) or {}).items():
                out.setdefault(k, v)
        return out
    out = {}
    for key, dim in SEARCH_SPACES[name].items():
        path = _substitute(key, algorithm)
        if path is None:
            continue
        head = path.split(".", 1)[0]
        if head in _ALGORITHM_BLOCKS and head != algorithm:
            continue  # a knob of another algorithm (e.g. dpo.sft_loss_weight for ORPO)
        out[path] = copy.deepcopy(dim)
    return out


def _substitute(key: str, algorithm: str | None) -> str | None:
    if key == KL:
        return KL_PATHS.get(algorithm) if algorithm else None
    if key.startswith(ALGO):
        return key.replace(ALGO, algorithm) if algorithm else None
    return key


def _norm(key: str) -> Path | None:
    """A search-space key as a key path, so `a[0].b` and `a.0.b` are one key."""
    return keypath.parse(key)


def apply(data: dict[str, Any], locs: Locations, diags: Collector, file: str = "") -> None:
    """Expand `hpo.preset` and `hpo.profile` in place (see the module doc)."""
    hpo = data.get("hpo")
    if not isinstance(hpo, dict):
        return
    algorithm = algorithm_of(data)
    preset = hpo.get("preset")
    if isinstance(preset, str) and preset in SEARCH_SPACES:
        where = _loc(locs, ("hpo", "preset"), file)
        if not fits(preset, algorithm):
            if algorithm is not None:
                own = OWN.get(algorithm)
                diags.add("W003", f"preset `{preset}` is for "
                          + ", ".join(sorted(FITS[preset])) + f"; the algorithm is "
                          f"`{algorithm}`, so it adds nothing", path=("hpo", "preset"),
                          hint=f"use `preset: {own}`" if own else
                          "use `optimizer`, `lora`, `conservative`, `aggressive` or `full`")
        else:
            _expand_preset(hpo, locs, where, preset, algorithm=algorithm, data=data)
    profile = hpo.get("profile")
    if isinstance(profile, str) and profile in PROFILES:
        _expand_profile(hpo, locs, _loc(locs, ("hpo", "profile"), file), profile, data=data,
                        algorithm=algorithm)


def _loc(locs: Locations, path: Path, file: str) -> Loc:
    return locs.values.get(path) or locs.keys.get(path) or locs.find(path) or Loc(file, 0, 0)


def _mark(locs: Locations, path: Path, where: Loc) -> None:
    locs.values[path] = where
    locs.keys[path] = where


def _expand_preset(hpo: dict[str, Any], locs: Locations, where: Loc, name: str, *,
                   algorithm: str | None, data: dict[str, Any]) -> None:
    lora = data.get("policy", {}).get("lora") if isinstance(data.get("policy"), dict) else None
    lora_on = isinstance(lora, dict) and lora.get("enabled") is True
    entries = search_space(name, algorithm, lora=lora_on) or {}
    if "search_space" not in hpo:
        hpo["search_space"] = {}
        _mark(locs, ("hpo", "search_space"), where)
    space = hpo["search_space"]
    if not isinstance(space, dict):
        return  # the schema reports it
    written = {_norm(str(k)) for k in space}
    if name == "full" and not lora_on and "policy.lora.enabled" in space:
        entries = {**entries, **{k: v for k, v in (search_space("lora", algorithm) or {})
                                 .items() if k not in entries}}
    for path, dim in entries.items():
        if _norm(path) in written:
            continue
        space[path] = dim
        _mark(locs, ("hpo", "search_space", path), where)


def _expand_profile(hpo: dict[str, Any], locs: Locations, where: Loc, name: str, *,
                    data: dict[str, Any], algorithm: str | None) -> None:
    settings = copy.deepcopy(PROFILES[name])
    evaluation = settings.get("evaluation")
    if isinstance(evaluation, dict) and "max_steps" in evaluation and algorithm:
        block = data.get(algorithm)
        steps = block.get("max_num_steps") if isinstance(block, dict) else None
        if isinstance(steps, int) and not isinstance(steps, bool) and \
                steps <= evaluation["max_steps"]:
            del evaluation["max_steps"]  # the run is already that short
    for key, value in settings.items():
        if key not in hpo:
            hpo[key] = value
            _mark(locs, ("hpo", key), where)
            continue
        mine = hpo[key]
        if not isinstance(value, dict) or not isinstance(mine, dict):
            continue  # the user's value wins
        if "type" in value and "type" in mine and mine["type"] != value["type"]:
            continue  # another sampler/pruner: the profile's options would not fit it
        for sub, v in value.items():
            if sub not in mine:
                mine[sub] = v
                _mark(locs, ("hpo", key, sub), where)


# --- the expanded spec as YAML ----------------------------------------------------------

_TOP = ("specc", "name", "extends", "defaults", "algorithm", "policy", *_ALGORITHM_BLOCKS,
        "loss_fn", "data", "reward", "hardware", "cluster")
_HPO = ("backend", "preset", "profile", "sampler", "pruner", "scheduler", "objectives",
        "n_trials", "timeout", "storage", "study_name", "parallel", "early_stopping_patience",
        "keep_best_n", "max_failed_trials", "evaluation", "health", "search_space")
_DIM = ("type", "low", "high", "log", "step", "choices", "when")


def expanded_yaml(data: dict[str, Any]) -> str:
    """Plain spec data as block-style YAML, keys in reading order (`hpo` last)."""
    from ruamel.yaml import YAML  # here, not at import: validate never writes YAML
    from ruamel.yaml.comments import CommentedMap

    yaml = YAML(typ="rt")
    yaml.default_flow_style = False
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 100
    yaml.representer.add_representer(float, _float_repr)
    yaml.representer.add_representer(type(None), _none_repr)
    top = _ordered_keys(data, _TOP, last=("hpo",))
    out = CommentedMap()
    for k in top:
        v = data[k]
        if k == "hpo" and isinstance(v, dict):
            hpo = CommentedMap()
            for hk in _ordered_keys(v, _HPO):
                hv = v[hk]
                if hk == "search_space" and isinstance(hv, dict):
                    space = CommentedMap()
                    for path, dim in hv.items():
                        space[path] = _node(
                            {dk: dim[dk] for dk in _ordered_keys(dim, _DIM)}
                            if isinstance(dim, dict) else dim)
                    hpo[hk] = space
                else:
                    hpo[hk] = _node(hv)
            out[k] = hpo
        else:
            out[k] = _node(v)
    buf = io.StringIO()
    yaml.dump(out, buf)
    return buf.getvalue()


def _ordered_keys(d: dict[str, Any], order: tuple[str, ...], last: tuple[str, ...] = ()
                  ) -> list[str]:
    first = [k for k in order if k in d]
    rest = [k for k in d if k not in first and k not in last]
    return first + rest + [k for k in last if k in d]


def _node(v: Any) -> Any:
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    if isinstance(v, dict):
        m = CommentedMap()
        for k, x in v.items():
            m[k] = _node(x)
        return m
    if isinstance(v, list):
        seq = CommentedSeq([_node(x) for x in v])
        if all(not isinstance(x, dict | list) for x in v):
            seq.fa.set_flow_style()
        return seq
    return v


def _float_repr(representer: Any, value: float) -> Any:
    if math.isnan(value):
        text = ".nan"
    elif value in (float("inf"), float("-inf")):
        text = ".inf" if value > 0 else "-.inf"
    else:
        text = repr(value)
        if "e" in text and "." not in text.split("e")[0]:
            mantissa, exp = text.split("e")
            text = f"{mantissa}.0e{exp}"  # `1.0e-06`: a float to YAML 1.1 readers too
    return representer.represent_scalar("tag:yaml.org,2002:float", text)


def _none_repr(representer: Any, value: None) -> Any:
    return representer.represent_scalar("tag:yaml.org,2002:null", "null")
