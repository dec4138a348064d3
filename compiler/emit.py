"""`specc plan --emit python`: one standalone script per trial.

Each script imports TRL, PEFT, transformers and datasets directly — never specc — and
reproduces its trial: same model, data, trainer config and LoRA settings. Built-in
datasets are written beside the scripts as JSON lines; built-in reward functions are
copied into the script as source. RS-SFT, AWR and PPO train with specc's own trainers
(TRL 1.16 has none): their source is copied beside the scripts as the package
`vendored_algorithms/`, which imports only torch, transformers, TRL and PEFT.
"""

from __future__ import annotations

import inspect
import os
import pprint
from pathlib import Path
from typing import Any

from specc.compiler import builtin_data
from specc.compiler.plan import Plan, Trial
from specc.compiler.tracking import Tracking
from specc.spec.builtins import BUILTIN_PREFIX, DATASETS, REWARD_MODULE
from specc.spec.facts import keep_columns

_DTYPES = {"bfloat16": "torch.bfloat16", "float16": "torch.float16", "float32": "torch.float32"}

def _template() -> str:
    """The script template (`trial_script.py.tmpl`, a `str.format` template)."""
    from importlib.resources import files

    return files("specc.compiler").joinpath("trial_script.py.tmpl").read_text("utf-8")


def _reward_source(functions: list[dict[str, Any]]) -> tuple[str, str]:
    """Source defining REWARD_FUNCS (built-ins copied in, user rewards imported)."""
    if not functions:
        return "", ""
    lines = ["", "# --- reward functions ---"]
    names = []
    for i, fn in enumerate(functions):
        module, _, func = str(fn["name"]).partition(":")
        kwargs = fn.get("kwargs") or {}
        if module == REWARD_MODULE:
            from specc import rewards

            lines.append(inspect.getsource(getattr(rewards, func)).rstrip())
            target = func
        else:
            lines.append(f"from {module} import {func} as _user_reward_{i}")
            target = f"_user_reward_{i}"
        if kwargs:
            lines.append(f"def _reward_{i}(completions, **kw):\n"
                         f"    return {target}(completions, **{{**kw, **{kwargs!r}}})\n"
                         f"_reward_{i}.__name__ = {func!r}")
            target = f"_reward_{i}"
        names.append(target)
    helpers = _reward_helpers()
    lines = [lines[0], lines[1], helpers, *lines[2:]]
    lines.append(f"REWARD_FUNCS = [{', '.join(names)}]")
    return "\n".join(lines) + "\n", "        reward_funcs=REWARD_FUNCS,\n"


def _reward_helpers() -> str:
    from specc import rewards

    # the module-level names the built-in reward functions use
    head = f"import json\nimport re\n\n_NUMBER = re.compile({rewards._NUMBER.pattern!r})"
    return "\n\n".join([head, *(inspect.getsource(getattr(rewards, h)).rstrip()
                                  for h in rewards.HELPERS)])


def _data_source(src: Any, algorithm: str, out: Path, split_default: str,
                 spec_dir: str) -> dict[str, Any] | None:
    if src is None:
        return None
    loc = src.get("path") or src.get("data_path")
    if loc is None:
        return None
    split = src.get("split") or split_default
    if loc.startswith(BUILTIN_PREFIX) and loc in DATASETS:
        suffix = "-kto" if algorithm == "kto" else ""
        rel = f"data/{loc.removeprefix(BUILTIN_PREFIX)}-{split}{suffix}.jsonl"
        target = out / rel
        if not target.exists():
            rows = builtin_data.rows(loc, split)
            if algorithm == "kto":
                rows = builtin_data.kto_view(rows)
            target.parent.mkdir(parents=True, exist_ok=True)
            import json

            target.write_text("".join(json.dumps(r) + "\n" for r in rows))
        return {"path": rel, "max_samples": src.get("max_samples")}
    path = loc if os.path.isabs(loc) else os.path.abspath(os.path.join(spec_dir, loc))
    return {"path": path, "split": src.get("split"), "max_samples": src.get("max_samples")}


def model_source(name: str, spec_dir: str) -> tuple[str, str | None]:
    """(model, adapter) for the script: a previous stage's output folder is its best
    trial's model, or its adapter on the adapter's base (see `specc.spec.stages`)."""
    from specc.spec.stages import resolve_model

    ref = resolve_model(name, spec_dir)
    if ref.kind == "adapter" and ref.base is not None:
        return model_path(ref.base, spec_dir), ref.path
    return (ref.model_dir if ref.model_dir else model_path(name, spec_dir)), None


def model_path(name: str, spec_dir: str) -> str:
    """A plain path or hub id for the script (built-ins resolve to their cache folder)."""
    if name.startswith(BUILTIN_PREFIX):
        from specc.compiler.cache import builtin_model_dir

        return str(builtin_model_dir(name))
    local = name if os.path.isabs(name) else os.path.join(spec_dir, name)
    return os.path.abspath(local) if os.path.exists(local) else name


#: Where specc's own trainers live, and the modules a script needs copied beside it.
OWN_PACKAGE = "specc.runtime.algorithms"
VENDORED = "vendored_algorithms"
_VENDORED_MODULES = ("sampling", "rounds", "rs_sft", "awr", "ppo_math", "ppo", "configs",
                     "trainers")


def vendor_algorithms(out: Path) -> Path:
    """Copy specc's algorithm modules to ``out/vendored_algorithms`` (imports rewritten)."""
    from importlib.resources import files

    target = out / VENDORED
    target.mkdir(parents=True, exist_ok=True)
    source = files(OWN_PACKAGE)
    for name in _VENDORED_MODULES:
        text = source.joinpath(f"{name}.py").read_text("utf-8")
        (target / f"{name}.py").write_text(text.replace(OWN_PACKAGE, VENDORED))
    (target / "__init__.py").write_text(
        '"""specc\'s RS-SFT, AWR and PPO trainers, copied by `specc plan --emit python`."""\n'
        f"from {VENDORED}.configs import AWRConfig, PPOConfig, RSSFTConfig\n"
        f"from {VENDORED}.trainers import AWRTrainer, PPOTrainer, RSSFTTrainer\n\n"
        '__all__ = ["AWRConfig", "AWRTrainer", "PPOConfig", "PPOTrainer", "RSSFTConfig",\n'
        '           "RSSFTTrainer"]\n')
    return target


def emit_trial(plan: Plan, trial: Trial, out: Path) -> Path | None:
    """Write the script of one trial; None when the trial cannot be run by TRL."""
    low = trial.trainer
    if low is None or low.trainer_class is None or trial.spec is None or not trial.feasible:
        return None
    data = trial.spec
    algorithm = str(plan.algorithm)
    spec_dir = os.path.dirname(os.path.abspath(plan.file))
    trainer_module, _, trainer_class = low.trainer_class.rpartition(".")
    own = trainer_module.startswith(OWN_PACKAGE)
    if own:  # copied beside the script, found through the script's folder
        vendor_algorithms(out)
        trainer_module = VENDORED
    _, _, config_class = str(low.config_class).rpartition(".")
    config = dict(low.config)
    config["output_dir"] = os.path.join("out", f"trial-{trial.number}")
    pol = data.get("policy", {})
    rewards_src, reward_arg = _reward_source(low.reward_functions)
    model, adapter = model_source(str(pol.get("model_name")), spec_dir)
    merge = bool(pol.get("merge_adapter", False))
    kept = adapter is not None and not merge  # the adapter trains on: no new LoRA
    data_block = data.get("data") or {}
    script = out / f"trial_{trial.number:04d}.py"
    text = _template().format(
        number=trial.number, name=plan.name, algorithm=algorithm, params=trial.params,
        trial_id=trial.id, script=script.name,
        peft_import=("from peft import LoraConfig\n" if low.peft else "") + (
            "import sys\nsys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))\n"
            if own else ""),
        config_module=trainer_module, config_class=config_class, trainer_class=trainer_class,
        model=model, adapter=adapter, merge=merge,
        dtype=_DTYPES[str(pol.get("precision", "bfloat16"))],
        train=_data_source(data_block.get("train"), algorithm, out, "train", spec_dir),
        validation=_data_source(data_block.get("validation"), algorithm, out, "validation",
                                spec_dir),
        columns=keep_columns(algorithm),
        config=pprint.pformat(config, indent=4, sort_dicts=False),
        peft=pprint.pformat(low.peft, indent=4, sort_dicts=False) if low.peft else "None",
        rewards=rewards_src,
        reward_arg=reward_arg,
        peft_arg="        peft_config=LoraConfig(**PEFT),\n" if low.peft and not kept else "",
        tracking_env=_tracking_env(low.tracking),
        usage=(f"torchrun --nproc_per_node {trial.launch.processes} {script.name}"
               if trial.launch.kind == "torchrun" else f"python {script.name}"),
        load=pprint.pformat({"dtype": low.model_dtype, "quantization": low.quantization,
                             "kbit": low.kbit, "distributed": low.distributed,
                             "job_config": low.job_config}, indent=4, sort_dicts=False),
    )
    script.write_text(text)
    script.chmod(0o755)
    return script


def _tracking_env(tracking: Tracking | None) -> str:
    """The environment the transformers integrations read (`logger` block), as code."""
    if tracking is None or not tracking.backends:
        return ""
    lines = ["# experiment tracking (the spec's `logger` block)"]
    lines += [f"os.environ[{k!r}] = {v!r}" for k, v in sorted(tracking.env.items())]
    lines += [f"os.environ.setdefault({k!r}, {v!r})"
              for k, v in sorted(tracking.env_defaults.items())]
    return "\n".join(lines) + "\n"


def emit_plan(plan: Plan, out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = [p for t in plan.trials if (p := emit_trial(plan, t, out)) is not None]
    return written
