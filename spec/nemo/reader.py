"""Reading NeMo RL's config classes from its source with `ast` (never an import): the
`Reader` over a source tree, each field annotation as a JSON type expression (see
:mod:`specc.spec.nemo.generate`), and the small AST helpers the generator shares."""

from __future__ import annotations

import ast
import json
import os
import sys
from dataclasses import field
from typing import Any

from specc.spec.records import record

Type = Any  # a JSON type expression (see the module docstring)

_SCALARS = {"int": "int", "float": "float", "str": "str", "bool": "bool", "bytes": "str",
            "Any": "any", "object": "any", "None": "none", "NoneType": "none"}
_LISTS = {"list", "List", "Sequence", "tuple", "Tuple", "set", "Set", "frozenset",
          "MutableSequence", "Iterable"}
_DICTS = {"dict", "Dict", "Mapping", "MutableMapping"}
_WRAPPERS = {"NotRequired", "Required", "ReadOnly", "Final", "ClassVar"}


@record
class _Module:
    name: str
    tree: ast.Module
    classes: dict[str, ast.ClassDef] = field(default_factory=dict)
    imports: dict[str, tuple[str, str]] = field(default_factory=dict)  # alias -> (mod, name)
    aliases: dict[str, ast.expr] = field(default_factory=dict)


class Reader:
    """Every module of a package, read with `ast`, and the classes they declare."""

    def __init__(self, root: str) -> None:
        self.root = os.path.abspath(root)
        self.package = os.path.basename(self.root)
        self.modules: dict[str, _Module] = {}
        for folder, dirs, files in os.walk(self.root):
            dirs.sort()
            for f in sorted(files):
                if f.endswith(".py"):
                    self._read(os.path.join(folder, f))
        self.types: dict[str, dict[str, Any]] = {}
        self._kinds: dict[str, str | None] = {}

    def _read(self, path: str) -> None:
        rel = os.path.relpath(path, os.path.dirname(self.root))[:-3].split(os.sep)
        is_pkg = rel[-1] == "__init__"
        if is_pkg:
            rel = rel[:-1]
        name = ".".join(rel)
        with open(path, encoding="utf-8") as fh:
            try:
                tree = ast.parse(fh.read(), filename=path)
            except SyntaxError:
                return
        mod = _Module(name, tree)
        pkg = name if is_pkg else name.rpartition(".")[0]
        for node in tree.body:
            if isinstance(node, ast.ClassDef):
                mod.classes[node.name] = node
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = pkg.split(".")
                    parts = parts[: len(parts) - node.level + 1]
                    base = ".".join([*parts, base] if base else parts)
                for a in node.names:
                    mod.imports[a.asname or a.name] = (base, a.name)
            elif isinstance(node, ast.Assign) and len(node.targets) == 1 \
                    and isinstance(node.targets[0], ast.Name):
                mod.aliases[node.targets[0].id] = node.value
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) \
                    and node.value is not None and _name(node.annotation) == "TypeAlias":
                mod.aliases[node.target.id] = node.value
            elif sys.version_info >= (3, 12) and isinstance(node, ast.TypeAlias):
                mod.aliases[node.name.id] = node.value
        self.modules[name] = mod

    # --- name resolution ---------------------------------------------------------------
    def lookup(self, mod: str, name: str, depth: int = 0) -> tuple[str, str, str] | None:
        """Where ``name`` seen in ``mod`` is defined: (module, name, 'class'|'alias')."""
        m = self.modules.get(mod)
        if m is None or depth > 20:
            return None
        if name in m.classes:
            return mod, name, "class"
        if name in m.aliases:
            return mod, name, "alias"
        if name in m.imports:
            src, orig = m.imports[name]
            if src in self.modules:
                return self.lookup(src, orig, depth + 1)
            sub = f"{src}.{orig}"
            if sub in self.modules:
                return None
        return None

    def kind(self, mod: str, name: str) -> str | None:
        """'typeddict', 'model' or None for a class defined in ``mod``."""
        key = f"{mod}:{name}"
        if key in self._kinds:
            return self._kinds[key]
        self._kinds[key] = None  # cycle guard
        node = self.modules[mod].classes[name]
        found: str | None = None
        for base in node.bases:
            bname = _name(base)
            if bname in ("TypedDict",):
                found = "typeddict"
            elif bname == "BaseModel":
                found = "model"
            elif bname:
                hit = self.lookup(mod, bname)
                if hit and hit[2] == "class":
                    found = self.kind(hit[0], hit[1])
            if found:
                break
        self._kinds[key] = found
        return found

    # --- types -------------------------------------------------------------------------
    def convert(self, mod: str, node: ast.expr | None, depth: int = 0) -> Type:
        if node is None or depth > 40:
            return "any"
        if isinstance(node, ast.Constant):
            if node.value is None:
                return "none"
            if isinstance(node.value, str):  # a forward reference
                try:
                    inner = ast.parse(node.value, mode="eval").body
                except SyntaxError:
                    return "any"
                return self.convert(mod, inner, depth + 1)
            return "any"
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
            return _union([self.convert(mod, node.left, depth + 1),
                           self.convert(mod, node.right, depth + 1)])
        if isinstance(node, ast.Subscript):
            head = _name(node.value)
            args = list(node.slice.elts) if isinstance(node.slice, ast.Tuple) else [node.slice]
            if head in _WRAPPERS or head == "Annotated":
                return self.convert(mod, args[0], depth + 1)
            if head == "Literal":
                return {"literal": [_literal(a) for a in args]}
            if head == "Optional":
                return _union([self.convert(mod, args[0], depth + 1), "none"])
            if head == "Union":
                return _union([self.convert(mod, a, depth + 1) for a in args])
            if head in _LISTS:
                items = [a for a in args if not (isinstance(a, ast.Constant)
                                                 and a.value is Ellipsis)]
                return {"list": _union([self.convert(mod, a, depth + 1) for a in items])
                        if items else "any"}
            if head in _DICTS:
                value = self.convert(mod, args[1], depth + 1) if len(args) == 2 else "any"
                return {"dict": value}
            return self.convert(mod, node.value, depth + 1)
        name = _name(node)
        if name is None:
            return "any"
        hit = self.lookup(mod, name)
        if hit is not None:
            hmod, hname, what = hit
            if what == "alias":
                return self.convert(hmod, self.modules[hmod].aliases[hname], depth + 1)
            if self.kind(hmod, hname):
                ref = f"{hmod}:{hname}"
                self.declare(hmod, hname)
                return {"ref": ref}
            return "any"
        if name in _SCALARS:
            return _SCALARS[name]
        if name in _LISTS:
            return {"list": "any"}
        if name in _DICTS:
            return {"dict": "any"}
        return "any"

    def declare(self, mod: str, name: str) -> None:
        """Add the TypedDict or model ``mod:name`` (and what it refers to) to ``types``."""
        ref = f"{mod}:{name}"
        if ref in self.types:
            return
        kind = self.kind(mod, name)
        node = self.modules[mod].classes[name]
        entry: dict[str, Any] = {"kind": kind, "fields": {}}
        self.types[ref] = entry
        fields: dict[str, Any] = {}
        for base in node.bases:
            bname = _name(base)
            hit = self.lookup(mod, bname) if bname else None
            if hit and hit[2] == "class" and self.kind(hit[0], hit[1]):
                self.declare(hit[0], hit[1])
                fields.update(self.types[f"{hit[0]}:{hit[1]}"]["fields"])
        total = True
        for kw in node.keywords:
            if kw.arg == "total" and isinstance(kw.value, ast.Constant):
                total = bool(kw.value.value)
            if kw.arg == "extra" and isinstance(kw.value, ast.Constant):
                entry["extra"] = kw.value.value
        for stmt in node.body:
            if not (isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name)):
                if kind == "model" and isinstance(stmt, ast.Assign) and any(
                        isinstance(t, ast.Name) and t.id == "model_config"
                        for t in stmt.targets):
                    extra = _config_extra(stmt.value)
                    if extra:
                        entry["extra"] = extra
                continue
            fname = stmt.target.id
            if fname.startswith("__") or _name(_unwrap_classvar(stmt.annotation)) == "ClassVar":
                continue
            head = _name(stmt.annotation.value) if isinstance(stmt.annotation,
                                                              ast.Subscript) else None
            f: dict[str, Any] = {"type": self.convert(mod, stmt.annotation)}
            if kind == "typeddict":
                f["required"] = head == "Required" or (total and head != "NotRequired")
            else:
                default, has = _default(stmt.value)
                f["required"] = not has
                if has and default is not _NO_JSON:
                    f["default"] = default
            fields[fname] = f
        entry["fields"] = fields
        if kind == "model" and entry.get("extra") == "allow" and _uses_extras(node):
            # a model whose own code reads its extras (a teacher carries a whole policy
            # as extras and dumps them); `extra="allow"` alone (every algorithm block has
            # it) declares nothing, so such blocks stay closed and typos are caught
            entry["open"] = True
        if "_target_" in fields:
            # Hydra-style: `_target_` names a class and the other keys are its kwargs
            entry["open"] = True


_NO_JSON = object()


def _uses_extras(node: ast.ClassDef) -> bool:
    """Whether a model's methods read its extras (`self.model_extra`, `self.model_dump`)."""
    for sub in ast.walk(node):
        if isinstance(sub, ast.Attribute) and sub.attr in ("model_extra", "model_dump",
                                                           "__pydantic_extra__") \
                and isinstance(sub.value, ast.Name) and sub.value.id == "self":
            return True
    return False


def _default(value: ast.expr | None) -> tuple[Any, bool]:
    """(JSON default or _NO_JSON, whether there is a default) for a model field."""
    if value is None:
        return None, False
    if isinstance(value, ast.Call) and _name(value.func) == "Field":
        for kw in value.keywords:
            if kw.arg == "default":
                return _const(kw.value), True
            if kw.arg == "default_factory":
                return _NO_JSON, True
        if value.args:
            first = value.args[0]
            if isinstance(first, ast.Constant) and first.value is Ellipsis:
                return None, False
            return _const(first), True
        return None, False
    return _const(value), True


def _const(node: ast.expr) -> Any:
    try:
        value = ast.literal_eval(node)
    except (ValueError, SyntaxError, TypeError):
        return _NO_JSON
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return _NO_JSON
    return value


def _config_extra(node: ast.expr) -> str | None:
    if isinstance(node, ast.Call):
        for kw in node.keywords:
            if kw.arg == "extra" and isinstance(kw.value, ast.Constant):
                return str(kw.value.value)
    return None


def _unwrap_classvar(node: ast.expr) -> ast.expr:
    return node.value if isinstance(node, ast.Subscript) else node


def _name(node: ast.expr | None) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _literal(node: ast.expr) -> Any:
    value = _const(node)
    return None if value is _NO_JSON else value


def _union(arms: list[Type]) -> Type:
    flat: list[Type] = []
    for a in arms:
        for b in (a["union"] if isinstance(a, dict) and "union" in a else [a]):
            if b not in flat:
                flat.append(b)
    if "any" in flat:
        return "any"
    return flat[0] if len(flat) == 1 else {"union": flat}
