"""The parsed document an edit works on: its nodes with their text spans, and the walk
from a key path to the node to replace (or the mapping to insert into)."""

from __future__ import annotations

import functools
import re
from typing import Any

from specc.spec.diagnostics import Collector, Diagnostic, dotted
from specc.spec.locations import Path
from specc.spec.records import record
from specc.spec.yamlio import Parsed, parse

_CORE = "tag:yaml.org,2002:"
_INDICATORS = set("-?:,[]{}#&*!|>'\"%@`")
_FLOW_CHARS = set(",[]{}")
#: Plain words YAML 1.1 readers (PyYAML) turn into booleans or null.
_YAML11_WORDS = {"y", "n", "yes", "no", "on", "off", "true", "false", "null", "~"}
_NUMERIC_LOOKING = re.compile(r"^[-+.]?[0-9][0-9_.:eE+-]*$|^[-+]?\.(inf|nan)$", re.IGNORECASE)



class _Refuse(Exception):
    def __init__(self, code: str, message: str, at: int, hint: str) -> None:
        super().__init__(message)
        self.code, self.message, self.at, self.hint = code, message, at, hint


# --- the document's nodes ------------------------------------------------------------------


@functools.lru_cache(maxsize=16)
def _read(text: str, file: str) -> tuple[Parsed | None, tuple[Diagnostic, ...]]:
    """``yamlio.parse`` of ``text``, remembered: an edit's check reads the text the next
    edit starts from. Callers copy the data before changing it."""
    diags = Collector()
    parsed = parse(text, file, diags)
    return parsed, tuple(diags.items)


@functools.lru_cache(maxsize=16)
def _doc(text: str, root: Any) -> _Doc:
    return _Doc(text, root)


def _tag(node: Any) -> str:
    return str(getattr(node.tag, "value", node.tag) or "")


def _is_null(node: Any) -> bool:
    from ruamel.yaml.nodes import ScalarNode

    return isinstance(node, ScalarNode) and _tag(node) == _CORE + "null" and node.style is None


def _is_empty(node: Any) -> bool:
    return bool(_is_null(node) and node.value == "")


def _shared(root: Any) -> set[int]:
    """ids of nodes that occur more than once (anchored and aliased)."""
    from ruamel.yaml.nodes import MappingNode, SequenceNode

    seen: set[int] = set()
    twice: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            twice.add(id(node))
            continue
        seen.add(id(node))
        if isinstance(node, MappingNode):
            for k, v in node.value:
                stack.extend((k, v))
        elif isinstance(node, SequenceNode):
            stack.extend(node.value)
    return twice


@record
class _Walk:
    node: Any
    key: Any | None
    done: Path
    rest: Path
    flow: bool
    chain: list[Any]


class _Doc:
    def __init__(self, text: str, root: Any) -> None:
        self.text = text
        self.root = root
        self.shared = _shared(self.root)
        self.nl = "\r\n" if "\r\n" in text else "\n"

    # positions ----------------------------------------------------------------------------

    def colon_after(self, key: Any) -> int:
        """Index just after the `:` that follows ``key``."""
        i = int(key.end_mark.index)
        while i < len(self.text) and self.text[i] in " \t":
            i += 1
        if i < len(self.text) and self.text[i] == ":":
            return i + 1
        raise _Refuse("E002", "cannot find the `:` after the key", key.start_mark.index,
                      "write the key as `key: value`")

    def content_end(self, node: Any, key: Any | None = None) -> int:
        """Where ``node``'s own text ends (before trailing blank lines and comments)."""
        from ruamel.yaml.nodes import MappingNode, ScalarNode, SequenceNode

        if id(node) in self.shared:
            raise _Refuse("E002", "an alias or anchor sits where the edit would go",
                          node.start_mark.index, "write the values out instead of `*alias`")
        if isinstance(node, ScalarNode):
            s, e = int(node.start_mark.index), int(node.end_mark.index)
            if _is_empty(node):
                if key is None:
                    raise _Refuse("E002", "an empty list item sits where the edit would go", s,
                                  "write `null` in the empty item")
                return self.colon_after(key)
            if node.style in ("|", ">"):
                return s + len(self.text[s:e].rstrip())
            return int(e)
        if node.flow_style:
            return int(node.end_mark.index)
        if isinstance(node, MappingNode):
            k, v = node.value[-1]
            return self.content_end(v, k)
        if isinstance(node, SequenceNode):
            return self.content_end(node.value[-1])
        raise _Refuse("E002", "unexpected YAML node", node.start_mark.index, "")

    def line_end(self, i: int) -> int:
        """Index of the start of the line after the one holding ``i`` (len if none)."""
        nl = self.text.find("\n", i)
        return len(self.text) if nl < 0 else nl + 1

    def indent_step(self) -> int:
        from ruamel.yaml.nodes import MappingNode, SequenceNode

        steps: list[int] = []
        stack = [self.root]
        while stack:
            node = stack.pop()
            if isinstance(node, MappingNode):
                for k, v in node.value:
                    if isinstance(v, MappingNode) and not v.flow_style and v.value \
                            and not node.flow_style:
                        d = v.value[0][0].start_mark.column - k.start_mark.column
                        if d > 0:
                            steps.append(d)
                    stack.append(v)
            elif isinstance(node, SequenceNode):
                stack.extend(node.value)
        return min(steps) if steps else 2

    # walking ------------------------------------------------------------------------------

    def walk(self, path: Path) -> _Walk:
        from ruamel.yaml.nodes import MappingNode, ScalarNode, SequenceNode

        node, key, flow = self.root, None, False
        done: Path = ()
        chain: list[Any] = []
        i = 0
        while i < len(path):
            part = path[i]
            if id(node) in self.shared:
                raise _Refuse("E002", f"`{dotted(done)}` is an anchor or alias",
                              node.start_mark.index, "write the values out instead of `*alias`")
            flow = flow or bool(getattr(node, "flow_style", False))
            if isinstance(node, MappingNode):
                pairs = [(k, v) for k, v in node.value if _tag(k) != _CORE + "merge"
                         and isinstance(k, ScalarNode)]
                found = self._match(pairs, path, i)
                if found is None:
                    return _Walk(node, key, done, path[i:], flow, chain)
                (k, v), used = found
                chain.append(node)
                node, key = v, k
                done = (*done, str(k.value))
                i += used
                continue
            if isinstance(node, SequenceNode):
                if isinstance(part, int) and 0 <= part < len(node.value):
                    chain.append(node)
                    node, key = node.value[part], None
                    done = (*done, part)
                    i += 1
                    continue
                raise _Refuse("E001", f"`{dotted((*done, part))}`: `{dotted(done)}` is a list "
                              f"of {len(node.value)} and has no item {part!r}",
                              node.start_mark.index, "use an index of an item that exists")
            if _is_null(node):
                return _Walk(node, key, done, path[i:], flow, chain)
            raise _Refuse("E001", f"`{dotted(path)}`: `{dotted(done)}` holds a value, not a "
                          "mapping", node.start_mark.index,
                          f"set `{dotted(done)}` itself, or check the path")
        return _Walk(node, key, done, (), flow, chain)

    @staticmethod
    def _match(pairs: list[tuple[Any, Any]], path: Path,
               i: int) -> tuple[tuple[Any, Any], int] | None:
        by_key = {str(k.value): (k, v) for k, v in pairs}
        if str(path[i]) in by_key:
            return by_key[str(path[i])], 1
        # a key that holds dots (search-space paths) written without quotes
        for j in range(len(path), i + 1, -1):
            joined = ".".join(str(p) for p in path[i:j])
            if joined in by_key:
                return by_key[joined], j - i
        return None


