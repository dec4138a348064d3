"""A TRL CLI config (`trl sft|dpo|grpo|... --config x.yaml`) read as a specc spec.

Such a file is flat: `ScriptArguments` (dataset), `ModelConfig` (model, PEFT) and the
trainer's config (`SFTConfig`, `DPOConfig`, `GRPOConfig`, ...) side by side. It is
recognised by those field names at the top level (and no `policy` block). The trainer
comes from `algorithm:` (or `-o algorithm=...`), else from fields only one trainer's
config has; when that cannot be told, R037 says so once. specc's own root keys (`name`,
`hardware`, `hpo`, `data`, `reward`, `logger`, ...) may sit beside the TRL fields and pass
as written, so a TRL CLI config plus an `hpo:` block is a study `specc run` executes.
"""

from __future__ import annotations

import copy
from typing import Any

from specc.spec.diagnostics import Collector
from specc.spec.dialects import trl_table as T
from specc.spec.dialects.rewrite import Tree
from specc.spec.dialects.trl_map import Field, Mapper
from specc.spec.locations import Locations, Path

#: Field names that also are specc root keys; alone they do not make a TRL config.
_SHARED = frozenset({"output_dir"})
ORDER = ("specc", "name", "description", "layout", "algorithm", "output_dir", "policy", "sft",
         "dpo", "orpo", "kto", "grpo", "rloo", "loss_fn", "data", "reward", "hardware",
         "logger", "cluster", "checkpointing", "env", "hpo")


def detect(data: dict[str, Any]) -> bool:
    """Whether ``data`` is a TRL CLI config."""
    if "policy" in data:
        return False
    names = T.all_fields() | set(T.RENAMED)
    return any(k in names and k not in _SHARED for k in data)


def world_of(data: dict[str, Any]) -> int:
    hw = data.get("hardware")
    world = 1
    if isinstance(hw, dict):
        for key in ("gpus_per_node", "num_nodes"):
            v = hw.get(key)
            if isinstance(v, int) and not isinstance(v, bool) and v > 0:
                world *= v
    return world


def normalise(data: dict[str, Any], locs: Locations, diags: Collector, file: str,
              algorithm: str | None = None) -> set[Path]:
    """Rewrite the TRL CLI config ``data`` into a specc spec, in place."""
    tree = Tree(locs, file)
    first = next((k for k in data if k in T.all_fields() or k in T.RENAMED), None)
    head: Path = (first,) if first is not None else ()
    written = data.get("algorithm")
    algo, why = _algorithm(data, written if isinstance(written, str) else algorithm)
    if algo is None and why and (written is None or isinstance(written, str)):
        diags.add("R037", why, path=("algorithm",) if "algorithm" in data else head,
                  on_key=True, hint="add `algorithm: sft` (the `trl <command>` this config "
                  "is for: sft, dpo, kto, orpo, grpo, rloo) or pass `-o algorithm=...`")
    trl_algo = algo if algo in T.ALGORITHMS else None
    fields: dict[str, Field] = {}
    for key, value in data.items():
        name = T.RENAMED.get(key, key)
        if key in T.SPECC_ROOT and key not in T.all_fields():
            if key != "hpo":
                tree.put((key,), value, (key,), subtree=True)
            continue
        if name != key:
            diags.add("R036", f"`{key}` is TRL's old name: the installed TRL calls it "
                      f"`{name}` (and `trl` itself rejects `{key}`); read as `{name}`",
                      path=(key,), on_key=True, hint=f"rename it to `{name}`")
        if name in T.all_fields():
            if trl_algo is not None and name not in T.fields(trl_algo):
                has = ", ".join(T.CLASS_NAMES[a] for a in T.owners(name))
                diags.add("N017", f"`{name}` is not a field of {T.CLASS_NAMES[trl_algo]} "
                          f"(`trl {trl_algo}`); {has} has it", path=(key,), on_key=True,
                          hint="remove it, or set `algorithm:` to the trainer it is for")
                continue
            fields[name] = Field(name, value, (key,))
            continue
        pool = sorted(T.fields(trl_algo) if trl_algo else T.all_fields())
        diags.add("S001", f"unknown key `{key}`: not a TRL "
                  f"{T.CLASS_NAMES.get(trl_algo or '', 'config')} field nor a specc key",
                  path=(key,), on_key=True,
                  hint=T.key_hint(key, [*pool, *T.SPECC_ROOT], otherwise="remove it"))
    tree.put(("layout",), "trl_cli", head)
    if algo is not None:
        tree.put(("algorithm",), algo, ("algorithm",) if "algorithm" in data else head)
    mapper = Mapper(tree, diags, trl_algo, world=world_of(data))
    mapper.run(fields)
    mapper.require_model(head, "add `model_name_or_path: ...` (a hub id, a local folder or "
                         "`specc:tiny-llama`), or pass `-o policy.model_name=...`")
    if "hpo" in data:
        hpo_block(data["hpo"], tree, trl_algo, mapper)
    if mapper.pending and algo is not None and trl_algo is None:
        diags.add("R037", f"`{algo}` is not a TRL CLI trainer, so "
                  + ", ".join(f"`{n}`" for n in mapper.pending) + " have no place",
                  path=("algorithm",) if "algorithm" in data else head, on_key=True,
                  hint="use sft, dpo, kto, orpo, grpo or rloo")
    notes = _notes(algo, mapper, fields)
    at = tree.where(head)
    tree.commit(data, locs, order=ORDER)
    diags.add("R035", "TRL CLI config read as a specc spec" + notes, path=head,
              file=at.file, line=at.line, column=at.column,
              hint="`specc plan --show-spec` prints the spec it was read as")
    return mapper.reported


def _algorithm(data: dict[str, Any], given: str | None) -> tuple[str | None, str]:
    if given is not None:
        return given, ""
    used = {T.RENAMED.get(k, k): v for k, v in data.items()
            if T.RENAMED.get(k, k) in T.all_fields()}
    fits = [a for a in T.ALGORITHMS
            if all(k in T.fields(a) and T.type_ok(v, T.fields(a)[k][0]) for k, v in used.items())]
    if len(fits) == 1:
        return fits[0], ""
    if not fits:
        by = {k: T.owners(k) for k in used if len(T.owners(k)) < len(T.ALGORITHMS)}
        said = "; ".join(f"`{k}` ({', '.join(v)})" for k, v in by.items())
        return None, f"cannot tell which TRL trainer this config is for: no one trainer has " \
            f"all its fields ({said})"
    return None, "cannot tell which TRL trainer this config is for: its fields fit " + \
        ", ".join(f"`trl {a}`" for a in fits)


def hpo_block(hpo: Any, tree: Tree, algo: str | None, mapper: Mapper) -> None:
    """`hpo` as written, with TRL field names in `search_space` read as specc paths."""
    if not isinstance(hpo, dict):
        tree.put(("hpo",), hpo, ("hpo",), subtree=True)  # the schema reports it
        return
    out = {k: v for k, v in hpo.items() if k != "search_space"}
    tree.put(("hpo",), out, ("hpo",), subtree=True)
    space = hpo.get("search_space")
    if not isinstance(space, dict):
        if "search_space" in hpo:
            tree.put(("hpo", "search_space"), space, ("hpo", "search_space"), subtree=True)
        return
    new: dict[str, Any] = {}
    moves: list[tuple[str, Path]] = []
    for key, dim in space.items():
        path = T.path_of(str(key), algo) if str(key) in T.all_fields() else None
        if path is not None and "{" not in path:
            mapper.mapped.append(f"hpo.search_space.{key} -> {path}")
        target = path if path is not None and "{" not in path else str(key)
        new[target] = copy.deepcopy(dim)
        moves.append((target, ("hpo", "search_space", key)))
    tree.put(("hpo", "search_space"), new, ("hpo", "search_space"))
    for target, old in moves:
        tree.put(("hpo", "search_space", target), new[target], old, subtree=True)


def _notes(algo: str | None, m: Mapper, fields: dict[str, Field]) -> str:
    parts: list[str] = []
    if algo is not None:
        parts.append(f"`trl {algo}`" + (f" ({T.CLASS_NAMES[algo]})" if algo in T.CLASS_NAMES
                                        else ""))
    if m.mapped:
        parts.append(", ".join(m.mapped))
    if m.filled:
        parts.append("TRL's defaults where specc's differ: " + ", ".join(m.filled))
    if m.ignored:
        parts.append("at TRL's default (nothing to do): " + ", ".join(m.ignored))
    use_peft = fields.get("use_peft")
    if use_peft is not None and use_peft.value is True and "lora_target_modules" not in fields:
        parts.append("no lora_target_modules: specc adapts all attention and MLP projections "
                     "(PEFT would pick per architecture)")
    return (": " + "; ".join(parts)) if parts else ""
