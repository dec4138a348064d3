"""Built-in names, local paths and reward function names (nothing is opened or imported)."""

from __future__ import annotations

import os
import re

from specc.spec import builtins
from specc.spec.catalog.architectures import lookup_architecture
from specc.spec.interpolate import env_unknown
from specc.spec.reward_policy import is_file_ref
from specc.spec.rules.context import Context
from specc.spec.schema_check import close_matches

_DOTTED = re.compile(r"^[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*$")
_IDENT = re.compile(r"^[A-Za-z_]\w*$")


def _suggest(name: str, options: list[str]) -> str:
    close = close_matches(name, options, cutoff=0.5)
    return f"did you mean `{close[0]}`?" if close else "known: " + ", ".join(
        f"`{o}`" for o in options)


def _looks_local(name: str) -> bool:
    return name.startswith(("/", "./", "../", "~")) or os.path.isabs(name)


def check(ctx: Context) -> None:
    if ctx.point:
        return
    _model(ctx)
    _data(ctx)
    _rewards(ctx)


def _elsewhere(ctx: Context, name: str, path: tuple[str, ...], what: str) -> None:
    """W006: a path that may exist where the config runs, not here."""
    ctx.diags.add("W006", f"{what} `{name}` does not exist on this machine; validate cannot "
                  "check it", path=path,
                  hint="fine if it exists where the run happens (a cluster's shared storage); "
                  "otherwise fix the path")


def _model(ctx: Context) -> None:
    name = ctx.spec.policy.model_name
    path = ("policy", "model_name")
    if env_unknown(name):
        return
    if name.startswith(builtins.BUILTIN_PREFIX):
        if name not in builtins.MODELS:
            ctx.diags.add("N001", f"unknown built-in model `{name}`", path=path,
                          hint=_suggest(name, list(builtins.MODELS)))
        return
    local = ctx.local_path(name)
    if os.path.isdir(local):
        from specc.spec.stages import resolve_model

        ref = resolve_model(local, "")  # a model, an adapter, or a previous run's output
        if ref.problem:
            ctx.diags.add("N010", ref.problem, path=path,
                          hint="point at a folder saved with `save_pretrained`, a LoRA "
                          "adapter folder, or a finished run's output folder")
        return
    if os.path.isabs(os.path.expanduser(name)):
        _elsewhere(ctx, name, path, "model folder")
        return
    if _looks_local(name):
        ctx.diags.add("N010", f"model folder `{name}` does not exist", path=path,
                      hint="check the path; relative paths start at the spec's folder")
        return
    if lookup_architecture(name) is None:
        ctx.diags.add("N009", f"`{name}` is not in specc's offline architecture table; "
                      "memory will not be estimated", path=path,
                      hint="point `model_name` at a local folder with `config.json`, or use "
                      "a listed model (`specc models`)")


def _data(ctx: Context) -> None:
    data = ctx.spec.data
    algo = ctx.algorithm
    for split in ("train", "validation", "default"):
        src = getattr(data, split)
        if src is None:
            continue
        key = "path" if src.path is not None else "data_path"
        loc = src.location
        if loc is None or env_unknown(loc):
            continue
        path = ("data", split, key)
        if loc.startswith(builtins.BUILTIN_PREFIX):
            kind = builtins.DATASETS.get(loc)
            if kind is None:
                ctx.diags.add("N003", f"unknown built-in dataset `{loc}`", path=path,
                              hint=_suggest(loc, list(builtins.DATASETS)))
                continue
            if src.split is not None and src.split not in builtins.DATASET_SPLITS:
                ctx.diags.add("S005", f"`{loc}` has no split `{src.split}`",
                              path=("data", split, "split"),
                              hint="use " + " or ".join(builtins.DATASET_SPLITS))
            if algo and kind not in builtins.ALGORITHM_DATA[algo]:
                fit = [d for d, k in builtins.DATASETS.items()
                       if k in builtins.ALGORITHM_DATA[algo]]
                ctx.diags.add("N008", f"`{loc}` holds {kind} data; `{algo}` trains on "
                              + " or ".join(builtins.ALGORITHM_DATA[algo]) + " data", path=path,
                              hint=f"use `{fit[0]}`" if fit else "pick a fitting dataset")
            continue
        if _looks_hub_dataset(loc):
            continue
        if not os.path.exists(ctx.local_path(loc)) and (
                key == "data_path" or os.path.isabs(os.path.expanduser(loc))):
            # NeMo RL resolves `data_path` against its launch directory
            _elsewhere(ctx, loc, path, "data path")
        elif not os.path.exists(ctx.local_path(loc)):
            ctx.diags.add("N002", f"data path `{loc}` does not exist", path=path,
                          hint="paths are relative to the spec's folder; specc never downloads "
                          "datasets")


def _looks_hub_dataset(loc: str) -> bool:
    # `org/name` without an extension and not rooted: a hub dataset id (run refuses it
    # offline; validate only checks local paths).
    parts = loc.split("/")
    return (len(parts) == 2 and not _looks_local(loc) and "." not in parts[1]
            and not os.path.exists(loc))


def _rewards(ctx: Context) -> None:
    if ctx.spec.reward is None:
        return
    for i, fn in enumerate(ctx.spec.reward.functions):
        path = ("reward", "functions", i, "name")
        if is_file_ref(fn.name):  # `./rewards.py:score`: spec.rules.rewards checks it
            continue
        module, sep, func = fn.name.partition(":")
        if not sep or not _DOTTED.match(module) or not _IDENT.match(func):
            ctx.diags.add("N005", f"reward `{fn.name}` is not `module:function`", path=path,
                          hint="for example `specc.rewards:exact_match` or `my_rewards:score`")
            continue
        if module == builtins.REWARD_MODULE and func not in builtins.REWARDS:
            ctx.diags.add("N004", f"`specc.rewards` has no `{func}`", path=path,
                          hint=_suggest(func, list(builtins.REWARDS)))
