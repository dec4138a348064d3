"""Edit one value of a spec file's text, keeping every other byte.

`specc set` and ``specc.edit(...).set(...)`` never round-trip the file through a YAML
dumper. The file is composed with ruamel (positions only), the value's span is found
from the node's start and end marks, and the new value's text is spliced in:

* a key the file writes: only its value's text changes (comments on the line, quoting
  and flow/block style stay);
* a key the file does not write: new, correctly indented ``key: value`` lines go after
  the last entry of the nearest mapping the file has (missing intermediate mappings
  become block lines), or ``key: value`` goes inside the braces of a flow mapping.

Scalars are written YAML-safe: strings keep the old quote style where they can and are
quoted when plain text would read back as something else (also under YAML 1.1 readers:
``yes``, ``1e5``, dates); floats are written as ``1.0e-5`` (a float for every reader).
Every edit is checked by parsing the result: the document must equal the old one with
exactly that value set, the way ``-o path=value`` sets it, else the edit is refused
(E002). Validation of the whole spec is the caller's (``specc.runtime.document``).
"""

from __future__ import annotations

import copy
import functools
import math
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

from specc.spec import atomic, keypath
from specc.spec.diagnostics import Collector, Diagnostic, Severity, dotted
from specc.spec.locations import Path
from specc.spec.yamlio import Parsed, parse

ChangeKind = Literal["replace", "insert", "unchanged"]

_CORE = "tag:yaml.org,2002:"
_INDICATORS = set("-?:,[]{}#&*!|>'\"%@`")
_FLOW_CHARS = set(",[]{}")
#: Plain words YAML 1.1 readers (PyYAML) turn into booleans or null.
_YAML11_WORDS = {"y", "n", "yes", "no", "on", "off", "true", "false", "null", "~"}
_NUMERIC_LOOKING = re.compile(r"^[-+.]?[0-9][0-9_.:eE+-]*$|^[-+]?\.(inf|nan)$", re.IGNORECASE)


@dataclass(frozen=True)
class Change:
    """One edit: ``old`` at ``start`` in the text before it became ``new``."""

    path: Path
    kind: ChangeKind
    start: int
    old: str
    new: str
    #: Where the value's text starts in the edited text (for reports).
    value_at: int


@dataclass
class Edited:
    """The text after one edit, the change, and info notes about it (E003, E004)."""

    text: str
    change: Change
    notes: list[Diagnostic] = field(default_factory=list)


class _Refuse(Exception):
    def __init__(self, code: str, message: str, at: int, hint: str) -> None:
        super().__init__(message)
        self.code, self.message, self.at, self.hint = code, message, at, hint


# --- rendering -----------------------------------------------------------------------------


def render_float(value: float, *, exponent: bool = False) -> str:
    """A float as YAML every reader takes for a float: ``1.0e-5``, ``0.001``, ``.inf``;
    with ``exponent`` always in the ``1.0e-4`` form (as the old value was written)."""
    if math.isnan(value):
        return ".nan"
    if math.isinf(value):
        return ".inf" if value > 0 else "-.inf"
    text = repr(value)
    if "e" not in text and exponent and value != 0:
        sign, digits, exp10 = Decimal(text).as_tuple()
        ds = "".join(map(str, digits))
        stripped = ds.rstrip("0")
        exp10 = int(exp10) + len(ds) - 1
        text = f"{'-' if sign else ''}{stripped[0]}.{stripped[1:] or '0'}e{exp10}"
    if "e" not in text:
        return text
    mantissa, exp = text.split("e")
    if "." not in mantissa:
        mantissa += ".0"
    n = int(exp)
    return f"{mantissa}e{'-' if n < 0 else '+'}{abs(n)}"


def _double(s: str) -> str:
    out = []
    for ch in s:
        o = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif o < 0x20 or o == 0x7F or 0x80 <= o <= 0x9F or 0xD800 <= o <= 0xDFFF \
                or o in (0xFEFF, 0xFFFE, 0xFFFF):
            out.append(f"\\u{o:04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _single_ok(s: str) -> bool:
    return not any(ord(c) < 0x20 or ord(c) == 0x7F or 0x80 <= ord(c) <= 0x9F
                   or 0xD800 <= ord(c) <= 0xDFFF or ord(c) in (0xFEFF, 0xFFFE, 0xFFFF)
                   for c in s)


@functools.lru_cache(maxsize=1024)
def _plain_ok(s: str, flow: bool) -> bool:
    if not s or s != s.strip() or not _single_ok(s) or s[0] in _INDICATORS:
        return False
    if ": " in s or " #" in s or s.endswith(":") or "\t" in s:
        return False
    if flow and any(c in _FLOW_CHARS for c in s):
        return False
    if s.lower() in _YAML11_WORDS or _NUMERIC_LOOKING.match(s):
        return False
    diags = Collector()
    probe = f"k: [{s}]" if flow else f"k: {s}"
    parsed = parse(probe, "<probe>", diags)
    if parsed is None or diags.has_errors:
        return False
    got = parsed.data.get("k") if isinstance(parsed.data, dict) else None
    if flow:
        got = got[0] if isinstance(got, list) and len(got) == 1 else None
    return isinstance(got, str) and got == s


def render_str(s: str, *, style: str | None = None, flow: bool = False) -> str:
    """A string as a YAML scalar; ``style`` is the old value's quote style to keep."""
    if style == "'" and _single_ok(s):
        return "'" + s.replace("'", "''") + "'"
    if style == '"':
        return _double(s)
    if _plain_ok(s, flow):
        return s
    return _double(s)


def render_key(key: str | int) -> str:
    return render_str(str(key), flow=True)


def render(value: Any, *, style: str | None = None, flow: bool = False,
           exponent: bool = False) -> str:
    """``value`` (None, bool, int, float, str, list, dict) as YAML text on one line;
    collections in flow style. ``style`` and ``exponent`` describe the old value's text
    (its quotes; a float written as ``1.0e-4``), kept where the new value allows."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return render_float(value, exponent=exponent)
    if isinstance(value, str):
        return render_str(value, style=style, flow=flow)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(render(v, flow=True) for v in value) + "]"
    if isinstance(value, dict):
        items = []
        for k, v in value.items():
            if not isinstance(k, str | int) or isinstance(k, bool):
                raise TypeError(f"mapping keys must be strings, got {k!r}")
            items.append(f"{render_key(k)}: {render(v, flow=True)}")
        return "{" + ", ".join(items) + "}"
    raise TypeError(f"cannot write a {type(value).__name__} into a spec: {value!r}")


def _nested(rest: Path, value: Any) -> dict[str, Any]:
    out: Any = value
    for part in reversed(rest[1:]):
        out = {str(part): out}
    return {str(rest[0]): out}


# --- comparing -----------------------------------------------------------------------------


def same(a: Any, b: Any) -> bool:
    """Equal values of equal types (``1``, ``1.0`` and ``True`` differ; NaN equals NaN)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def apply_like_override(data: dict[str, Any], path: Path, value: Any) -> bool:
    """Set ``path`` in ``data`` the way ``-o path=value`` does; False when it cannot."""
    return keypath.set_value(data, path, copy.deepcopy(value))


def _normal(value: Any) -> Any:
    """A Python value as the YAML reader would give it back (tuples are lists)."""
    if isinstance(value, tuple | list):
        return [_normal(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _normal(v) for k, v in value.items()}
    return value


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


@dataclass
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


# --- editing -------------------------------------------------------------------------------


def _splice(text: str, start: int, end: int, new: str) -> str:
    return text[:start] + new + text[end:]


def _replace(doc: _Doc, w: _Walk, value: Any) -> tuple[int, int, str, int]:
    """(start, end, new text, where the value starts in the new text)."""
    from ruamel.yaml.nodes import ScalarNode

    node, text = w.node, doc.text
    if id(node) in doc.shared or getattr(node, "anchor", None):
        raise _Refuse("E002", f"`{dotted(w.done)}` has an anchor or is an alias",
                      node.start_mark.index, "write the values out instead of `&anchor`/`*alias`")
    s, e = node.start_mark.index, node.end_mark.index
    if isinstance(node, ScalarNode):
        if _is_empty(node):
            if w.key is None:
                raise _Refuse("E002", "the list item is empty", s, "write `null` in the item")
            at = doc.colon_after(w.key)
            new = render(value, flow=w.flow)
            return at, at, " " + new, at + 1
        if node.style in ("|", ">"):
            return s, doc.content_end(node), render(value, flow=w.flow), s
        style = node.style if isinstance(value, str) else None
        exponent = node.style is None and "e" in str(node.value).lower() \
            and _tag(node) == _CORE + "float"
        return s, e, render(value, style=style, flow=w.flow, exponent=exponent), s
    if node.flow_style:
        return s, e, render(value, flow=w.flow), s
    # a block mapping or list: the value moves onto the key's line, in flow style
    end = doc.content_end(node)
    new = render(value, flow=w.flow)
    if w.key is None:
        return s, end, new, s
    at = doc.colon_after(w.key)
    first_line = text[at:doc.line_end(at)].rstrip("\r\n")
    comment = first_line.strip()
    if comment.startswith("#"):
        return at, end, f" {new}  {comment}", at + 1
    return at, end, " " + new, at + 1


def _insert(doc: _Doc, w: _Walk, value: Any) -> tuple[int, int, str, int]:
    """Add the missing keys ``w.rest`` below ``w.node`` (a mapping or an empty value)."""
    from ruamel.yaml.nodes import MappingNode

    for part in w.rest:
        if isinstance(part, int):
            raise _Refuse("E001", f"`{dotted((*w.done, *w.rest))}`: `{dotted(w.done)}` has no "
                          f"list to index with [{part}]", w.node.start_mark.index,
                          "a list is set as a whole: `key=[a, b]`")
    node, text = w.node, doc.text
    if id(node) in doc.shared or getattr(node, "anchor", None):
        raise _Refuse("E002", f"`{dotted(w.done)}` has an anchor or is an alias",
                      node.start_mark.index, "write the values out instead of `&anchor`/`*alias`")
    if isinstance(node, MappingNode) and node.flow_style:
        close = node.end_mark.index - 1
        if text[close] != "}":
            raise _Refuse("E002", "cannot find the `}` closing the mapping", close, "")
        j = close
        while j > node.start_mark.index + 1 and text[j - 1] in " \t\r\n":
            j -= 1
        body = render(_nested(w.rest, value), flow=True)[1:-1]
        sep = "" if text[j - 1] in "{," else ", "
        lead = " " if text[j - 1] == "," else ""
        new = f"{sep}{lead}{body}"
        return j, j, new, j + len(sep) + len(lead)
    if isinstance(node, MappingNode):
        indent = node.value[0][0].start_mark.column if node.value else node.start_mark.column
        at = doc.line_end(doc.content_end(node))
    elif _is_empty(node) and w.key is not None and not w.flow:
        indent = w.key.start_mark.column + doc.indent_step()
        at = doc.line_end(doc.colon_after(w.key))
    else:  # `key: null` or an empty value in a flow collection: the mapping replaces it
        inner = _Walk(node, w.key, w.done, (), w.flow, w.chain)
        return _replace(doc, inner, _nested(w.rest, value))
    step = doc.indent_step()
    lines = []
    for depth, part in enumerate(w.rest):
        pad = " " * (indent + depth * step)
        if depth < len(w.rest) - 1:
            lines.append(f"{pad}{render_key(part)}:")
        else:
            lines.append(f"{pad}{render_key(part)}: {render(value)}")
    lead = "" if at == 0 or text[at - 1] == "\n" else doc.nl
    new = lead + doc.nl.join(lines) + doc.nl
    value_at = at + len(new) - len(doc.nl) - len(render(value))
    return at, at, new, value_at


def _index(text: str, line: int, column: int) -> int:
    at = 0
    for _ in range(line - 1):
        at = text.index("\n", at) + 1
    return at + column - 1


def _at(text: str, index: int) -> tuple[int, int]:
    line = text.count("\n", 0, index) + 1
    return line, index - (text.rfind("\n", 0, index) + 1) + 1


def set_value(text: str, file: str, path: Path, value: Any, diags: Collector) -> Edited | None:
    """``text`` (the content of ``file``) with ``path`` set to ``value``, or None with
    the reason in ``diags`` (Y0xx when the text is not readable YAML, E001, E002)."""
    if not path:
        diags.add("E001", "the path is empty", file=file, line=1, column=1,
                  hint="name a key: `policy.optimizer.kwargs.lr=1e-5`")
        return None
    value = _normal(value)
    render(value)  # TypeError for values YAML cannot hold, before anything changes
    parsed, problems = _read(text, file)
    diags.extend(problems)
    if parsed is None or diags.has_errors or not isinstance(parsed.data, dict):
        if not diags.has_errors:
            diags.add("Y016", "a spec must be a mapping of keys at the top level", file=file,
                      line=1, column=1, hint="start with `specc: 1` and `name: ...`")
        return None
    had, old = keypath.get(parsed.data, path)
    if had and same(old, value) and tuple(path) in parsed.locations.values:
        loc = parsed.locations.values[tuple(path)]
        at = _index(text, loc.line, loc.column)
        return Edited(text, Change(tuple(path), "unchanged", at, "", "", at))
    try:
        doc = _doc(text, parsed.node)
        w = doc.walk(path)
        full = (*w.done, *w.rest)
        notes: list[Diagnostic] = []
        if not w.rest:
            had, old = keypath.get(parsed.data, full)
            if had and same(old, value):
                s = w.node.start_mark.index
                return Edited(text, Change(full, "unchanged", s, "", "", s))
            start, end, new, value_at = _replace(doc, w, value)
            kind: ChangeKind = "replace"
            if isinstance(old, str) and "${" in old:
                line, col = _at(text, w.node.start_mark.index)
                notes.append(_note("E004", f"`{dotted(full)}` was the interpolation `{old}`; "
                                   "it is now a plain value and no longer follows what it "
                                   "referred to", file, line, col))
        else:
            start, end, new, value_at = _insert(doc, w, value)
            kind = "insert"
    except _Refuse as r:
        line, col = _at(text, r.at)
        diags.add(r.code, r.message, path=(), file=file, line=line, column=col, hint=r.hint)
        return None
    edited = _splice(text, start, end, new)
    expected = copy.deepcopy(parsed.data)
    reparsed, problems = _read(edited, file)
    if not apply_like_override(expected, full, value) or reparsed is None \
            or any(d.severity is Severity.ERROR for d in problems) \
            or not same(reparsed.data, expected):
        line, col = _at(text, start)
        diags.add("E002", f"`{dotted(full)}` cannot be set in place in this file's layout",
                  file=file, line=line, column=col,
                  hint="edit this value by hand, or pass it with `-o` instead")
        return None
    return Edited(edited, Change(full, kind, start, text[start:end], new, value_at), notes)


def _note(code: str, message: str, file: str, line: int, column: int) -> Diagnostic:
    c = Collector()
    return c.add(code, message, file=file, line=line, column=column)


def inherited_from(file: str, text: str, path: Path) -> str | None:
    """The `extends` parent that sets ``path`` when ``file`` itself does not write it."""
    from specc.spec.loader import load

    loaded = load(file, Collector(), text=text)
    loc = loaded.locations.values.get(tuple(path))
    if loc is None or loc.file == file or loc.file not in loaded.sources:
        return None
    return loc.file


def inherited_note(file: str, edited: Edited, parent: str) -> Diagnostic:
    line, col = _at(edited.text, edited.change.value_at)
    return _note("E003", f"`{dotted(edited.change.path)}` was set in {parent}; {file} now "
                 "overrides it", file, line, col)


def position(text: str, index: int) -> tuple[int, int]:
    """1-based line and column of ``index`` in ``text``."""
    return _at(text, index)


# --- writing -------------------------------------------------------------------------------


def write_atomic(dest: str, text: str, *, bom: bool = False, mode_from: str | None = None) -> None:
    """Write ``text`` (after a UTF-8 byte-order mark when the file had one) to ``dest``
    atomically; the file mode of ``dest`` (or ``mode_from``) is kept."""
    atomic.write_atomic(dest, (b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"),
                        mode_from=mode_from)
