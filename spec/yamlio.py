"""Read YAML safely, keeping the position of every key and value.

libyaml (PyYAML's C parser, :mod:`specc.spec.yamlfast`) or, for whatever it rejects,
ruamel.yaml only *composes* the document into nodes here; specc never calls a
YAML constructor, so no tag can build an object or run code. Scalars are
turned into Python values by :func:`_scalar` following the YAML 1.2 core
schema. Duplicate keys, alias bombs, recursive aliases, deep nesting and
oversized files are diagnostics, not exceptions.
"""

from __future__ import annotations

import copy
import functools
import io
import math
import re
import warnings
from dataclasses import field
from typing import Any

from specc.spec.diagnostics import Collector
from specc.spec.locations import Loc, Locations, Path
from specc.spec.records import record
from specc.spec.yamlfast import Node as _FastNode

MAX_BYTES = 2 * 1024 * 1024
MAX_NODES = 100_000
MAX_DEPTH = 200
#: Integers at or above this magnitude are refused (no spec value is that large, and
#: converting them to floats would overflow).
MAX_INT = 10**30

_CORE = "tag:yaml.org,2002:"
_ALLOWED_TAGS = {
    _CORE + t for t in ("str", "int", "float", "bool", "null", "map", "seq", "merge", "timestamp")
}
_INT_RE = re.compile(r"^[-+]?(0|[1-9][0-9_]*)$")


@record
class Parsed:
    """A YAML document as plain Python data plus the locations of its parts."""

    data: Any
    locations: Locations
    text: str
    #: Paths whose value was refused (a forbidden tag): already reported, now null.
    refused: set[Path] = field(default_factory=set)
    #: The composed node of the document (libyaml's or ruamel's), with positions.
    composed: Any = field(default=None, repr=False)

    @property
    def node(self) -> Any:
        """The document composed by ruamel (`specc set` edits by its nodes): composed on
        first use, since validating never needs it."""
        if self.composed is not None and not isinstance(self.composed, _FastNode):
            return self.composed
        docs = _compose_ruamel(self.text, "<node>", Collector())
        self.composed = docs[0] if docs else None
        return self.composed


class _Limit(Exception):
    pass


def read_text(path: str, diags: Collector, *, max_bytes: int = MAX_BYTES) -> str | None:
    """Read a spec file as text, or add a Y00x diagnostic and return None. Only regular
    files are read (a FIFO or device is refused before it is opened)."""
    from specc.spec.sources import read_bytes

    got = read_bytes(path, diags, max_bytes=max_bytes)
    return None if got is None else decode(got[0], path, diags)


def decode(raw: bytes, path: str, diags: Collector) -> str | None:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        diags.add("Y003", f"byte {e.start} is not valid UTF-8", file=path, line=line,
                  column=1, hint="save the file as UTF-8")
        return None
    return text


def parse(text: str, file: str, diags: Collector, *, max_nodes: int = MAX_NODES) -> Parsed | None:
    """Compose ``text`` and convert it; return None when nothing usable was read.

    libyaml composes (fast, with positions); whatever it rejects or does not handle as
    ruamel does is composed again by ruamel, whose diagnostics the tests pin."""
    from specc.spec import yamlfast

    try:
        nodes, complete = yamlfast.compose(text, MAX_DEPTH + 1, max_nodes)
    except yamlfast.TooMany as e:
        diags.add("Y013", f"the document expands to more than {max_nodes} nodes", file=file,
                  line=e.mark.line + 1, column=e.mark.column + 1,
                  hint=f"a spec holds at most {max_nodes} values; shorten its lists")
        return None
    except yamlfast.TooDeep as e:
        diags.add("Y018", f"nesting is deeper than {MAX_DEPTH} levels", file=file,
                  line=e.mark.line + 1, column=e.mark.column + 1, hint="flatten the document")
        return None
    except yamlfast.Unsupported:
        depth, where = _flow_depth(text)  # ruamel's scanner is quadratic on deep flow nesting
        if depth > MAX_DEPTH:
            line = text.count("\n", 0, where) + 1
            diags.add("Y018", f"nesting is deeper than {MAX_DEPTH} levels", file=file,
                      line=line, column=where - (text.rfind("\n", 0, where) + 1) + 1,
                      hint="flatten the document")
            return None
        composed = _compose_ruamel(text, file, diags)
        if composed is None:
            return None
        nodes, complete = composed, True
    return _documents(nodes, complete, text, file, diags, max_nodes=max_nodes)


def _compose_ruamel(text: str, file: str, diags: Collector) -> list[Any] | None:
    from ruamel.yaml import YAML
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    yaml = YAML(typ="safe", pure=True)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. reused anchors: legal YAML, not ours to warn
            return list(yaml.compose_all(io.StringIO(text)))
    except MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        problem = e.problem or e.context or "invalid YAML"
        if e.context and e.problem:
            problem = f"{problem} ({e.context})"
        diags.add("Y010", f"YAML syntax error: {problem}", file=file,
                  line=mark.line + 1 if mark else 1, column=mark.column + 1 if mark else 1,
                  hint=_syntax_hint(problem))
        return None
    except RecursionError:
        diags.add("Y018", f"nesting is deeper than {MAX_DEPTH} levels", file=file,
                  line=1, column=1, hint="flatten the document")
        return None
    except YAMLError as e:
        line, col = _error_position(e, text)
        diags.add("Y010", f"YAML error: {_one_line(str(e))}", file=file, line=line,
                  column=col, hint="fix the YAML syntax")
        return None
    except Exception as e:  # ruamel's reader raises plain errors on some inputs
        diags.add("Y010", f"YAML error: {_one_line(str(e)) or type(e).__name__}", file=file,
                  line=1, column=1, hint="fix the YAML syntax")
        return None


def _error_position(e: Exception, text: str) -> tuple[int, int]:
    """1-based line and column of a YAML error: its mark, else the reader's character
    position (an unacceptable character such as NUL), else the top of the file."""
    mark = getattr(e, "problem_mark", None) or getattr(e, "mark", None)
    if mark is not None and getattr(mark, "line", -1) >= 0:
        return mark.line + 1, max(getattr(mark, "column", 0), 0) + 1
    pos = getattr(e, "position", None)
    if isinstance(pos, int) and 0 <= pos <= len(text):
        return text.count("\n", 0, pos) + 1, pos - (text.rfind("\n", 0, pos) + 1) + 1
    return 1, 1


def _documents(nodes: list[Any], complete: bool, text: str, file: str, diags: Collector,
               *, max_nodes: int) -> Parsed | None:
    if not nodes or nodes[0] is None:
        diags.add("Y016", "the file is empty; a spec is a mapping of keys", file=file, line=1,
                  column=1, hint="start with `specc: 1` and `name: ...`")
        return None
    if len(nodes) > 1:
        second = nodes[1]
        count = f"{len(nodes)}" if complete else f"more than {len(nodes)}"
        diags.add("Y017", f"the file holds {count} YAML documents; a spec is one",
                  file=file, line=second.start_mark.line + 1 if second is not None else 1,
                  column=1, hint="remove the `---` separator or split the specs into files")
    big = _over_limit(nodes[0], max_nodes)
    if big is not None:  # an alias bomb, refused before anything is expanded
        diags.add("Y013", f"the document expands to more than {max_nodes} nodes", file=file,
                  line=big.start_mark.line + 1, column=big.start_mark.column + 1,
                  hint="aliases that reference aliases multiply; write the values out")
        return None
    conv = _Converter(file, diags, max_nodes)
    try:
        data = conv.convert(nodes[0], (), 0)
    except _Limit:
        return None
    except RecursionError:
        diags.add("Y018", f"nesting is deeper than {MAX_DEPTH} levels", file=file, line=1,
                  column=1, hint="flatten the document")
        return None
    return Parsed(data, conv.locations, text, conv.refused, nodes[0])


def _over_limit(root: Any, limit: int) -> Any | None:
    """The node at which converting ``root`` would pass ``limit`` values, or None.

    Sizes are counted once per distinct node (an alias is its anchor's node), so this is
    linear in the document, however many times aliases would expand."""
    sizes: dict[int, int] = {}

    def size(node: Any) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        sizes[key] = 1  # in progress: a recursive alias counts once (Y014 reports it)
        if node.id == "sequence":
            total = 1 + sum(size(c) for c in node.value)
        elif node.id == "mapping":
            total = 1 + sum(size(v) for _, v in node.value)
        else:
            total = 1
        sizes[key] = total
        return total

    try:
        if size(root) <= limit:
            return None
    except RecursionError:  # deep documents are the converter's to report
        return None
    node, budget = root, limit - 1
    while node.id != "scalar":
        children = node.value if node.id == "sequence" else [v for _, v in node.value]
        for child in children:
            if sizes.get(id(child), 1) > budget:
                node, budget = child, budget - 1
                break
            budget -= sizes.get(id(child), 1)
        else:
            return node
    return node


def _flow_depth(text: str) -> tuple[int, int]:
    """The deepest `[`/`{` nesting outside quotes and comments, and where it is reached.
    A cheap linear guard: the YAML scanner is quadratic on deep flow nesting."""
    depth = best = at = 0
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch in "\"'" and (i == 0 or text[i - 1] in " [{,:\n\t"):
            close = text.find(ch, i + 1)
            i = n if close < 0 else close + 1
            continue
        if ch == "#" and (i == 0 or text[i - 1] in " \n\t"):
            nl = text.find("\n", i)
            i = n if nl < 0 else nl
            continue
        if ch in "[{":
            depth += 1
            if depth > best:
                best, at = depth, i
                if best > MAX_DEPTH:
                    break
        elif ch in "]}":
            depth = max(depth - 1, 0)
        i += 1
    return best, at


def _one_line(s: str) -> str:
    return " ".join(s.split())[:300]


def _syntax_hint(problem: str) -> str:
    p = problem.lower()
    if "tab" in p:
        return "YAML indentation uses spaces, not tabs"
    if "mapping values are not allowed" in p:
        return "a `key: value` needs a space after the colon, and nested keys need indentation"
    if "could not find expected ':'" in p:
        return "a key is missing its colon, or a quoted string is not closed"
    if "found character" in p and "cannot start" in p:
        return "quote values that start with special characters such as @ or `"
    return "fix the YAML syntax at the marked position"


def _loc(file: str, node: Any) -> Loc:
    s, e = node.start_mark, node.end_mark
    return Loc(file, s.line + 1, s.column + 1, e.line + 1, e.column + 1)


class _Converter:
    def __init__(self, file: str, diags: Collector, max_nodes: int) -> None:
        self.file = file
        self.diags = diags
        self.max_nodes = max_nodes
        self.count = 0
        self.locations = Locations()
        self.active: set[int] = set()
        self.refused: set[Path] = set()

    def convert(self, node: Any, path: Path, depth: int) -> Any:
        self.count += 1
        if self.count > self.max_nodes:
            self.diags.add("Y013", f"the document expands to more than {self.max_nodes} nodes",
                           file=self.file, line=node.start_mark.line + 1,
                           column=node.start_mark.column + 1,
                           hint="aliases that reference aliases multiply; write the values out")
            raise _Limit
        if depth > MAX_DEPTH:
            self.diags.add("Y018", f"nesting is deeper than {MAX_DEPTH} levels", file=self.file,
                           line=node.start_mark.line + 1, column=node.start_mark.column + 1,
                           hint="flatten the document")
            raise _Limit
        self.locations.values[path] = _loc(self.file, node)
        tag = str(getattr(node.tag, "value", node.tag) or "")
        if tag and tag not in _ALLOWED_TAGS:
            builds = "python/" in tag or tag.startswith("!")
            self.diags.add(
                "Y012",
                f"tag `{tag}` is not allowed"
                + (": it would construct an object, and specc never does" if builds else ""),
                file=self.file, line=node.start_mark.line + 1, column=node.start_mark.column + 1,
                hint="remove the tag; specs hold plain strings, numbers, lists and mappings",
            )
            self.refused.add(path)
            return None
        if id(node) in self.active:
            self.diags.add("Y014", "an alias refers to a node that contains it", file=self.file,
                           line=node.start_mark.line + 1, column=node.start_mark.column + 1,
                           hint="remove the self-referencing alias")
            return None
        kind = node.id
        if kind == "scalar":
            return self._scalar(node, tag)
        self.active.add(id(node))
        try:
            if kind == "sequence":
                return [self.convert(v, (*path, i), depth + 1) for i, v in enumerate(node.value)]
            if kind == "mapping":
                return self._mapping(node, path, depth)
        finally:
            self.active.discard(id(node))
        return None

    def _mapping(self, node: Any, path: Path, depth: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        seen: dict[str, Any] = {}
        merged: dict[str, Any] = {}
        for knode, vnode in node.value:
            ktag = str(getattr(knode.tag, "value", knode.tag) or "")
            if ktag == _CORE + "merge":
                sources = vnode.value if vnode.id == "sequence" else [vnode]
                for src in sources:
                    if src.id != "mapping":
                        self.diags.add("Y010", "`<<` merges only mappings", file=self.file,
                                       line=src.start_mark.line + 1,
                                       column=src.start_mark.column + 1,
                                       hint="merge an anchored mapping: `<<: *name`")
                        continue
                    value = self.convert(src, path, depth + 1)
                    if isinstance(value, dict):
                        for k, v in value.items():
                            merged.setdefault(k, v)
                continue
            if knode.id != "scalar" or ktag not in {
                _CORE + "str", _CORE + "int", _CORE + "float", _CORE + "bool", _CORE + "null"
            }:
                self.diags.add("Y015", "mapping keys must be plain strings", file=self.file,
                               line=knode.start_mark.line + 1, column=knode.start_mark.column + 1,
                               hint="use a plain word as the key")
                continue
            key = str(knode.value)
            if key in seen:
                first = seen[key]
                self.diags.add(
                    "Y011",
                    f"duplicate key `{key}` (first set on line {first.start_mark.line + 1})",
                    file=self.file, line=knode.start_mark.line + 1,
                    column=knode.start_mark.column + 1,
                    hint="remove one of them; YAML loaders silently keep only one",
                )
                continue
            seen[key] = knode
            kpath = (*path, key)
            self.locations.keys[kpath] = _loc(self.file, knode)
            out[key] = self.convert(vnode, kpath, depth + 1)
        for k, v in merged.items():
            out.setdefault(k, v)
        return out

    def _scalar(self, node: Any, tag: str) -> Any:
        text = str(node.value)
        if tag == _CORE + "str" or getattr(node, "style", None) in ("'", '"', "|", ">"):
            return text
        try:
            if tag == _CORE + "null":
                return None
            if tag == _CORE + "bool":
                return text.lower() == "true"
            if tag == _CORE + "int":
                if len(text) > 64:  # refused before converting (no quadratic int())
                    raise OverflowError
                value = _to_int(text)
                if abs(value) >= MAX_INT:
                    self.diags.add("Y019", f"integer with {len(text)} characters is larger than "
                                   "specc accepts (10^30)", file=self.file,
                                   line=node.start_mark.line + 1,
                                   column=node.start_mark.column + 1,
                                   hint="quote it to make it a string")
                    return None
                return value
            if tag == _CORE + "float":
                return _to_float(text)
        except OverflowError:
            self.diags.add("Y019", f"integer with {len(text)} characters is larger than "
                           "specc accepts (10^30)", file=self.file,
                           line=node.start_mark.line + 1, column=node.start_mark.column + 1,
                           hint="quote it to make it a string")
            return None
        except ValueError:
            shown = text if len(text) <= 80 else text[:77] + "..."
            self.diags.add("Y019", f"`{shown}` is not a valid {tag.rsplit(':', 1)[-1]}",
                           file=self.file, line=node.start_mark.line + 1,
                           column=node.start_mark.column + 1, hint="quote it to make it a string")
            return None
        return text  # timestamps and anything else stay strings


def _to_int(text: str) -> int:
    t = text.replace("_", "")
    sign = -1 if t.startswith("-") else 1
    body = t.lstrip("+-").lower()
    if body.startswith("0x"):
        return sign * int(body[2:], 16)
    if body.startswith("0o"):
        return sign * int(body[2:], 8)
    if body.startswith("0b"):
        return sign * int(body[2:], 2)
    return int(t, 10)


def _to_float(text: str) -> float:
    t = text.replace("_", "").lower()
    if t in (".inf", "+.inf"):
        return math.inf
    if t == "-.inf":
        return -math.inf
    if t == ".nan":
        return math.nan
    return float(t)


def parse_scalar(text: str) -> Any:
    """Parse one override value (``1e-5``, ``true``, ``[1, 2]``) the way YAML would."""
    value = _parse_scalar(text)
    return copy.deepcopy(value) if isinstance(value, dict | list) else value


@functools.lru_cache(maxsize=4096)
def _parse_scalar(text: str) -> Any:
    """Remembered: interpolation parses every resolver argument (callers copy)."""
    diags = Collector()
    parsed = parse(text, "<override>", diags)
    if parsed is None or diags.has_errors:
        return text
    return parsed.data
