"""Values as YAML text for in-place edits: scalars in the shortest form a YAML 1.1 or
1.2 reader reads back as the same value, keys, and nested blocks (`specc set`, the
scaffolds)."""

from __future__ import annotations

import functools
import math
import re
from decimal import Decimal
from typing import Any

from specc.spec.diagnostics import Collector
from specc.spec.locations import Path
from specc.spec.yamlio import parse

_CORE = "tag:yaml.org,2002:"
_INDICATORS = set("-?:,[]{}#&*!|>'\"%@`")
_FLOW_CHARS = set(",[]{}")
#: Plain words YAML 1.1 readers (PyYAML) turn into booleans or null.
_YAML11_WORDS = {"y", "n", "yes", "no", "on", "off", "true", "false", "null", "~"}
_NUMERIC_LOOKING = re.compile(r"^[-+.]?[0-9][0-9_.:eE+-]*$|^[-+]?\.(inf|nan)$", re.IGNORECASE)



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


