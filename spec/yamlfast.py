"""Compose YAML with libyaml (PyYAML's C parser), keeping every position.

Only the parser's *events* are used: they are turned into light nodes here, with
the start and end marks libyaml reports, and :mod:`specc.spec.yamlio` converts
those nodes to data exactly as it converts ruamel's. No PyYAML constructor or
resolver ever runs: plain scalars are resolved by the YAML 1.2 core-schema table
below (the one ruamel.yaml applies), so the two paths give the same values.

Anything libyaml rejects, or that this module does not handle the way ruamel does
(a ``%YAML`` directive, an undefined alias, characters libyaml refuses), returns
``None``: the caller then composes with ruamel, which reports it as before.
Building is iterative, so nesting depth costs no recursion; the depth and the
number of nodes are capped while building.
"""

from __future__ import annotations

import functools
import re
import sys
from typing import Any

CORE = "tag:yaml.org,2002:"
STR, SEQ, MAP = CORE + "str", CORE + "seq", CORE + "map"

# ruamel.yaml's YAML 1.2 implicit resolvers, in its order (first character -> tags).
_RESOLVERS: list[tuple[str, re.Pattern[str], str]] = [
    (CORE + "bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), "tTfF"),
    (CORE + "float", re.compile(r"""^(?:
         [-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
        |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
        |[-+]?\.[0-9_]+(?:[eE][-+][0-9]+)?
        |[-+]?\.(?:inf|Inf|INF)
        |\.(?:nan|NaN|NAN))$""", re.X), "-+0123456789."),
    (CORE + "int", re.compile(r"""^(?:[-+]?0b[0-1_]+
        |[-+]?0o?[0-7_]+
        |[-+]?[0-9_]+
        |[-+]?0x[0-9a-fA-F_]+)$""", re.X), "-+0123456789"),
    (CORE + "merge", re.compile(r"^(?:<<)$"), "<"),
    (CORE + "null", re.compile(r"^(?: ~|null|Null|NULL| )$", re.X), "~nN"),
    (CORE + "timestamp", re.compile(r"""^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]
        |[0-9][0-9][0-9][0-9] -[0-9][0-9]? -[0-9][0-9]?
        (?:[Tt]|[ \t]+)[0-9][0-9]?
        :[0-9][0-9] :[0-9][0-9] (?:\.[0-9]*)?
        (?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$""", re.X), "0123456789"),
    (CORE + "value", re.compile(r"^(?:=)$"), "="),
]
_BY_FIRST: dict[str, list[tuple[str, re.Pattern[str]]]] = {}
for _tag, _rx, _first in _RESOLVERS:
    for _ch in _first:
        _BY_FIRST.setdefault(_ch, []).append((_tag, _rx))


@functools.lru_cache(maxsize=4096)
def resolve_plain(value: str) -> str:
    """The core-schema tag of a plain (unquoted, untagged) scalar."""
    if value == "":
        return CORE + "null"
    for tag, rx in _BY_FIRST.get(value[0], ()):
        if rx.match(value):
            return tag
    return STR


class Node:
    """A composed node: ``id`` is ``scalar``, ``sequence`` or ``mapping`` (as in ruamel).
    Built once per event, so it takes its fields positionally."""

    __slots__ = ("end_mark", "id", "start_mark", "style", "tag", "value")

    def __init__(self, id: str, tag: str, value: Any, start_mark: Any, end_mark: Any,  # noqa: PLR0917
                 style: str | None = None) -> None:
        self.id = id
        self.tag = tag
        self.value = value
        self.start_mark = start_mark
        self.end_mark = end_mark
        self.style = style


# PyYAML's pure-Python reader, which libyaml never uses, compiles at import a character
# class spanning all of Unicode: about 9 ms, a twentieth of a cold `specc validate`. The
# same class written as its complement (the few code points YAML forbids) compiles 15x
# faster and matches exactly the same characters (tests/test_yamlio.py tries every code
# point). Left in re's cache under PyYAML's pattern while `yaml` is first imported, it is
# the one PyYAML gets.
_PYYAML_NON_PRINTABLE = ("[^\x09\x0A\x0D\x20-\x7E\x85\xA0-\uD7FF\uE000-\uFFFD"
                         "\U00010000-\U0010ffff]")
_YAML_FORBIDDEN = "[\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x84\x86-\x9F\uD800-\uDFFF\uFFFE\uFFFF]"


@functools.cache
def _libyaml() -> tuple[Any, Any]:
    """PyYAML's C parser and its event classes, imported once."""
    cache = getattr(re, "_cache", None)  # CPython's compiled-pattern cache (3.11 to 3.13)
    key = (str, _PYYAML_NON_PRINTABLE, 0)
    seeded: dict[Any, Any] = {}
    if "yaml.reader" not in sys.modules and isinstance(cache, dict) and key not in cache:
        seeded = cache
        seeded[key] = re.compile(_YAML_FORBIDDEN)
    try:
        from yaml import events
        from yaml._yaml import CParser
    finally:
        seeded.pop(key, None)
    return CParser, events


class TooDeep(Exception):
    def __init__(self, mark: Any) -> None:
        self.mark = mark


class TooMany(Exception):
    def __init__(self, mark: Any) -> None:
        self.mark = mark


class Unsupported(Exception):
    """Something ruamel should handle (and report): compose with ruamel instead."""


def compose(text: str, max_depth: int, max_nodes: int,
            max_documents: int = 100) -> tuple[list[Node | None], bool]:
    """The documents of ``text`` as nodes (None for an empty document), and whether all
    of them were read (False: more than ``max_documents``, the rest not composed).

    Raises :class:`TooDeep` past ``max_depth``, :class:`TooMany` past ``max_nodes``
    nodes written out (aliases are counted when converted), and :class:`Unsupported` for anything
    that ruamel should compose and report instead."""
    CParser, ev = _libyaml()
    if "%YAML" in text:  # a version directive switches resolvers: ruamel's business
        raise Unsupported
    try:
        parser = CParser(text)
    except Exception:
        raise Unsupported from None
    docs: list[Node | None] = []
    anchors: dict[str, Node] = {}
    stack: list[tuple[Node, list[Node]]] = []
    root: list[Node] = []
    complete = True
    count = 0
    get = parser.get_event
    scalar_t, alias_t = ev.ScalarEvent, ev.AliasEvent
    seq_t, map_t = ev.SequenceStartEvent, ev.MappingStartEvent
    end_t = (ev.SequenceEndEvent, ev.MappingEndEvent)
    doc_start_t, doc_end_t, stream_end_t = ev.DocumentStartEvent, ev.DocumentEndEvent, \
        ev.StreamEndEvent
    try:
        while True:
            e = get()
            t = type(e)
            if t is scalar_t or t is seq_t or t is map_t:
                count += 1
                if count > max_nodes:
                    raise TooMany(e.start_mark)
            if t is scalar_t:
                tag = e.tag
                if tag is None or tag == "!":
                    tag = resolve_plain(e.value) if e.implicit[0] else STR
                node = Node("scalar", tag, e.value, e.start_mark, e.end_mark, e.style)
            elif t is alias_t:
                found = anchors.get(e.anchor)
                if found is None:
                    raise Unsupported  # undefined alias: ruamel words the error
                node = found
            elif t is seq_t or t is map_t:
                tag = e.tag
                if tag is None or tag == "!":
                    tag = SEQ if t is seq_t else MAP
                node = Node("sequence" if t is seq_t else "mapping", tag, [], e.start_mark,
                            e.end_mark)
                if e.anchor is not None:
                    anchors[e.anchor] = node
                _add(stack, root, node)
                if len(stack) >= max_depth:
                    raise TooDeep(e.start_mark)
                stack.append((node, []))
                continue
            elif t in end_t:
                node, items = stack.pop()
                node.end_mark = e.end_mark
                if node.id == "mapping":
                    node.value = list(zip(items[0::2], items[1::2], strict=False))
                else:
                    node.value = items
                continue
            elif t is doc_start_t:
                if len(docs) >= max_documents:
                    complete = False
                    break
                anchors = {}
                root = []
                continue
            elif t is doc_end_t:
                docs.append(root[0] if root else None)
                continue
            elif t is stream_end_t:
                break
            else:
                continue
            if t is scalar_t and e.anchor is not None:
                anchors[e.anchor] = node
            _add(stack, root, node)
    except (TooDeep, TooMany, Unsupported):
        raise
    except Exception:  # a libyaml error (or a character it refuses): ruamel reports it
        raise Unsupported from None
    return docs, complete


def _add(stack: list[tuple[Node, list[Node]]], root: list[Node], node: Node) -> None:
    if stack:
        stack[-1][1].append(node)
    else:
        root.append(node)
