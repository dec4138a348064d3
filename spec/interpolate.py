"""`${...}` interpolation, OmegaConf-compatible for what NeMo RL configs use.

* ``${a.b}`` — absolute reference; a whole-string reference keeps the type.
* ``${.x}`` / ``${..x}`` — relative to the mapping holding the value (and its parent).
* ``${mul:a,b}`` and friends — arithmetic resolvers, arguments may nest.

Resolution is pure: it never reads the environment or the filesystem. NeMo RL's
``${oc.env:VAR}`` and ``${oc.env:VAR,default}`` are accepted, but their value is unknown
while validating: the value keeps its text (see ``env_unknown``), and so does every value
built from it; checks that need such a value skip it.
Unresolvable and cyclic references become diagnostics at the referencing value.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

from specc.spec import keypath
from specc.spec.diagnostics import Collector, dotted
from specc.spec.locations import Path
from specc.spec.records import record

_MISSING = object()
#: Interpolation results beyond this are refused (an `${mul:...}` chain can otherwise
#: grow numbers without bound).
MAX_MAGNITUDE = 1e30
#: References may chain this deep (`a: ${b}`, `b: ${c}`, ...).
MAX_CHAIN = 64
#: One interpolated string may be at most this long (`s1: ${s0}${s0}` chains double).
MAX_STRING = 65_536
#: All interpolations of one document may produce at most this many characters ...
MAX_TOTAL_CHARS = 4 * 1024 * 1024
#: ... and whole-value references may copy at most this many mapping/list nodes.
MAX_COPIED_NODES = 100_000
Number = int | float


def _numeric(name: str, fn: Callable[[Number, Number], Number]) -> Callable[..., Any]:
    def apply(*args: Any) -> Any:
        if len(args) < 2:
            raise ValueError(f"`{name}` takes at least two arguments, got {len(args)}")
        for a in args:
            if isinstance(a, bool) or not isinstance(a, int | float):
                raise ValueError(f"`{name}` needs numbers, got {a!r}")
        out = args[0]
        for a in args[1:]:
            out = fn(out, a)
            if abs(out) > MAX_MAGNITUDE:
                raise ValueError(f"the result exceeds {MAX_MAGNITUDE:.0e}")
        return out

    return apply


def _div(a: Number, b: Number) -> Number:
    if b == 0:
        raise ValueError("division by zero")
    return a / b


def _floordiv(a: Number, b: Number) -> Number:
    if b == 0:
        raise ValueError("division by zero")
    return a // b


RESOLVERS: dict[str, Callable[..., Any]] = {
    "mul": _numeric("mul", operator.mul),
    "add": _numeric("add", operator.add),
    "sub": _numeric("sub", operator.sub),
    "div": _numeric("div", _div),
    "floordiv": _numeric("floordiv", _floordiv),
    "max": _numeric("max", max),
    "min": _numeric("min", min),
}


#: Resolvers whose value is unknown while validating (they read the environment).
ENV_RESOLVERS = ("oc.env",)
_ENV_MARK = "${oc.env:"


def env_unknown(v: Any) -> bool:
    """Whether ``v`` is (or is built from) an `${oc.env:...}` value, unknown until run time."""
    return isinstance(v, str) and _ENV_MARK in v


class _EnvUnknown(Exception):
    """Raised while evaluating a value that depends on the environment."""


class InterpolationError(Exception):
    def __init__(self, code: str, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.hint = hint
        #: Raised by a reference chain over MAX_CHAIN: the values on it are broken too.
        self.chain = False


@record
class _Ref:
    path: str


@record
class _Call:
    name: str
    args: list[list[Any]]  # each argument is a list of text pieces / _Ref / _Call


def parse_template(s: str) -> list[Any]:
    """Split ``s`` into literal strings, references and resolver calls."""
    pieces, pos = _parse_text(s, 0, stop=None)
    if pos != len(s):
        raise InterpolationError("R012", f"unexpected `{s[pos]}` in `{s}`",
                                 "interpolations look like `${path.to.key}`")
    return pieces


def _parse_text(s: str, i: int, stop: str | None) -> tuple[list[Any], int]:
    pieces: list[Any] = []
    buf = ""
    while i < len(s):
        if s.startswith("${", i):
            if buf:
                pieces.append(buf)
                buf = ""
            node, i = _parse_interp(s, i + 2)
            pieces.append(node)
            continue
        if stop is not None and s[i] in stop:
            break
        if s[i] == "\\" and i + 1 < len(s) and s[i + 1] in "${}\\,":
            buf += s[i + 1]
            i += 2
            continue
        buf += s[i]
        i += 1
    if buf:
        pieces.append(buf)
    return pieces, i


def _parse_interp(s: str, i: int) -> tuple[Any, int]:
    j = i
    while j < len(s) and s[j] not in ":}$":
        j += 1
    if j >= len(s):
        raise InterpolationError("R012", f"unclosed `${{` in `{s}`", "add the closing `}`")
    head = s[i:j].strip()
    if s[j] == "}":
        if not head:
            raise InterpolationError("R012", f"empty interpolation in `{s}`",
                                     "write `${path.to.key}`")
        return _Ref(head), j + 1
    if s[j] == "$":
        raise InterpolationError("R012", f"nested `${{` must be a resolver argument in `{s}`",
                                 "write `${mul:${a},${b}}`")
    # resolver call
    name = head
    args: list[list[Any]] = []
    j += 1
    while True:
        arg, j = _parse_text(s, j, stop=",}")
        args.append(_strip(arg))
        if j >= len(s):
            raise InterpolationError("R012", f"unclosed `${{{name}:` in `{s}`",
                                     "add the closing `}`")
        if s[j] == "}":
            return _Call(name, [a for a in args if a] if args != [[]] else []), j + 1
        if len(args) > 64:
            raise InterpolationError("R012", f"too many arguments in `{s[:80]}`",
                                     "resolvers take a few arguments")
        j += 1  # ','


def _strip(pieces: list[Any]) -> list[Any]:
    out = list(pieces)
    if out and isinstance(out[0], str):
        out[0] = out[0].lstrip()
    if out and isinstance(out[-1], str):
        out[-1] = out[-1].rstrip()
    return [p for p in out if p != ""]


def has_interpolation(v: Any) -> bool:
    return isinstance(v, str) and "${" in v


class Resolver:
    """Resolves every interpolation in a document, in place."""

    def __init__(self, data: dict[str, Any], diags: Collector) -> None:
        self.data = data
        self.diags = diags
        self.done: set[Path] = set()
        self.active: list[Path] = []
        self.broken: set[Path] = set()
        #: What interpolation has produced so far (characters, referenced nodes).
        self.produced = 0
        self.copied = 0
        self.over = False  # the budget is spent: R043 was reported once

    def _over(self, message: str, hint: str) -> InterpolationError:
        code = "" if self.over else "R043"
        self.over = True
        return InterpolationError(code, message, hint)

    def resolve_all(self) -> set[Path]:
        self._walk(self.data, ())
        return self.broken

    def _walk(self, node: Any, path: Path) -> None:
        items: Any = node.items() if isinstance(node, dict) else enumerate(node) \
            if isinstance(node, list) else ()
        for k, v in list(items):  # the path is built only where it is used
            if isinstance(v, dict | list):
                self._walk(v, (*path, k))
            elif isinstance(v, str) and "${" in v:
                self._resolve_at((*path, k))

    def _resolve_at(self, path: Path) -> Any:
        value = _get(self.data, path)
        if path in self.done or not has_interpolation(value):
            return value
        if path in self.active:
            start = self.active.index(path)
            cycle = [*self.active[start:], path]
            raise InterpolationError(
                "R011", "interpolation cycle: " + " -> ".join(dotted(p) for p in cycle),
                "break the cycle by writing one of the values out")
        if len(self.active) >= MAX_CHAIN:
            error = InterpolationError("R011", f"interpolation chain deeper than {MAX_CHAIN} "
                                       "references", "write some of the values out")
            error.chain = True
            raise error
        self.active.append(path)
        try:
            result = self._evaluate(parse_template(value), path)
        except _EnvUnknown:
            self.active.pop()
            if self.active:
                raise
            self.done.add(path)  # the value keeps its text: unknown until run time
            return value
        except InterpolationError as e:
            self.active.pop()
            if self.active:
                if e.chain:  # every value on a too-long chain is broken by it: once is enough
                    self.broken.add(path)
                    _set(self.data, path, None)
                    self.done.add(path)
                raise
            self.broken.add(path)
            if e.code:  # an empty code: it only depends on a value already reported
                self.diags.add(e.code, e.message, path=path, hint=e.hint)
            _set(self.data, path, None)
            self.done.add(path)
            return None
        self.active.pop()
        _set(self.data, path, result)
        self.done.add(path)
        return result

    def _evaluate(self, pieces: list[Any], here: Path) -> Any:
        if len(pieces) == 1 and not isinstance(pieces[0], str):
            value = self._eval_piece(pieces[0], here)
            if isinstance(value, str):
                self._produce(len(value))
            return value
        parts: list[str] = []
        size = 0
        for p in pieces:
            v = self._eval_piece(p, here)
            if isinstance(v, dict | list):
                raise InterpolationError("R014", "a mapping or list cannot be embedded in text",
                                         "reference a single value")
            text = _to_text(v)
            size += len(text)
            if size > MAX_STRING:  # refused before the string is built
                raise InterpolationError(
                    "R042", f"the interpolated string would be longer than {MAX_STRING} "
                    "characters", "interpolations build short values (names, paths); write "
                    "long text out")
            parts.append(text)
        self._produce(size)
        return "".join(parts)

    def _produce(self, size: int) -> None:
        self.produced += size
        if self.produced > MAX_TOTAL_CHARS:
            raise self._over(
                f"interpolation in this spec produces more than {MAX_TOTAL_CHARS} "
                "characters in all", "values that reference values that reference values "
                "multiply; write them out")

    def _eval_piece(self, piece: Any, here: Path) -> Any:
        if isinstance(piece, str):
            return piece
        if isinstance(piece, _Ref):
            return self._lookup(piece.path, here)
        name = piece.name
        if name in ENV_RESOLVERS:
            raise _EnvUnknown(name)
        fn = RESOLVERS.get(name)
        if fn is None:
            raise InterpolationError(
                "R013", f"unknown resolver `{name}`",
                "known resolvers: " + ", ".join(sorted(RESOLVERS))
                + " (specc never reads the environment or files while validating)")
        args = [_as_arg(self._evaluate(a, here)) for a in piece.args]
        try:
            return fn(*args)
        except ValueError as e:
            raise InterpolationError("R014", f"`${{{name}:...}}`: {e}",
                                     "pass numbers, or references to numbers") from None

    def _lookup(self, ref: str, here: Path) -> Any:
        target = reference_target(ref, here)
        if target in self.broken:
            raise InterpolationError("", f"`{dotted(target)}` could not be resolved")
        node = _get(self.data, target, default=_MISSING)
        if node is _MISSING:
            raise InterpolationError("R010", f"`${{{ref}}}` refers to `{dotted(target)}`, which "
                                     "does not exist", _missing_hint(self.data, target))
        if has_interpolation(node):
            resolved = self._resolve_at(target)
            if env_unknown(resolved):
                raise _EnvUnknown(ref)
            return resolved
        if isinstance(node, dict | list):
            self._walk(node, target)
            found = _get(self.data, target)
            self._charge(found)
            return found
        return node

    def _charge(self, node: Any) -> None:
        """Count the nodes a whole-value reference copies into the budget (the walk stops
        at the budget, so all counting together is bounded by it)."""
        todo = [node]
        while todo:
            n = todo.pop()
            self.copied += 1
            if self.copied > MAX_COPIED_NODES:
                raise self._over(
                    f"interpolation in this spec copies more than {MAX_COPIED_NODES} "
                    "mapping and list nodes in all", "references to mappings that reference "
                    "mappings multiply; write the values out")
            if isinstance(n, dict):
                todo.extend(v for v in n.values() if isinstance(v, dict | list))
            elif isinstance(n, list):
                todo.extend(v for v in n if isinstance(v, dict | list))


def reference_target(ref: str, here: Path) -> Path:
    """The key path ``${ref}`` written at ``here`` points to (relative refs climb from the
    mapping holding the value)."""
    if ref.startswith("."):
        dots = len(ref) - len(ref.lstrip("."))
        base = here[:-1]  # the mapping holding the value
        base = base[: len(base) - (dots - 1)] if dots > 1 else base
        if dots - 1 > len(here) - 1:
            raise InterpolationError("R010", f"`${{{ref}}}` climbs above the top of the spec",
                                     "use fewer leading dots")
        return (*base, *_split(ref.lstrip(".")))
    return tuple(_split(ref))


def references(template: str) -> list[str]:
    """Every `${...}` reference in ``template`` (resolver arguments included), in order;
    empty when it is not an interpolation or does not parse."""
    try:
        pieces = parse_template(template)
    except InterpolationError:
        return []
    out: list[str] = []

    def walk(items: list[Any]) -> None:
        for p in items:
            if isinstance(p, _Ref):
                out.append(p.path)
            elif isinstance(p, _Call):
                for arg in p.args:
                    walk(arg)

    walk(pieces)
    return out


def _as_arg(v: Any) -> Any:
    if isinstance(v, str):
        from specc.spec.yamlio import parse_scalar

        return parse_scalar(v) if v.strip() else v
    return v


def _to_text(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def _split(ref: str) -> list[str | int]:
    """A reference's key path. OmegaConf's grammar, not `keypath.parse`'s: only dots
    separate, empty segments are skipped and brackets or quotes are part of a key."""
    parts: list[str | int] = []
    for raw in ref.split("."):
        if raw == "":
            continue
        parts.append(int(raw) if raw.isdigit() else raw)
    return parts


def _get(data: Any, path: Path, default: Any = None) -> Any:
    """`keypath.get`, except that an index also names a mapping's string key, as OmegaConf
    reads ``${x.0}`` against ``x: {"0": ...}``."""
    node = data
    for part in path:
        key = str(part) if isinstance(part, int) and isinstance(node, dict) and \
            part not in node else part
        found, node = keypath.get(node, (key,))
        if not found:
            return default
    return node


def _set(data: Any, path: Path, value: Any) -> None:
    """Write a resolved value back at ``path`` (found by `_get`, so its parent exists)."""
    keypath.set_value(_get(data, path[:-1]), path[-1:], value)


def _missing_hint(data: Any, target: Path) -> str:
    import difflib

    # not `keypath.get`: it stops at the first mapping without the key, to name it
    node = data
    for i, part in enumerate(target):
        if isinstance(node, dict) and part in node:
            node = node[part]
            continue
        if isinstance(node, dict):
            close = difflib.get_close_matches(str(part), [str(k) for k in node], n=1)
            where = dotted(target[:i]) or "the top level"
            if close:
                return f"did you mean `{dotted((*target[:i], close[0]))}`?"
            return f"`{where}` has no key `{part}`"
        break
    return "check the path; references are absolute unless they start with `.`"


def resolve(data: dict[str, Any], diags: Collector) -> set[Path]:
    """Resolve all interpolations in ``data`` in place; return paths that failed."""
    return Resolver(data, diags).resolve_all()

