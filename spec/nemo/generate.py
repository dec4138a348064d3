"""Generate NeMo RL's config catalog from its source, with `ast` only (never an import:
NeMo RL needs Ray, vLLM and CUDA).

    python -m specc.spec.nemo.generate PATH/TO/RL/nemo_rl --commit SHA [-o catalog.json]

NeMo RL declares its configuration as `TypedDict`s and pydantic `BaseModel`s; each
algorithm has a `MasterConfig` model naming its top-level blocks. This module reads every
class that is (transitively) a `TypedDict` or `BaseModel`, turns each field's annotation
into a small JSON type expression, and writes them with the package version and commit:

* ``"int"``, ``"float"``, ``"str"``, ``"bool"``, ``"none"``, ``"any"``
* ``{"literal": [values]}``, ``{"union": [types]}``, ``{"list": type}``,
  ``{"dict": type}`` (``dict[str, Any]`` is ``{"dict": "any"}``: an open mapping),
  ``{"ref": "module:Class"}`` (an entry of ``types``)

Names the reader cannot resolve to one of those (a tokenizer class, ``Callable``, ...)
become ``"any"``: the catalog never claims more than the source declares.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import subprocess
from typing import Any

from specc.spec.nemo.reader import (
    Reader,
    Type,
    _const,
    _name,
)


def _masters(reader: Reader) -> dict[str, str]:
    """Each algorithm's `MasterConfig`, named by its module's last part."""
    out: dict[str, str] = {}
    for name in sorted(reader.modules):
        mod = reader.modules[name]
        if "MasterConfig" in mod.classes and reader.kind(name, "MasterConfig") == "model":
            short = name.rpartition(".")[2]
            if short == "config":  # nemo_rl.algorithms.single_controller_utils.config
                short = name.split(".")[-2].removesuffix("_utils")
            reader.declare(name, "MasterConfig")
            out[short] = f"{name}:MasterConfig"
    return out


_BACKEND_DIRS = ("models/generation", "weight_sync", "algorithms")


def _backends(reader: Reader) -> list[str]:
    """Generation backend names NeMo RL's source dispatches on: string constants compared
    with a generation config's `backend` (``generation_config["backend"] == "vllm"``,
    ``backend == "sglang"``, ``SGLANG_BACKEND = "sglang"``) in its generation, weight-sync
    and algorithm modules. NeMo RL types the key as plain `str`; this is its set."""
    found: set[str] = set()
    dirs = tuple(f"{reader.package}." + d.replace("/", ".") for d in _BACKEND_DIRS)
    for name, mod in reader.modules.items():
        if not name.startswith(dirs):
            continue
        for node in ast.walk(mod.tree):
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(
                    node.targets[0], ast.Name) and node.targets[0].id.endswith("_BACKEND") \
                    and isinstance(node.value, ast.Constant) and isinstance(node.value.value,
                                                                            str):
                found.add(node.value.value)
            if not isinstance(node, ast.Compare) or not _is_backend(node.left):
                continue
            for comp in node.comparators:
                elts = comp.elts if isinstance(comp, (ast.Tuple, ast.List, ast.Set)) else [comp]
                found.update(e.value for e in elts
                             if isinstance(e, ast.Constant) and isinstance(e.value, str))
    return sorted(found)


def _is_backend(node: ast.expr) -> bool:
    """`<generation config>["backend"]`, `<generation config>.get("backend")`, or a name
    `backend`/`generation_backend`."""
    if isinstance(node, ast.Name):
        return node.id in ("backend", "generation_backend")
    target: ast.expr | None = None
    if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant) \
            and node.slice.value == "backend":
        target = node.value
    elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
            and node.func.attr == "get" and node.args and isinstance(node.args[0], ast.Constant) \
            and node.args[0].value == "backend":
        target = node.func.value
    return target is not None and ("gen" in ast.unparse(target) or ast.unparse(target) in (
        "config", "cfg"))


def _subclasses(reader: Reader, types: dict[str, dict[str, Any]]) -> None:
    """Record each TypedDict's subclasses: a field typed as the base accepts any of them
    (NeMo RL types `policy.generation` as `GenerationConfig` and passes `VllmConfig`)."""
    for name, mod in sorted(reader.modules.items()):
        for cname, node in mod.classes.items():
            if reader.kind(name, cname) != "typeddict":
                continue
            for base in node.bases:
                bname = _name(base)
                hit = reader.lookup(name, bname) if bname else None
                if hit and hit[2] == "class" and f"{hit[0]}:{hit[1]}" in types:
                    reader.declare(name, cname)
                    subs = types[f"{hit[0]}:{hit[1]}"].setdefault("subclasses", [])
                    if f"{name}:{cname}" not in subs:
                        subs.append(f"{name}:{cname}")


def _reads(reader: Reader, types: dict[str, dict[str, Any]]) -> dict[str, list[str]]:
    """Keys NeMo RL's code reads from a config block its TypedDicts do not declare.

    NeMo RL's `TypeAdapter` ignores keys a TypedDict does not declare, and its code reads
    some that none declares (`config["megatron_cfg"]["moe_router_dtype"]`). Recorded per
    block name (the field name of a declared block): ``X["block"]["key"]``,
    ``X["block"].get("key")``, ``"key" in X["block"]``, and the same on a variable named
    like the block when that name ends in `_cfg`/`_config` (``vllm_cfg.get("key")``)."""
    blocks: dict[str, set[str]] = {}
    for entry in types.values():
        for fname, f in entry["fields"].items():
            if _has_ref(f["type"]):
                blocks.setdefault(fname, set())
    declared: dict[str, set[str]] = {b: set() for b in blocks}
    for entry in types.values():
        for fname, f in entry["fields"].items():
            if fname in declared:
                for ref in _refs(f["type"]):
                    declared[fname] |= _all_fields(types, ref)
    for mod in reader.modules.values():
        for node in ast.walk(mod.tree):
            key, parent = _read_of(node)
            if key is None or parent is None or parent not in blocks:
                continue
            if not key.isidentifier() or key in declared[parent]:
                continue
            blocks[parent].add(key)
    return {b: sorted(k) for b, k in sorted(blocks.items()) if k}


def _read_of(node: ast.AST) -> tuple[str | None, str | None]:
    target: ast.expr | None = None
    key: str | None = None
    if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant) \
            and isinstance(node.slice.value, str):
        key, target = node.slice.value, node.value
    elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
            and node.func.attr in ("get", "pop", "setdefault") and node.args \
            and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
        key, target = node.args[0].value, node.func.value
    elif isinstance(node, ast.Compare) and len(node.ops) == 1 \
            and isinstance(node.ops[0], (ast.In, ast.NotIn)) \
            and isinstance(node.left, ast.Constant) and isinstance(node.left.value, str):
        key, target = node.left.value, node.comparators[0]
    if target is None:
        return None, None
    if isinstance(target, ast.Subscript) and isinstance(target.slice, ast.Constant) \
            and isinstance(target.slice.value, str):
        return key, target.slice.value
    name = _name(target)
    if name and name.endswith(("_cfg", "_config")):
        return key, name
    return key, None


def _has_ref(t: Type) -> bool:
    return bool(_refs(t))


def _refs(t: Type) -> list[str]:
    if isinstance(t, dict):
        if "ref" in t:
            return [t["ref"]]
        if "union" in t:
            return [r for a in t["union"] for r in _refs(a)]
    return []


def _all_fields(types: dict[str, dict[str, Any]], ref: str) -> set[str]:
    out: set[str] = set()
    todo = [ref]
    while todo:
        r = todo.pop()
        entry = types.get(r)
        if entry is None or r in out:
            continue
        out.add(r)
        todo.extend(entry.get("subclasses", ()))
    return {f for r in out for f in types[r]["fields"]}


def _merges(reader: Reader) -> dict[str, list[str]]:
    """Blocks NeMo RL merges over another: ``{**cfg["megatron_cfg"],
    **(gen.get("mcore_generation_config") or {})}`` makes every `megatron_cfg` key valid in
    `mcore_generation_config`. Recorded as later block -> the blocks merged under it."""
    out: dict[str, set[str]] = {}
    for mod in reader.modules.values():
        for node in ast.walk(mod.tree):
            if not isinstance(node, ast.Dict):
                continue
            names = [n for k, v in zip(node.keys, node.values, strict=True)
                     if k is None and (n := _block_of(v))]
            for i, later in enumerate(names):
                for earlier in names[:i]:
                    if earlier != later:
                        out.setdefault(later, set()).add(earlier)
    return {k: sorted(v) for k, v in sorted(out.items())}


def _block_of(node: ast.expr) -> str | None:
    """The block a `**` entry unpacks: `x["b"]`, `x.get("b")`, `cast(T, x["b"])`, `(... or
    {})`."""
    if isinstance(node, ast.BoolOp):
        return _block_of(node.values[0])
    if isinstance(node, ast.Call) and _name(node.func) == "cast" and len(node.args) == 2:
        return _block_of(node.args[1])
    if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant) \
            and isinstance(node.slice.value, str):
        return node.slice.value
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
            and node.func.attr == "get" and node.args and isinstance(node.args[0], ast.Constant) \
            and isinstance(node.args[0].value, str):
        return node.args[0].value
    return None


def _passthrough(reader: Reader) -> list[str]:
    """Blocks whose keys NeMo RL hands on whole to another library's config class:
    ``SchedulerConfig(**cfg["megatron_cfg"]["scheduler"])``, or ``kw = {**cfg["megatron_cfg"]
    ["optimizer"], ...}`` then ``OptimizerConfig(**kw)``. Any key is valid there (the
    library's own class decides). Named `parent.block` when the parent is a subscript too."""
    found: set[str] = set()
    for mod in reader.modules.values():
        for func in ast.walk(mod.tree):
            if not isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            merged: dict[str, list[str]] = {}
            for node in ast.walk(func):
                if isinstance(node, ast.Assign) and len(node.targets) == 1 \
                        and isinstance(node.targets[0], ast.Name) \
                        and isinstance(node.value, ast.Dict):
                    merged[node.targets[0].id] = [
                        b for k, v in zip(node.value.keys, node.value.values, strict=True)
                        if k is None and (b := _dotted_block(v))]
            for node in ast.walk(func):
                if not isinstance(node, ast.Call):
                    continue
                for kw in node.keywords:
                    if kw.arg is not None:
                        continue
                    if isinstance(kw.value, ast.Name) and kw.value.id in merged:
                        found.update(merged[kw.value.id])
                    elif (b := _dotted_block(kw.value)) is not None:
                        found.add(b)
    return sorted(found)


def _dotted_block(node: ast.expr) -> str | None:
    """`x["a"]["b"]` -> "a.b"; `x["b"]` -> "b"; else None."""
    if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant) \
            and isinstance(node.slice.value, str):
        inner = node.value
        if isinstance(inner, ast.Subscript) and isinstance(inner.slice, ast.Constant) \
                and isinstance(inner.slice.value, str):
            return f"{inner.slice.value}.{node.slice.value}"
        return node.slice.value
    return None


_GENERATION = "models.generation"


def _generation_models(reader: Reader) -> None:
    """Pydantic models a generation backend validates its whole generation config with
    (``DynamoConfig.model_validate(self.cfg)`` in `models/generation/`): variants of
    `GenerationConfig`, recorded as its subclasses."""
    base = f"{reader.package}.models.generation.interfaces:GenerationConfig"
    if base not in reader.types:
        return
    prefix = f"{reader.package}.{_GENERATION}"
    for name, mod in reader.modules.items():
        if not name.startswith(prefix):
            continue
        for node in ast.walk(mod.tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "model_validate" and node.args):
                continue
            arg = ast.unparse(node.args[0])
            if arg not in ("config", "self.cfg", "cfg", "generation_config"):
                continue
            cname = _name(node.func.value)
            hit = reader.lookup(name, cname) if cname else None
            if hit and hit[2] == "class" and reader.kind(hit[0], hit[1]) == "model":
                reader.declare(hit[0], hit[1])
                subs = reader.types[base].setdefault("subclasses", [])
                if f"{hit[0]}:{hit[1]}" not in subs:
                    subs.append(f"{hit[0]}:{hit[1]}")


def _extras_read(reader: Reader) -> None:
    """Mark open the models whose extras NeMo RL's code reads elsewhere:
    ``res = TeacherResourceConfig(**merged)`` then ``res.model_extra`` in one function."""
    for name, mod in reader.modules.items():
        for func in ast.walk(mod.tree):
            if not isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            made: dict[str, str] = {}
            for node in ast.walk(func):
                if isinstance(node, ast.Assign) and len(node.targets) == 1 \
                        and isinstance(node.targets[0], ast.Name) \
                        and isinstance(node.value, ast.Call) and _name(node.value.func):
                    made[node.targets[0].id] = _name(node.value.func) or ""
            for node in ast.walk(func):
                if isinstance(node, ast.Attribute) and node.attr == "model_extra" \
                        and isinstance(node.value, ast.Name) and node.value.id in made:
                    hit = reader.lookup(name, made[node.value.id])
                    ref = f"{hit[0]}:{hit[1]}" if hit else ""
                    if ref in reader.types:
                        reader.types[ref]["open"] = True


def _version(root: str) -> str:
    path = os.path.join(root, "package_info.py")
    parts: dict[str, Any] = {}
    try:
        with open(path, encoding="utf-8") as fh:
            tree = ast.parse(fh.read())
    except (OSError, SyntaxError):
        return "unknown"
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name) \
                and node.targets[0].id in ("MAJOR", "MINOR", "PATCH", "PRE_RELEASE"):
            parts[node.targets[0].id] = _const(node.value)
    if not all(k in parts for k in ("MAJOR", "MINOR", "PATCH")):
        return "unknown"
    return f"{parts['MAJOR']}.{parts['MINOR']}.{parts['PATCH']}{parts.get('PRE_RELEASE') or ''}"


def _git_commit(root: str) -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True,
                             text=True, check=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def build(root: str, commit: str) -> dict[str, Any]:
    """The catalog of the NeMo RL package at ``root`` (its `nemo_rl` folder)."""
    reader = Reader(root)
    masters = _masters(reader)
    _generation_models(reader)
    _extras_read(reader)
    for _ in range(3):  # subclasses may refer to further types
        _subclasses(reader, reader.types)
    for entry in reader.types.values():
        if "subclasses" in entry:
            entry["subclasses"].sort()
    return {
        "source": "NVIDIA-NeMo/RL",
        "version": _version(root),
        "commit": commit,
        "masters": masters,
        "generation_backends": _backends(reader),
        "reads": _reads(reader, reader.types),
        "merges": _merges(reader),
        "passthrough": _passthrough(reader),
        "types": {k: reader.types[k] for k in sorted(reader.types)},
    }


def render(catalog: dict[str, Any]) -> str:
    return json.dumps(catalog, indent=1, sort_keys=False) + "\n"


DEFAULT_OUTPUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "catalog.json")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", help="the `nemo_rl` folder of a NeMo RL checkout")
    parser.add_argument("--commit", help="the checkout's commit (default: `git rev-parse`)")
    parser.add_argument("-o", "--output", default=DEFAULT_OUTPUT)
    args = parser.parse_args(argv)
    commit = args.commit or _git_commit(args.root)
    if not commit:
        parser.error("give --commit: the folder is not in a git checkout")
    catalog = build(args.root, commit)
    with open(args.output, "w", encoding="utf-8") as fh:
        fh.write(render(catalog))
    print(f"{args.output}: NeMo RL {catalog['version']} @ {commit[:12]}, "
          f"{len(catalog['masters'])} MasterConfigs, {len(catalog['types'])} types")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
