"""Key paths into a spec: one grammar, one reader and one writer.

A key path is a tuple of mapping keys and list indices, ``("policy", "scheduler", 0,
"kwargs", "lr")``. Its text form is the one diagnostics print and ``-o`` reads:
``policy.scheduler[0].kwargs.lr``; a key that holds dots is quoted,
``hpo.search_space["policy.lora.r"].low``. The loader, provenance, ``specc set``, the
search space, the rules, the compiler and the runtime all parse, render, get and set
paths with these functions.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from specc.spec.locations import Path

__all__ = ["Path", "delete", "get", "has", "parse", "render", "set_value", "split_override",
           "value_at"]


def render(path: Iterable[str | int]) -> str:
    """Render a key path as ``policy.scheduler[1].kwargs.factor``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif "." in part or "[" in part or " " in part:
            out += f'["{part}"]'
        else:
            out += f".{part}" if out else str(part)
    return out


def parse(text: str) -> Path | None:
    """``policy.scheduler[0].kwargs.lr`` or ``policy.scheduler.0.kwargs.lr`` -> key path;
    None when ``text`` is not one.

    A key that holds dots is quoted, as diagnostics print it:
    ``hpo.search_space["policy.lora.r"].low`` or ``hpo.search_space."policy.lora.r".low``.
    """
    if '"' in text or "'" in text:
        return _parse_quoted(text)
    parts: list[str | int] = []
    for raw in text.replace("]", "").replace("[", ".").split("."):
        if raw == "":
            return None
        parts.append(int(raw) if raw.isdigit() else raw)
    return tuple(parts) if parts else None


#: The loader's name for :func:`parse` (re-exported by `spec.loader`).
parse_override_path = parse


def _parse_quoted(text: str) -> Path | None:
    parts: list[str | int] = []
    i, n = 0, len(text)
    while True:
        if i < n and text[i] == "[":
            j = i + 1
            if j < n and text[j] in "\"'":
                close = text.find(text[j], j + 1)
                if close < 0 or close + 1 >= n or text[close + 1] != "]":
                    return None
                part: str | int = text[j + 1:close]
                i = close + 2
            else:
                close = text.find("]", j)
                if close <= j:
                    return None
                inner = text[j:close]
                part = int(inner) if inner.isdigit() else inner
                i = close + 1
        elif i < n and text[i] in "\"'":
            close = text.find(text[i], i + 1)
            if close < 0:
                return None
            part = text[i + 1:close]
            i = close + 1
        else:
            j = i
            while j < n and text[j] not in ".[":
                j += 1
            raw = text[i:j]
            if any(q in raw for q in "\"']"):
                return None
            part = int(raw) if raw.isdigit() else raw
            i = j
        if part == "":
            return None
        parts.append(part)
        if i == n:
            return tuple(parts)
        if text[i] == ".":
            i += 1
            if i == n:
                return None
        elif text[i] != "[":
            return None


def split_override(text: str) -> tuple[Path, Any] | None:
    """``path=value`` -> (key path, value parsed as YAML); None when it is not that shape.
    `-o` and `specc set` both read their arguments with this."""
    from specc.spec.yamlio import parse_scalar  # yamlio imports the diagnostics, which
    # render paths with this module

    key, sep, value_text = text.partition("=")
    path = parse(key.strip().lstrip("+~"))
    if not sep or path is None:
        return None
    return path, (parse_scalar(value_text) if value_text.strip() else None)


def _child(node: Any, part: str | int) -> tuple[bool, Any]:
    if isinstance(node, dict) and part in node:
        return True, node[part]
    if isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
        return True, node[part]
    return False, None


def get(data: Any, path: Path) -> tuple[bool, Any]:
    """(True, the value at ``path``) in plain data (dicts and lists), else (False, None)."""
    node = data
    for part in path:
        found, node = _child(node, part)
        if not found:
            return False, None
    return True, node


def has(data: Any, path: Path) -> bool:
    """Whether ``path`` exists in ``data``."""
    return get(data, path)[0]


def set_value(data: Any, path: Path, value: Any) -> bool:
    """Set ``path`` in ``data`` the way ``-o path=value`` does: missing (or null) mappings
    on the way are created, list indices must exist. False (nothing changed) when the
    path runs through a scalar or past the end of a list."""
    if not path:
        return False
    node: Any = data
    for part in path[:-1]:
        if isinstance(node, dict):
            nxt = node.get(part)
            if nxt is None:
                nxt = node[part] = {}
        else:
            found, nxt = _child(node, part)
            if not found:
                return False
        if not isinstance(nxt, dict | list):
            return False
        node = nxt
    last = path[-1]
    if isinstance(node, dict):
        node[last] = value
        return True
    if isinstance(node, list) and isinstance(last, int) and 0 <= last < len(node):
        node[last] = value
        return True
    return False


def delete(data: Any, path: Path) -> bool:
    """Remove ``path`` from ``data`` (a list item becomes None, so later indices stay);
    False when there is nothing there."""
    if not path:
        return False
    found, node = get(data, path[:-1])
    if not found:
        return False
    last = path[-1]
    if isinstance(node, dict) and last in node:
        del node[last]
        return True
    if isinstance(node, list) and isinstance(last, int) and 0 <= last < len(node):
        node[last] = None
        return True
    return False


def value_at(data: Any, path: Path, default: Any = None) -> Any:
    """The value at ``path``, else ``default``."""
    found, value = get(data, path)
    return value if found else default
