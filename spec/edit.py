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
import math
from dataclasses import field
from typing import Any, Literal

from specc.spec import atomic, keypath
from specc.spec.diagnostics import Collector, Diagnostic, Severity, dotted
from specc.spec.edit_doc import _CORE, _Doc, _doc, _is_empty, _read, _Refuse, _tag, _Walk
from specc.spec.edit_render import _nested, render, render_float, render_key, render_str
from specc.spec.locations import Path
from specc.spec.records import record

__all__ = ["Change", "ChangeKind", "Edited", "apply_like_override", "inherited_from",
           "inherited_note", "position", "render", "render_float", "render_key", "render_str",
           "same", "set_value", "write_atomic"]

ChangeKind = Literal["replace", "insert", "unchanged"]

@record(frozen=True)
class Change:
    """One edit: ``old`` at ``start`` in the text before it became ``new``."""

    path: Path
    kind: ChangeKind
    start: int
    old: str
    new: str
    #: Where the value's text starts in the edited text (for reports).
    value_at: int


@record
class Edited:
    """The text after one edit, the change, and info notes about it (E003, E004)."""

    text: str
    change: Change
    notes: list[Diagnostic] = field(default_factory=list)


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
