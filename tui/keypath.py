"""The key path under the cursor, read from the YAML text by indentation.

The editor's buffer is often invalid YAML while it is being typed, so the path comes from
the lines themselves, not from a parser: block mappings and block sequences by
indentation, and one line of flow mappings and sequences (``kwargs: {lr: 1e-4}``) by
brackets. List items are index 0: every item of a list has the same schema.
"""

from __future__ import annotations

import re

Path = tuple[str | int, ...]

_KEY = re.compile(
    r"""^(?P<lead>[ ]*)(?P<dash>(?:-[ ]+)*)"""
    r"""(?P<key>"[^"\n]*"|'[^'\n]*'|[^\s#'"{}\[\],:&*!|>-][^#{}\[\],:]*?)"""
    r"""[ ]*:(?=[ ]|$)"""
)
_DASH = re.compile(r"^(?P<lead>[ ]*)-(?:[ ]+|$)")


def _unquote(key: str) -> str:
    key = key.strip()
    if len(key) >= 2 and key[0] == key[-1] and key[0] in "\"'":
        return key[1:-1]
    return key


def _is_blank(line: str) -> bool:
    stripped = line.strip()
    return not stripped or stripped.startswith("#")


def _opens_block(rest: str) -> bool:
    """Whether the value after ``key:`` is empty (a nested block follows)."""
    rest = rest.split(" #", 1)[0].strip()
    return rest == "" or rest.startswith(("&", "!", "|", ">"))


def key_path(text: str, row: int, column: int) -> Path:
    """The key path at ``(row, column)`` (0-based), e.g. ``("dpo", "max_num_steps")``."""
    lines = text.split("\n")
    if not 0 <= row < len(lines):
        return ()
    line = lines[row].rstrip("\r")
    path: list[str | int] = []
    m = _KEY.match(line)
    if m:
        lead, dash = len(m["lead"]), m["dash"]
        own: list[str | int] = [0] * dash.count("-") + [_unquote(m["key"])]
        if column >= m.end():
            own += flow_path(line[m.end():], column - m.end())
        indent = lead
        path = own
    elif _is_blank(line):
        indent = min(column, len(line)) if line.strip() == "" else len(line) - len(line.lstrip())
    else:
        d = _DASH.match(line)
        indent = len(line) - len(line.lstrip(" "))
        if d:
            path = [0]
            indent = len(d["lead"])
    for above in range(row - 1, -1, -1):
        if indent == 0:
            break
        prev = lines[above].rstrip("\r")
        if _is_blank(prev):
            continue
        lead = len(prev) - len(prev.lstrip(" "))
        if lead >= indent:
            continue
        pm = _KEY.match(prev)
        if pm:
            key_col = len(pm["lead"]) + len(pm["dash"])
            if key_col < indent and _opens_block(prev[pm.end():]):
                path.insert(0, _unquote(pm["key"]))
            path[0:0] = [0] * pm["dash"].count("-")
        elif _DASH.match(prev):
            path.insert(0, 0)
        indent = lead
    return tuple(path)


def flow_path(text: str, column: int) -> list[str | int]:
    """The path inside a one-line flow collection (``{a: 1, b: [2, {c: 3}]}``) at
    ``column``; empty when ``column`` is not inside brackets."""
    frames: list[list[object]] = []  # [kind, key, start of the current entry]
    i, quote = 0, ""
    while i < min(column, len(text)):
        c = text[i]
        if quote:
            if c == quote:
                quote = ""
        elif c in "\"'":
            quote = c
        elif c == "#" and (i == 0 or text[i - 1] == " ") and not frames:
            break
        elif c in "{[":
            frames.append(["map" if c == "{" else "seq", None, i + 1])
        elif c in "}]":
            if frames:
                frames.pop()
        elif c == "," and frames:
            frames[-1][1], frames[-1][2] = None, i + 1
        elif c == ":" and frames and frames[-1][0] == "map" and (
                i + 1 >= len(text) or text[i + 1] in " ,}"):
            start = frames[-1][2]
            assert isinstance(start, int)
            frames[-1][1] = _unquote(text[start:i])
        i += 1
    path: list[str | int] = []
    for n, (kind, key, start) in enumerate(frames):
        if kind == "seq":
            path.append(0)
        elif key is not None:
            path.append(str(key))
        elif n == len(frames) - 1 and isinstance(start, int):
            ahead = re.match(r"\s*([^:,{}\[\]]+?)\s*:(?=[ ,}]|$)", text[start:])
            if ahead:
                path.append(_unquote(ahead[1]))
    return path
