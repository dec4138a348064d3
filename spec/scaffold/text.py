"""A tiny writer of commented YAML: every key on its own line with a comment saying why.

`specc init` builds its scaffolds as data (:class:`Key`, :class:`Item`, :class:`Note`)
and this module turns them into text. It writes only what those scaffolds need: block
mappings, block sequences of flow values, flow mappings and lists of scalars, and
comment lines. Output is deterministic: the same entries give the same bytes.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Iterable, Mapping, Sequence
from typing import TypeAlias

from specc.spec.edit import render_str
from specc.spec.records import record

Scalar = bool | int | float | str | None
#: A value written on the key's line: a scalar, a flow list or a flow mapping.
Flow: TypeAlias = Scalar | Sequence["Flow"] | Mapping[str, "Flow"]

#: Column where trailing comments start (the examples' column), unless the line is longer.
COMMENT_COLUMN = 36
#: Comments are wrapped to this width.
WIDTH = 100
INDENT = 2


@record(frozen=True)
class Key:
    """``key: value  # why``: a flow value, a nested block mapping or a block sequence."""

    key: str
    value: Flow | Block | Items
    why: str = ""


@record(frozen=True)
class Block:
    """A nested block mapping."""

    entries: tuple[Entry, ...]

    @classmethod
    def of(cls, entries: Iterable[Entry]) -> Block:
        return cls(tuple(entries))


@record(frozen=True)
class Item:
    """``- value  # why``, one entry of a block sequence (``Key(k, Items(...))``)."""

    value: Flow
    why: str = ""


@record(frozen=True)
class Items:
    """A block sequence."""

    items: tuple[Item, ...]


@record(frozen=True)
class Note:
    """A comment line of its own (``# text``), wrapped; empty text is a blank line."""

    text: str


Entry: TypeAlias = "Key | Note"

def scalar(value: Scalar) -> str:
    """One scalar as YAML: plain where that reads back as the same string, else quoted."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _float(value)
    # `specc set`'s quoting; flow-safe, as the writer does not track flow context
    return render_str(value, flow=True)


def _float(value: float) -> str:
    if math.isnan(value) or math.isinf(value):
        raise ValueError(f"no YAML text for {value!r} in a scaffold")
    if value != 0 and not 1e-3 <= abs(value) < 1e6:
        mantissa, exp = f"{value:e}".split("e")
        mantissa = mantissa.rstrip("0")
        return f"{mantissa}0e{int(exp)}" if mantissa.endswith(".") else f"{mantissa}e{int(exp)}"
    return repr(value)  # `1.0e-5` above: a float to YAML 1.1 readers too


def flow(value: Flow) -> str:
    """A value in flow style (``[a, b]``, ``{k: v}``)."""
    if isinstance(value, str):
        return scalar(value)
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{scalar(k)}: {flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, Sequence):
        return "[" + ", ".join(flow(v) for v in value) + "]"
    return scalar(value)


def _line(text: str, why: str, out: list[str]) -> None:
    """``text  # why``: trailing when the line has room (wrapped comments stay aligned at
    :data:`COMMENT_COLUMN`), else the comment goes on the lines above ``text``."""
    if not why:
        out.append(text)
        return
    column = max(COMMENT_COLUMN, len(text) + 2)
    if column + 2 + len(why) <= WIDTH:
        out.append(f"{text.ljust(column)}# {why}")
        return
    if len(text) + 2 <= COMMENT_COLUMN:
        parts = textwrap.wrap(why, WIDTH - COMMENT_COLUMN - 2)
        out.append(f"{text.ljust(COMMENT_COLUMN)}# {parts[0]}")
        out.extend(f"{' ' * COMMENT_COLUMN}# {p}" for p in parts[1:])
        return
    pad = " " * (len(text) - len(text.lstrip(" ")))
    out.extend(f"{pad}# {p}" for p in textwrap.wrap(why, WIDTH - len(pad) - 2))
    out.append(text)


def _entries(entries: Sequence[Entry], depth: int, out: list[str]) -> None:
    pad = " " * (INDENT * depth)
    for e in entries:
        if isinstance(e, Note):
            if not e.text:
                out.append("")
                continue
            for p in textwrap.wrap(e.text, WIDTH - len(pad) - 2):
                out.append(f"{pad}# {p}")
            continue
        head = f"{pad}{scalar(e.key)}:"
        if isinstance(e.value, Items):
            _line(head, e.why, out)
            for item in e.value.items:
                _line(f"{pad}  - {flow(item.value)}", item.why, out)
        elif isinstance(e.value, Block):
            _line(head, e.why, out)
            _entries(e.value.entries, depth + 1, out)
        else:
            _line(f"{head} {flow(e.value)}", e.why, out)


def dump(entries: Sequence[Entry]) -> str:
    """The document text for ``entries`` (top-level keys and notes)."""
    out: list[str] = []
    _entries(entries, 0, out)
    return "\n".join(out) + "\n"
