"""Objectives: a reported metric (`eval_loss`, `eval_rewards/accuracy/mean`) or a small
expression of reported metrics (`eval_rewards/accuracy/mean - 0.1 * completion_length`).

An expression is parsed, never run: metric names are taken out first (a name may hold
`/` and `.`: write division with spaces, `a / b`), the rest must parse as a Python
expression made only of numbers, the placeholders, `+ - * /`, unary minus and calls of
`min`, `max` and `abs`; anything else (attributes, subscripts, other calls, strings) is
rejected with a message. Evaluation walks that tree over a trial's metrics.
"""

from __future__ import annotations

import ast
import math
import re
from collections.abc import Callable, Mapping

from specc.spec.records import record

#: A metric name: TRL's log names, with `/` and `.` inside.
_TOKEN = re.compile(r"(?P<num>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)"
                    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*(?:[/.][A-Za-z0-9_]+)*)")
_FUNCS: dict[str, Callable[..., float]] = {"min": min, "max": max, "abs": abs}
_BINOPS: dict[type[ast.operator], Callable[[float, float], float]] = {
    ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b, ast.Div: lambda a, b: a / b if b else math.nan,
}


class ObjectiveError(ValueError):
    """An objective that is not a metric name nor a safe expression of them."""


@record(frozen=True)
class Objective:
    """A parsed objective: the metric names it reads and its tree (names as `_m<i>`)."""

    text: str
    names: tuple[str, ...]
    tree: ast.expr | None  # None: a single metric name

    def value(self, metrics: Mapping[str, float]) -> float | None:
        """The objective over ``metrics``; None when a metric it reads is missing."""
        values = []
        for n in self.names:
            v = _lookup(metrics, n)
            if v is None:
                return None
            values.append(v)
        return values[0] if self.tree is None else float(_eval(self.tree, values))


def _lookup(metrics: Mapping[str, float], name: str) -> float | None:
    """``name`` in ``metrics``, or the name TRL logs it under (`completion_length`)."""
    from specc.spec.metrics import ALIASES

    for key in (name, ALIASES.get(name)):
        if key is not None and key in metrics:
            return float(metrics[key])
    return None


def is_name(text: str) -> bool:
    """Whether ``text`` is a single metric name (not an expression)."""
    m = _TOKEN.fullmatch(text.strip())
    return m is not None and m.group("name") is not None


def parse(text: str) -> Objective:
    """Parse ``text``; :class:`ObjectiveError` says what is not allowed."""
    if is_name(text):
        return Objective(text, (text.strip(),), None)
    names: list[str] = []
    out: list[str] = []
    pos = 0
    for m in _TOKEN.finditer(text):
        out.append(text[pos:m.start()])
        pos = m.end()
        name = m.group("name")
        if name is None:
            out.append(m.group(0))
        elif name in _FUNCS and text[pos:].lstrip().startswith("("):
            out.append(name)
        else:
            if name not in names:
                names.append(name)
            out.append(f"_m{names.index(name)}")
    out.append(text[pos:])
    try:
        tree = ast.parse("".join(out).strip(), mode="eval").body
    except SyntaxError as e:
        raise ObjectiveError(f"cannot parse `{text}`: {e.msg}") from None
    _check(tree, text)
    if not names:
        raise ObjectiveError(f"`{text}` names no metric")
    return Objective(text, tuple(names), tree)


def _check(node: ast.AST, text: str) -> None:
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float) \
            and not isinstance(node.value, bool):
        return
    if isinstance(node, ast.Name) and re.fullmatch(r"_m\d+", node.id):
        return
    if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
        _check(node.left, text)
        _check(node.right, text)
        return
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        _check(node.operand, text)
        return
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
            and node.func.id in _FUNCS and not node.keywords and node.args:
        for a in node.args:
            _check(a, text)
        return
    what = type(node).__name__
    if isinstance(node, ast.BinOp):
        what = f"operator {type(node.op).__name__}"
    elif isinstance(node, ast.Call):
        what = "a call other than min, max, abs"
    raise ObjectiveError(f"`{text}` uses {what}: an objective may only combine metric names "
                         "and numbers with + - * /, unary minus, min, max and abs")


def _eval(node: ast.expr, values: list[float]) -> float:
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
        return float(node.value)
    if isinstance(node, ast.Name):
        return values[int(node.id[2:])]
    if isinstance(node, ast.BinOp):
        return _BINOPS[type(node.op)](_eval(node.left, values), _eval(node.right, values))
    if isinstance(node, ast.UnaryOp):
        v = _eval(node.operand, values)
        return -v if isinstance(node.op, ast.USub) else v
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        return float(_FUNCS[node.func.id](*(_eval(a, values) for a in node.args)))
    raise ObjectiveError("unexpected node")  # _check rejected it already


def value_of(text: str, metrics: Mapping[str, float]) -> float | None:
    """The objective ``text`` over ``metrics`` (None: a metric missing or not parsable)."""
    try:
        return parse(text).value(metrics)
    except ObjectiveError:
        return None


def reported(text: str, metrics: Mapping[str, float]) -> float | None:
    """The objective ``text`` in one evaluation's ``metrics``, as a trial reports it while
    training: a metric under its name, TRL's name for it, or with `eval_` in front; an
    expression over the metrics."""
    if not is_name(text):
        return value_of(text, metrics)
    from specc.spec.metrics import ALIASES

    for key in (text, ALIASES.get(text), f"eval_{text}"):
        if key and key in metrics:
            return float(metrics[key])
    return None


def reward_components(functions: list[str]) -> frozenset[str]:
    """The per-function metrics TRL logs for reward functions `module:fn` (`rewards/fn/mean`
    and `/std`, with `eval_` copies)."""
    out = set()
    for f in functions:
        fn = f.rsplit(":", 1)[-1].rsplit(".", 1)[-1]
        for stat in ("mean", "std"):
            out |= {f"rewards/{fn}/{stat}", f"eval_rewards/{fn}/{stat}"}
    return frozenset(out)
