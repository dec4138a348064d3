"""Stages that chain: what a `policy.model_name` that names a previous stage's output is.

Seed 003's guide trains stage 1 (ORPO/DPO), stage 2 (RS-SFT/AWR) and stage 3 (PPO/GRPO),
each from the previous stage's model. `policy.model_name` may name:

- a previous run's output folder (`runs/stage1`, it holds `results.json`): its best
  trial's saved `model/` or `adapter/` (`trials/<best>/...`);
- a LoRA adapter folder (`adapter_config.json`): the adapter, loaded onto its base;
- a model folder (`config.json`), a built-in (`specc:...`) or a hub id, as before.

An adapter's base is the `base_model` specc records beside it (`specc_stage.json`, written
when a trial saves an adapter, so a chain of adapters all name the first stage's model,
`specc:tiny-llama` included), else PEFT's `base_model_name_or_path`. Plain data and JSON:
importing this module imports nothing heavy (validate reads it).
"""

from __future__ import annotations

import json
import os
from typing import Any, Literal

from specc.spec.records import record

__all__ = ["STAGE_FILE", "ModelRef", "resolve_model"]

#: Written beside a saved adapter: the base model name it trains on.
STAGE_FILE = "specc_stage.json"

Kind = Literal["name", "model", "adapter"]


@record(frozen=True)
class ModelRef:
    """What a `model_name` resolves to."""

    kind: Kind
    #: A model folder (kind `model`), an adapter folder (`adapter`), or the name as given.
    path: str
    #: The adapter's base model (a name, folder or hub id); None unless kind is `adapter`.
    base: str | None = None
    #: The run folder it came from (a previous stage's output), if any.
    run: str | None = None
    #: The best trial of that run.
    trial: int | None = None
    #: Why it cannot be used (None when it can).
    problem: str | None = None

    @property
    def model_dir(self) -> str | None:
        """The folder holding `config.json` of the model itself (a plain model)."""
        return self.path if self.kind == "model" else None


def _read(path: str) -> Any:
    try:
        if os.path.getsize(path) > 4 * 1024 * 1024:
            return None
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def _adapter(folder: str, run: str | None = None, trial: int | None = None) -> ModelRef:
    stage = _read(os.path.join(folder, STAGE_FILE))
    config = _read(os.path.join(folder, "adapter_config.json"))
    base = stage.get("base_model") if isinstance(stage, dict) else None
    if base is None and isinstance(config, dict):
        base = config.get("base_model_name_or_path")
    if not isinstance(base, str) or not base:
        return ModelRef("adapter", folder, None, run, trial,
                        problem=f"adapter `{folder}` does not name its base model "
                        "(`base_model_name_or_path` in adapter_config.json)")
    return ModelRef("adapter", folder, base, run, trial)


def _run(folder: str) -> ModelRef:
    results = _read(os.path.join(folder, "results.json"))
    best = results.get("best") if isinstance(results, dict) else None
    number = best.get("number") if isinstance(best, dict) else None
    if not isinstance(number, int):
        return ModelRef("model", folder, run=folder,
                        problem=f"run folder `{folder}` has no complete trial yet "
                        "(results.json names no best trial)")
    trial = os.path.join(folder, "trials", str(number))
    if os.path.isfile(os.path.join(trial, "adapter", "adapter_config.json")):
        return _adapter(os.path.join(trial, "adapter"), folder, number)
    if os.path.isfile(os.path.join(trial, "model", "config.json")):
        return ModelRef("model", os.path.join(trial, "model"), run=folder, trial=number)
    return ModelRef("model", folder, run=folder, trial=number,
                    problem=f"the best trial ({number}) of `{folder}` saved no model: a study "
                    "keeps models only with `hpo.keep_best_n` (a single run always does)")


def resolve_model(name: str, spec_dir: str) -> ModelRef:
    """Resolve `policy.model_name` against the spec's folder, then the working folder
    (see the module docstring)."""
    expanded = os.path.expanduser(name)
    here = expanded if os.path.isabs(expanded) else os.path.join(spec_dir, expanded)
    # relative names: the spec's folder first, then the working folder (where
    # `specc run` wrote a previous stage's `runs/...`)
    local = next((p for p in (here, expanded) if os.path.isdir(p)), None)
    if local is None:
        return ModelRef("name", name)
    folder = os.path.abspath(local)
    if os.path.isfile(os.path.join(folder, "results.json")):
        return _run(folder)
    if os.path.isfile(os.path.join(folder, "adapter_config.json")):
        return _adapter(folder)
    if os.path.isfile(os.path.join(folder, "config.json")):
        return ModelRef("model", folder)
    return ModelRef("model", folder, problem=f"`{name}` is a folder without `config.json`")
