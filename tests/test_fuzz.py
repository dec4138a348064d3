"""Bad input never yields a traceback.

`specc validate` must be safe on untrusted configs: whatever bytes it is given,
the outcome is an exit status 0/1/2 and diagnostics, never an exception. This
module throws malformed input at the library entry (`validate_files`) and at
the CLI (`main`):

* hypothesis strategies (deterministic: ``derandomize=True``, no database)
  over raw bytes, YAML-ish text (random mappings, sequences, scalars, tags,
  anchors and aliases, duplicate keys, tabs, NUL, BOM, huge integers, `${`
  fragments), spec-shaped trees (the case specs with values swapped for junk)
  and command-line overrides;
* a hand-written list of edge cases (5000-deep nesting, alias bombs, python
  tags, invalid UTF-8, directives, ...);
* deterministic mutation (``random.Random(seed)`` per case) of every spec in
  ``tests/cases/`` and ``examples/``: delete/duplicate/swap lines, re-indent,
  replace a scalar with junk, truncate at a byte, insert a key.

Each input must be validated within ``PER_INPUT_SECONDS`` (a SIGALRM watchdog): the spec
says bombs are "refused quickly", so a hang is a failure with its input shown, not a stuck
CI job. Hypothesis does not shrink (a hanging input would make shrinking take minutes);
the edge cases hold minimal reproducers of every problem found so far.

Every test counts the inputs it actually ran and asserts the count, and
``test_case_budget`` asserts that the planned total is at least
``MIN_CASES`` (10,000), so the total holds under pytest-xdist too. Most of them are
``test_bulk``'s: mutations of the NeMo RL corpus, the examples and the case specs, and
random YAML, validated in-process many files per call (as `specc validate a.yaml b.yaml
...` does), so ten thousand inputs take about a minute.
Failures show the input (and keep it on disk under pytest's tmp_path).
"""

from __future__ import annotations

import copy
import json
import random
import re
import shutil
import signal
import threading
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from specc.cli import main
from specc.compiler.validate import Validation, validate_files
from specc.spec.codes import CODES
from specc.spec.diagnostics import Severity

from conftest import CASES, EXAMPLES

MIN_CASES = 10_000

# --------------------------------------------------------------------------------------------
# the invariant every outcome must satisfy
# --------------------------------------------------------------------------------------------


def _show(data: bytes | str, limit: int = 1500) -> str:
    """A readable, bounded rendering of a fuzz input for failure messages."""
    size = len(data)
    head = data[:limit]
    more = f"\n... ({size} {'bytes' if isinstance(data, bytes) else 'chars'} in all)" \
        if size > limit else ""
    return f"{head!r}{more}"


def check_result(result: Validation, shown: str) -> int:
    """Assert the outcome is an exit status and well-formed diagnostics; return the status."""
    rc = int(result.exit_code)
    assert rc in (0, 1, 2), f"exit status {rc} for input {shown}"
    diags = result.diagnostics
    if rc != 0:
        assert diags, f"exit {rc} without a diagnostic for input {shown}"
    for d in diags:
        where = f"{d!r} for input {shown}"
        assert d.code in CODES, f"unregistered code: {where}"
        assert isinstance(d.line, int) and d.line >= 1, f"bad line: {where}"
        assert isinstance(d.column, int) and d.column >= 1, f"bad column: {where}"
        assert d.file, f"no file: {where}"
        text = result.texts.get(d.file)
        if text is not None:  # a located diagnostic points into its file
            assert d.line <= len(text.splitlines()) + 1, f"line past the end of the file: {where}"
        assert isinstance(d.message, str) and d.message.strip(), f"empty message: {where}"
        assert d.severity in (Severity.ERROR, Severity.WARNING, Severity.INFO), where
    if rc == 0:
        assert not any(d.severity is Severity.ERROR for d in diags), \
            f"exit 0 with an error for input {shown}"
    return rc


#: One input must be validated within this many seconds ("refused quickly"); a hang is a
#: failure with the input shown, not a stuck CI job.
PER_INPUT_SECONDS = 5.0


class Hang(BaseException):
    """Raised by the watchdog; a BaseException so no `except Exception` in specc eats it."""


@contextmanager
def watchdog(seconds: float = PER_INPUT_SECONDS) -> Iterator[None]:
    if not hasattr(signal, "setitimer") or threading.current_thread() is not \
            threading.main_thread():
        yield
        return

    def on_alarm(signum: int, frame: object) -> None:
        raise Hang(f"did not finish within {seconds:g} s")

    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def run_validate(path: Path, data: bytes | str, *, overrides: list[str] | None = None,
                 max_bytes: int | None = None) -> int:
    """Write ``data`` to ``path``, validate it, check the outcome. Any exception (or a hang)
    fails the test with the input shown (the file stays on disk for reproduction)."""
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    path.write_bytes(raw)
    shown = _show(data) + (f" with overrides {overrides!r}" if overrides else "")
    try:
        with watchdog():
            result = validate_files([str(path)], overrides=overrides, max_bytes=max_bytes)
    except (Exception, Hang) as e:
        tb = "".join(traceback.format_exception(e)[-12:])
        raise AssertionError(
            f"validate_files raised {type(e).__name__}: {str(e)[:300]}\n"
            f"input (kept at {path}): {shown}\n{tb}") from e
    return check_result(result, shown)


# --------------------------------------------------------------------------------------------
# a small YAML writer that can also write what YAML writers refuse to
# --------------------------------------------------------------------------------------------


class Raw(str):
    """Text written verbatim (a plain scalar, a tag, an alias, junk)."""


class Map(list):  # type: ignore[type-arg]
    """A mapping as a list of [key, value] pairs, so duplicate keys can exist."""


@dataclass
class Props:
    """A node with a tag and/or anchor in front: ``&a !!python/object:x value``."""

    props: str
    value: Any


@dataclass
class Flow:
    """Force flow style (``{a: 1}`` / ``[1]``) for this collection."""

    value: Any


_PLAIN_KEY = re.compile(r"^[A-Za-z_][\w.\-]*$")


def _unwrap(v: Any) -> tuple[str, Any, bool]:
    props, flow = "", False
    while isinstance(v, Props | Flow):
        if isinstance(v, Props):
            props = f"{props} {v.props}".strip()
        else:
            flow = True
        v = v.value
    return props, v, flow


def _scalar(v: Any) -> str:
    if isinstance(v, Raw):
        return str(v)
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return repr(v)
    return json.dumps(str(v))


def _key(k: Any) -> str:
    if isinstance(k, Raw):
        return str(k)
    if isinstance(k, str):
        return k if _PLAIN_KEY.match(k) else json.dumps(k)
    return inline(k)


def inline(v: Any) -> str:
    props, v, _ = _unwrap(v)
    pre = props + " " if props else ""
    if isinstance(v, Map):
        return pre + "{" + ", ".join(f"{_key(k)}: {inline(x)}" for k, x in v) + "}"
    if isinstance(v, list):
        return pre + "[" + ", ".join(inline(x) for x in v) + "]"
    return pre + _scalar(v)


def _is_block(v: Any) -> bool:
    _, inner, flow = _unwrap(v)
    return not flow and isinstance(inner, list) and len(inner) > 0


def block(v: Any, indent: int = 0) -> list[str]:
    _, v, _ = _unwrap(v)
    pad = " " * indent
    out: list[str] = []
    if isinstance(v, Map):
        for k, x in v:
            head = f"{pad}{_key(k)}:"
            if _is_block(x):
                props = _unwrap(x)[0]
                out.append(f"{head} {props}".rstrip())
                out += block(x, indent + 2)
            else:
                out.append(f"{head} {inline(x)}")
    elif isinstance(v, list):
        for x in v:
            if _is_block(x):
                props = _unwrap(x)[0]
                out.append(f"{pad}- {props}".rstrip())
                out += block(x, indent + 2)
            else:
                out.append(f"{pad}- {inline(x)}")
    else:
        out.append(pad + inline(v))
    return out


def dump(v: Any) -> str:
    props = _unwrap(v)[0]
    if _is_block(v):
        return (props + "\n" if props else "") + "\n".join(block(v)) + "\n"
    return inline(v) + "\n"


def to_tree(v: Any) -> Any:
    """Plain loaded YAML data -> the writer's tree (dicts become Maps)."""
    if isinstance(v, dict):
        return Map([[k, to_tree(x)] for k, x in v.items()])
    if isinstance(v, list):
        return [to_tree(x) for x in v]
    return v


# --------------------------------------------------------------------------------------------
# sources: the case specs and examples
# --------------------------------------------------------------------------------------------


def _sources() -> list[Path]:
    files = sorted(p for p in CASES.glob("*/*.yaml") if p.name != "expected.yaml")
    if EXAMPLES.is_dir():
        files += sorted(EXAMPLES.rglob("*.yaml")) + sorted(EXAMPLES.rglob("*.yml"))
    return files


SOURCES = _sources()
ROOT = CASES.parent.parent


def _templates() -> list[Any]:
    """The sources as data trees (those that load plainly and have no aliases)."""
    yaml = YAML(typ="safe", pure=True)
    out = []
    for p in SOURCES:
        text = p.read_text(encoding="utf-8", errors="replace")
        if "&" in text or "*" in text:
            continue
        try:
            data = yaml.load(text)
        except Exception:
            continue
        if isinstance(data, dict) and data:
            out.append(to_tree(data))
    return out


TEMPLATES = _templates()


def _vocabulary() -> list[str]:
    keys: set[str] = set()

    def walk(v: Any) -> None:
        if isinstance(v, Map):
            for k, x in v:
                keys.add(str(k))
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)

    for t in TEMPLATES:
        walk(t)
    keys |= {"specc", "name", "extends", "defaults", "algorithm", "policy", "hpo",
             "search_space", "sampler", "pruner", "objectives", "n_trials", "timeout",
             "hardware", "gpu", "cluster", "reward", "functions", "loss_fn", "lora",
             "scheduler", "optimizer", "kwargs", "lr", "milestones", "type", "low", "high",
             "log", "step", "choices", "when", "<<", "grpo", "dpo", "sft", "kto", "orpo",
             "rloo", "ppo", "awr", "rs_sft", "precision", "metric", "direction"}
    return sorted(keys)


VOCAB = _vocabulary()

_HUGE_INTS = ["9" * 400, "9" * 4400, "-" + "9" * 4400, "0x" + "f" * 4000, "0o" + "7" * 5000,
              "0b" + "1" * 14000, "1" + "0" * 308, "123456789012345678901234567890"]

JUNK: list[str] = [
    "-1", "0", "-0", "1e999", "-1e999", '"x"', "[]", "{}", "null", "~", "${a.b}", "${mul:x}",
    "${mul:1,2}", "${mul:}", "${", "}", "${}", "${${}}", "${.}", "${..x}", "${policy}",
    "${policy.model_name}", '"${name}"', "${env:HOME}", "${pow:2,99999}", "${mul:1e308,1e308}",
    "!!python/name:os.system", '!!python/object/apply:os.system ["true"]',
    "!!python/object:specc.Foo {a: 1}", "!!binary aGVsbG8=", "!!set {a, b}", "!!omap [a: 1]",
    "!!int abc", "!!float x", "!!bool maybe", "!!null x", "!!str", "!custom 1",
    ".nan", ".inf", "-.inf", "true", "False", "yes", "on", "2001-12-14t21:59:43.10-05:00",
    "0o777", "0b101", "0x1F", "1_000", "+.5", "1e-400", "5e-324", "1.7976931348623157e308",
    "*undefined", "&anchor", "|", ">-", "'unclosed", '"unclosed', "- item", "a: b: c", "@at",
    "`tick`", "%", "\t", "\x00", "\ufeff", "?", "-", ":", ",", "[", "{", "]]", "🙂", "é",
    "\u2028", "\x85", "''", '""', "specc:tiny-llama", "specc:", "torch.optim.AdamW",
    "os:system", "bfloat16", "fp8", "A100-80GB", "V100-16GB", "grid", "cmaes", "minimize",
    *_HUGE_INTS,
]

# --------------------------------------------------------------------------------------------
# (a) hypothesis strategies
# --------------------------------------------------------------------------------------------

SETTINGS: dict[str, Any] = {
    "deadline": None,
    "derandomize": True,
    "database": None,
    "suppress_health_check": list(HealthCheck),
    # No shrinking: an input that hangs would make shrinking run for many minutes. The
    # failure still shows the input; the edge cases below hold minimal reproducers.
    "phases": (Phase.explicit, Phase.reuse, Phase.generate),
}

N_BYTES = 400
N_TEXT = 400
N_SPEC = 500
N_OVERRIDES = 150
N_DEEP = 20

_TAGS = ["!!python/object:os.system", "!!python/name:os.system",
         "!!python/object/apply:os.system", "!!python/object/new:dict", "!!python/tuple",
         "!!str", "!!int", "!!float", "!!bool", "!!null", "!!map", "!!seq", "!!binary",
         "!!set", "!!omap", "!!timestamp", "!custom", "!", "!<tag:example.com:x>",
         "!!merge"]

junk_scalar = st.sampled_from(JUNK).map(Raw)
primitive = st.one_of(
    st.none(), st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.text(alphabet="abcxyz_.:${}[],-# \t'\"!&*|>%@`", max_size=15).map(Raw),
    st.sampled_from(_HUGE_INTS).map(Raw),
)
scalar = st.one_of(junk_scalar, primitive)
key = st.one_of(st.sampled_from(VOCAB), st.text(max_size=8),
                st.sampled_from(["<<", "? a", "[a, b]", "{a: 1}", "!!python/name:x", "&k a",
                                 "*k", "1", "null", "true", "a\tb", ""]).map(Raw))


def _wrap(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    pairs = st.lists(st.tuples(key, children).map(list), max_size=5)
    maps = pairs.map(Map)
    # duplicate keys: repeat one of the pairs
    dup_maps = st.tuples(pairs, st.integers(0, 4)).map(
        lambda t: Map([*t[0], t[0][t[1] % len(t[0])]] if t[0] else t[0]))
    seqs = st.lists(children, max_size=5)
    coll = st.one_of(maps, dup_maps, seqs)
    return st.one_of(
        coll,
        coll.map(Flow),
        st.tuples(st.sampled_from(_TAGS), coll).map(lambda t: Props(t[0], t[1])),
        st.tuples(st.integers(0, 3), coll).map(lambda t: Props(f"&a{t[0]}", t[1])),
    )


node = st.recursive(
    st.one_of(scalar, st.integers(0, 3).map(lambda i: Raw(f"*a{i}")),
              st.tuples(st.sampled_from(_TAGS), scalar).map(lambda t: Props(t[0], t[1]))),
    _wrap, max_leaves=20)


@st.composite
def yamlish_text(draw: st.DrawFn) -> str:
    """Random YAML documents, sometimes damaged after writing."""
    top = draw(st.one_of(node, _wrap(node)))
    text = dump(top) if draw(st.booleans()) else inline(top) + "\n"
    for _ in range(draw(st.integers(0, 3))):
        pos = draw(st.integers(0, len(text)))
        frag = draw(st.sampled_from([
            "\t", "\x00", "\ufeff", "\r", "\r\n", "\n---\n", "\n...\n", "%YAML 1.1\n",
            "${", "}", ":", "- ", "  ", "\n  ", "#", "&a1 ", "*a1", "!!python/object:x ",
            "\xff", "\udcff", "\x1b[31m", "\u2028", "\x85", "? ", "'", '"', "{", "[",
        ]))
        text = text[:pos] + frag + text[pos:]
    if draw(st.integers(0, 9)) == 0:
        text = "\ufeff" + text
    return text


_PREFIXES = [b"", b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff", b"specc: 1\nname: ", b"a: [",
             b"%YAML 1.2\n---\n", b"\x00\x00\xfe\xff"]


@st.composite
def raw_bytes(draw: st.DrawFn) -> bytes:
    """Arbitrary bytes, sometimes behind a BOM or a spec's first lines."""
    prefix = draw(st.sampled_from(_PREFIXES))
    body = draw(st.one_of(
        st.binary(max_size=300),
        st.text(max_size=200).map(lambda s: s.encode("utf-8", "surrogatepass")),
        st.lists(st.sampled_from([b"a", b":", b" ", b"\n", b"-", b"[", b"]", b"{", b"}",
                                  b"\t", b"\x00", b"\xc0\xaf", b"\xed\xa0\x80", b"\xff",
                                  b"${", b"&x", b"*x", b"!!", b"#", b"'", b'"', b"?",
                                  b"|", b">", b"\r"]), max_size=80).map(b"".join),
    ))
    return prefix + body


def _paths(tree: Any) -> list[tuple[Any, int]]:
    """Every (container, index) slot in a writer tree; Map slots point at the pair."""
    out: list[tuple[Any, int]] = []

    def walk(v: Any) -> None:
        v = _unwrap(v)[1]
        if isinstance(v, Map):
            for i, (_, x) in enumerate(v):
                out.append((v, i))
                walk(x)
        elif isinstance(v, list):
            for i, x in enumerate(v):
                out.append((v, i))
                walk(x)

    walk(tree)
    return out


def _typo(k: str, r: int) -> str:
    if not k:
        return "x"
    i = r % len(k)
    return [k[:i] + k[i + 1:], k[:i] + k[i] * 2 + k[i:], k.upper(), k + "_", k[::-1],
            k.replace("_", "-"), " " + k, k + " "][r % 8] or "x"


@st.composite
def spec_shaped(draw: st.DrawFn) -> Any:
    """A case spec whose values and keys were damaged in a few places."""
    tree = copy.deepcopy(draw(st.sampled_from(TEMPLATES)))
    for _ in range(draw(st.integers(1, 4))):
        slots = _paths(tree)
        if not slots:
            break
        cont, i = slots[draw(st.integers(0, len(slots) - 1))]
        op = draw(st.integers(0, 9))
        value = draw(st.one_of(scalar, node))
        if isinstance(cont, Map):
            k, v = cont[i]
            if op <= 3:
                cont[i] = [k, value]
            elif op == 4:
                del cont[i]
            elif op == 5:
                cont.insert(i, [draw(st.one_of(st.sampled_from(VOCAB), key)), value])
            elif op == 6:
                cont.append([k, value])  # duplicate key
            elif op == 7:
                cont[i] = [_typo(str(k), draw(st.integers(0, 99))), v]
            elif op == 8:
                cont[i] = [k, Props(draw(st.sampled_from(_TAGS)), v)]
            else:
                cont[i] = [k, [v] if draw(st.booleans()) else Map([[k, v]])]
        elif op <= 5:
            cont[i] = value
        elif op <= 7:
            del cont[i]
        else:
            cont.insert(i, value)
    if draw(st.integers(0, 7)) == 0:
        tree.insert(0, [draw(st.sampled_from(["extends", "defaults"])),
                        draw(st.one_of(scalar, st.sampled_from(
                            [Raw("spec.yaml"), Raw("/dev/zero"), Raw("/dev/stdin"), Raw("."),
                             Raw("missing.yaml"), Raw("[spec.yaml, spec.yaml]"),
                             Raw("/etc/passwd")])))])
    return tree


def _counted(n: int, counter: list[int]) -> None:
    assert counter[0] >= n, f"ran {counter[0]} examples, planned {n}"


def test_fuzz_raw_bytes(tmp_path: Path) -> None:
    counter = [0]

    @settings(max_examples=N_BYTES, **SETTINGS)
    @given(raw_bytes())
    def inner(data: bytes) -> None:
        counter[0] += 1
        run_validate(tmp_path / "spec.yaml", data)

    inner()
    _counted(N_BYTES, counter)


def test_fuzz_yamlish_text(tmp_path: Path) -> None:
    counter = [0]

    @settings(max_examples=N_TEXT, **SETTINGS)
    @given(yamlish_text())
    def inner(text: str) -> None:
        counter[0] += 1
        run_validate(tmp_path / "spec.yaml", text)

    inner()
    _counted(N_TEXT, counter)


def test_fuzz_spec_shaped(tmp_path: Path) -> None:
    counter = [0]
    # siblings for `extends`
    (tmp_path / "base.yaml").write_text("policy: {model_name: specc:tiny-llama}\n")

    @settings(max_examples=N_SPEC, **SETTINGS)
    @given(spec_shaped(), st.booleans())
    def inner(tree: Any, flow: bool) -> None:
        counter[0] += 1
        text = inline(tree) + "\n" if flow else dump(tree)
        run_validate(tmp_path / "spec.yaml", text)

    inner()
    _counted(N_SPEC, counter)


_OVERRIDE_PATHS = ["policy.optimizer.kwargs.lr", "policy.lora.r", "dpo.reference_policy_kl_penalty",
                   "policy.scheduler[0].kwargs.factor", "policy.scheduler.5", "policy",
                   "name", "hpo.search_space", "policy.train_global_batch_size",
                   "policy.max_total_sequence_length", "extends", "data.train.path",
                   "policy.scheduler[99999999999999999999]", "a..b", "", ".", "[", "]", "0",
                   "policy.model_name.x", "grpo.num_generations_per_prompt", "algorithm"]


@st.composite
def override(draw: st.DrawFn) -> str:
    if draw(st.integers(0, 5)) == 0:
        return draw(st.text(max_size=30))
    path = draw(st.one_of(st.sampled_from(_OVERRIDE_PATHS), st.text(max_size=10)))
    prefix = draw(st.sampled_from(["", "+", "~", "++", " "]))
    sep = draw(st.sampled_from(["=", "=", "==", ":", ""]))
    value = draw(st.one_of(st.sampled_from(JUNK), st.text(max_size=20),
                           st.builds(inline, node)))
    return f"{prefix}{path}{sep}{value}"


def test_fuzz_overrides(tmp_path: Path) -> None:
    counter = [0]
    base = (CASES / "overrides" / "spec.yaml").read_text()

    @settings(max_examples=N_OVERRIDES, **SETTINGS)
    @given(st.lists(override(), min_size=1, max_size=4),
           st.one_of(st.none(), st.integers(-1, 400)))
    def inner(overrides: list[str], max_bytes: int | None) -> None:
        counter[0] += 1
        run_validate(tmp_path / "spec.yaml", base, overrides=overrides, max_bytes=max_bytes)

    inner()
    _counted(N_OVERRIDES, counter)


def test_fuzz_deep_nesting(tmp_path: Path) -> None:
    counter = [0]

    @settings(max_examples=N_DEEP, **SETTINGS)
    @given(st.integers(1, 3000), st.sampled_from(["[", "{a: ", "- ", "a:\n", "&x [", "!!seq ["]),
           st.booleans())
    def inner(depth: int, opener: str, closed: bool) -> None:
        counter[0] += 1
        closer = {"[": "]", "{a: ": "}", "&x [": "]", "!!seq [": "]"}.get(opener, "")
        if opener in ("a:\n", "- "):
            depth = min(depth, 1500)  # block nesting costs depth**2 bytes of indentation
        if opener == "a:\n":
            text = "".join(" " * i + "a:\n" for i in range(depth)) + " " * depth + "1\n"
        elif opener == "- ":
            text = "".join(" " * (2 * i) + "-\n" for i in range(depth)) + " " * (2 * depth) \
                + "x\n"
        else:
            text = "k: " + opener * depth + "1" + (closer * depth if closed else "") + "\n"
        run_validate(tmp_path / "spec.yaml", text)

    inner()
    _counted(N_DEEP, counter)


# --------------------------------------------------------------------------------------------
# hand-written edge cases
# --------------------------------------------------------------------------------------------

_MIN = (CASES / "valid_minimal" / "spec.yaml").read_text()
_BOMB = "".join(f"{c}: &{c} [" + ",".join([f"*{p}"] * 10 if p else ['"x"'] * 10) + "]\n"
                for p, c in zip(["", "a", "b", "c", "d", "e", "f", "g", "h"],
                                "abcdefghi", strict=True))


def _with(extra: str) -> str:
    return _MIN + extra


def _policy(line: str) -> str:
    return _MIN.replace("  model_name: specc:tiny-llama",
                        f"  model_name: specc:tiny-llama\n  {line}")


EDGE_CASES: dict[str, bytes | str] = {
    "empty": "",
    "whitespace": "   \n\n\t\n",
    "comment_only": "# nothing\n",
    "doc_marker_only": "---\n",
    "doc_end_only": "...\n",
    "null_doc": "~\n",
    "scalar_doc": "42\n",
    "list_doc": "- a\n- b\n",
    "two_docs": _MIN + "---\n" + _MIN,
    "deep_flow_seq_5000": "[" * 5000 + "]" * 5000,
    "deep_flow_seq_unclosed": "[" * 5000,
    "deep_flow_seq_2000_in_map": "k: " + "[" * 2000 + "1\n",
    "deep_flow_map_3000": "a: " + "{a: " * 3000 + "1" + "}" * 3000 + "\n",
    "deep_block_2000": "".join(" " * i + "a:\n" for i in range(2000)) + " " * 2000 + "1\n",
    "deep_nested_alias": "a: &a " + "[" * 150 + "1" + "]" * 150 + "\nb: " + "[*a, " * 100
    + "1" + "]" * 100 + "\n",
    "alias_bomb": _BOMB,
    "alias_bomb_map": "a: &a {x: 1, y: 1, z: 1, w: 1}\n" + "".join(
        f"{c}: &{c} {{p: *{p}, q: *{p}, r: *{p}, s: *{p}, t: *{p}}}\n"
        for p, c in zip("abcdefghij", "bcdefghijk", strict=True)),
    "recursive_alias": "a: &a [*a]\n",
    "recursive_alias_map": "a: &a {b: *a}\n",
    "undefined_alias": "a: *nope\n",
    "merge_undefined": "a:\n  <<: *nope\n",
    "merge_scalar": "a: &a 1\nb:\n  <<: *a\n",
    "merge_list_of_scalars": "b:\n  <<: [1, 2]\n",
    "merge_self": "a: &a\n  <<: *a\n",
    "merge_into_spec": "base: &b {model_name: specc:tiny-llama}\n" + _MIN.replace(
        "  model_name: specc:tiny-llama", "  <<: *b"),
    "python_object_apply": '!!python/object/apply:os.system ["echo pwned"]\n',
    "python_name": "a: !!python/name:os.system\n",
    "python_object_in_spec": _with("hpo: !!python/object:optuna.samplers.TPESampler {}\n"),
    "python_key": "? !!python/tuple [a, b]\n: 1\n",
    "tag_directive_python": "%TAG !! tag:yaml.org,2002:python/\n---\na: !!object/apply:os.system"
    " [ls]\n",
    "tag_directive_local": "%TAG ! tag:yaml.org,2002:python/name:\n---\na: !os.system\n",
    "yaml_directive_11": "%YAML 1.1\n---\n" + _MIN,
    "yaml_directive_bad": "%YAML 9.9\n---\n" + _MIN,
    "yaml_directive_twice": "%YAML 1.2\n%YAML 1.2\n---\na: 1\n",
    "binary_tag": "a: !!binary aGVsbG8=\n",
    "set_tag": "a: !!set {x, y}\n",
    "omap_tag": "a: !!omap [x: 1, y: 2]\n",
    "timestamp": _policy("max_total_sequence_length: 2001-12-14t21:59:43.10-05:00"),
    "bad_int_tag": _policy("max_total_sequence_length: !!int abc"),
    "bad_float_tag": _with("dpo: {reference_policy_kl_penalty: !!float x}\n"),
    "bad_bool_tag": _policy("activation_checkpointing: !!bool maybe"),
    "null_tag_value": _policy("precision: !!null bfloat16"),
    "str_tag_on_map": "policy: !!str {a: 1}\n",
    "map_tag_on_seq": "policy: !!map [1, 2]\n",
    "seq_tag_on_scalar": "policy: !!seq 1\n",
    "nul_byte": "a: b\x00c\n",
    "nul_in_key": _MIN.replace("name:", "na\x00me:"),
    "tab_indent": _MIN.replace("  model_name", "\tmodel_name"),
    "tab_after_colon": _MIN.replace("name: minimal", "name:\tminimal"),
    "crlf": _MIN.replace("\n", "\r\n"),
    "lone_cr": _MIN.replace("\n", "\r"),
    "nel_line_breaks": _MIN.replace("\n", "\x85"),
    "line_separator": _MIN.replace("\n", "\u2028"),
    "bom": b"\xef\xbb\xbf" + _MIN.encode(),
    "double_bom": b"\xef\xbb\xbf\xef\xbb\xbf" + _MIN.encode(),
    "bom_mid_file": _MIN.replace("algorithm", "\ufeffalgorithm"),
    "utf16_le": _MIN.encode("utf-16-le"),
    "utf16_bom": _MIN.encode("utf-16"),
    "utf32": _MIN.encode("utf-32"),
    "latin1": "name: caf\xe9\n".encode("latin-1"),
    "overlong_slash": b"a: \xc0\xaf\n",
    "encoded_surrogate": b"a: \xed\xa0\x80\n",
    "invalid_utf8_first_byte": b"\xff" + _MIN.encode(),
    "invalid_utf8_last_byte": _MIN.encode() + b"\xfe",
    "truncated_utf8": "name: \u00e9\u00e9".encode()[:-1],
    "control_chars": "a: \x01\x02\x1b[0m\n",
    "private_use_and_nonchar": "a: \ue000\ufffe\uffff\n",
    "emoji_keys": "\U0001f642: 1\npolicy: {\U0001f642: 2}\n",
    "zero_width_key": _MIN.replace("name:", "na\u200bme:"),
    "key_trailing_space": _MIN.replace("algorithm:", '"algorithm ":'),
    "complex_key": "? [a, b]\n: 1\n",
    "complex_map_key": "? {a: 1}\n: 1\n",
    "int_key": "1: a\n2: b\n",
    "null_key": "~: a\n",
    "bool_key": "true: a\n",
    "empty_key": '"": a\n',
    "float_keys_in_policy": "policy: {1.5: a, .inf: b, .nan: c}\n",
    "duplicate_top": _MIN + "name: again\n",
    "duplicate_nested": _MIN.replace("  model_name: specc:tiny-llama",
                                     "  model_name: specc:tiny-llama\n  model_name: x"),
    "duplicate_flow": "a: {b: 1, b: 2}\n",
    "duplicate_many": "".join("k: 1\n" for _ in range(500)),
    "huge_int_seqlen": _policy("max_total_sequence_length: " + "9" * 400),
    "huge_int_batch": _policy("train_global_batch_size: " + "9" * 400),
    "huge_int_micro": _policy("train_micro_batch_size: " + "9" * 400),
    "huge_int_over_str_limit": _policy("train_global_batch_size: " + "9" * 5000),
    "huge_hex_name": _MIN.replace("name: minimal", "name: 0x" + "f" * 5000),
    "huge_hex_seqlen": _policy("max_total_sequence_length: 0x" + "f" * 5000),
    "huge_octal_lr": _policy("optimizer: {name: torch.optim.AdamW, kwargs: {lr: 0o" + "7" * 6000
                             + "}}"),
    "huge_negative_int": _policy("max_grad_norm: -" + "9" * 400),
    "float_overflow": _policy("max_grad_norm: 1e999"),
    "float_underflow": _policy("optimizer: {name: torch.optim.AdamW, kwargs: {lr: 1e-400}}"),
    "nan_lr": _policy("optimizer: {name: torch.optim.AdamW, kwargs: {lr: .nan}}"),
    "inf_seqlen": _policy("max_total_sequence_length: .inf"),
    "negative_everything": _policy("train_global_batch_size: -8\n  train_micro_batch_size: -2\n"
                                   "  max_total_sequence_length: -1"),
    "zero_batches": _policy("train_global_batch_size: 0\n  train_micro_batch_size: 0"),
    "interp_unclosed": _MIN.replace("name: minimal", "name: ${"),
    "interp_empty": _MIN.replace("name: minimal", "name: ${}"),
    "interp_nested_empty": _MIN.replace("name: minimal", 'name: "${${}}"'),
    "interp_self": _MIN.replace("name: minimal", "name: ${name}"),
    "interp_mul_self": _MIN.replace("name: minimal", "name: ${mul:${name},2}"),
    "interp_to_mapping": _MIN.replace("name: minimal", 'name: "${policy}"'),
    "interp_bad_resolver": _MIN.replace("name: minimal", "name: ${os.system:ls}"),
    "interp_env": _MIN.replace("name: minimal", "name: ${env:HOME}"),
    "interp_mul_junk": _policy("train_global_batch_size: ${mul:x}"),
    "interp_mul_huge": _policy("train_global_batch_size: ${mul:" + "9" * 400 + ",9}"),
    "interp_mul_floats": _policy("train_global_batch_size: ${mul:1e308,1e308}"),
    "interp_pow_huge": _policy("train_global_batch_size: ${pow:10,100000000}"),
    "interp_pow_negative": _policy("train_global_batch_size: ${pow:0,-1}"),
    "interp_div_zero": _policy("train_global_batch_size: ${div:1,0}"),
    "interp_relative_up": _policy("train_micro_batch_size: ${...........x}"),
    "interp_index": _policy("train_micro_batch_size: ${policy.scheduler[0]}"),
    "interp_index_huge": _policy("train_micro_batch_size: ${policy.x.99999999999999999999}"),
    "interp_long_chain": "".join(f"k{i}: ${{k{i + 1}}}\n" for i in range(3000)) + "k3000: 1\n",
    "interp_wide_cycle": "".join(f"k{i}: ${{k{(i + 1) % 500}}}\n" for i in range(500)),
    "interp_many_refs": "a: x\n" + "".join(f"k{i}: " + "${a}" * 200 + "\n" for i in range(50)),
    "interp_in_key": "${a}: 1\na: b\n",
    "interp_div_huge": _policy("train_global_batch_size: ${div:" + "9" * 400 + ",1}"),
    "interp_mul_bomb": "k0: 10\n" + "".join(f"k{i + 1}: ${{mul:${{k{i}}},${{k{i}}}}}\n"
                                            for i in range(40)),
    "interp_mul_bomb_in_spec": _policy("train_global_batch_size: ${mul:${policy.x30},2}\n"
                                       "  x0: 10\n" + "".join(
                                           f"  x{i + 1}: ${{mul:${{policy.x{i}}},"
                                           f"${{policy.x{i}}}}}\n" for i in range(30))),
    "batch_divisor_scan": _policy("train_global_batch_size: 10000000000\n"
                                  "  train_micro_batch_size: 3"),
    "dialect_timeout_huge": _with("hyperparameter_optimization: {timeout_hours: " + "9" * 400
                                  + "}\n"),
    "categorical_choice_huge": _with("hpo:\n  search_space:\n    policy.lora.r: "
                                     "{type: categorical, choices: [" + "9" * 400 + "]}\n"),
    "betas_huge": _policy("optimizer: {name: torch.optim.AdamW, kwargs: {betas: [0.9, "
                          + "9" * 400 + "]}}"),
    "extends_lone_surrogate": 'extends: "\\ud800.yaml"\n' + _MIN,
    "surrogate_model_name": _MIN.replace("specc:tiny-llama", '"\\ud800"'),
    "surrogate_key": _MIN.replace("name: minimal", '"\\ud800": 1'),
    "batch_float_overflow": _policy("train_global_batch_size: " + "9" * 400 + "\n"
                                    "  train_micro_batch_size: 2"),
    "interp_deep_nesting": "a: " + "${" * 500 + "b" + "}" * 500 + "\n",
    "extends_self": "extends: spec.yaml\n" + _MIN,
    "extends_missing": "extends: nope.yaml\n" + _MIN,
    "extends_dir": "extends: .\n" + _MIN,
    "extends_dev_zero": "extends: /dev/zero\n" + _MIN,
    "extends_dev_stdin": "extends: /dev/stdin\n" + _MIN,
    "extends_int": "extends: 1\n" + _MIN,
    "extends_list_junk": "extends: [1, null, {a: b}, [x], '']\n" + _MIN,
    "extends_mapping": "extends: {a: b}\n" + _MIN,
    "defaults_and_extends": "extends: nope.yaml\ndefaults: spec.yaml\n" + _MIN,
    "extends_long_name": "extends: " + "a" * 5000 + ".yaml\n" + _MIN,
    "extends_nul": 'extends: "a\\0b.yaml"\n' + _MIN,
    "hpo_junk": _with("hpo: {search_space: {policy: {type: float, low: x, high: []}}, "
                      "sampler: 1, pruner: [], objectives: {}, n_trials: -1, timeout: 2q}\n"),
    "hpo_space_paths": _with("hpo:\n  search_space:\n    '': {type: int, low: 1, high: 2}\n"
                             "    ...: {type: int, low: 1, high: 2}\n"
                             "    policy..lr: {type: int, low: 1, high: 2}\n"
                             "    policy[0]: {type: int, low: 1, high: 2}\n"
                             "    policy.scheduler.99999999999999999999: {type: int, low: 1,"
                             " high: 2}\n"),
    "hpo_huge_grid": _with("hpo:\n  sampler: {type: grid}\n  search_space:\n"
                           + "".join(f"    policy.lora.r{i}: {{type: int, low: 1, high: "
                                     f"1000000}}\n" for i in range(3))
                           + "    policy.train_micro_batch_size: {type: int, low: 1, high: "
                           + "9" * 30 + "}\n"),
    "hpo_huge_step": _with("hpo:\n  search_space:\n    policy.train_micro_batch_size: "
                           "{type: int, low: 1, high: 1000000000000, step: 1}\n"),
    "hpo_categorical_junk": _with("hpo:\n  search_space:\n    policy.precision: "
                                  "{type: categorical, choices: [[], {}, null, .nan, "
                                  + "9" * 400 + "]}\n"),
    "scheduler_junk": _policy("scheduler: [{}, [], null, 1, {milestones: x}, {milestones: "
                              "[-1, .nan, " + "9" * 400 + "]}]"),
    "long_line": "name: " + "x" * 1_500_000 + "\n",
    "many_keys": "".join(f"k{i}: {i}\n" for i in range(5_000)),
    "over_size_limit": "# " + "x" * (2 * 1024 * 1024) + "\n",
    "long_key": "k" * 100_000 + ": 1\n",
    "many_docs": "a: 1\n---\n" * 2000,
}


@pytest.mark.parametrize("name", list(EDGE_CASES))
def test_edge_case(tmp_path: Path, name: str) -> None:
    run_validate(tmp_path / "spec.yaml", EDGE_CASES[name])


# --------------------------------------------------------------------------------------------
# (b) deterministic mutation of the case specs and examples
# --------------------------------------------------------------------------------------------

MUTATIONS_TOTAL = 1320
# Sources with many aliases are slow to validate (they are alias-bomb cases): fewer mutations.
_SLOW = {p for p in SOURCES if p.read_text(errors="replace").count("*") > 10}
_FAST = [p for p in SOURCES if p not in _SLOW]
PER_SLOW = 4
PER_FILE = max(20, -(-(MUTATIONS_TOTAL - PER_SLOW * len(_SLOW)) // max(len(_FAST), 1)))


def _per(p: Path) -> int:
    return PER_SLOW if p in _SLOW else PER_FILE


_VALUE = re.compile(r"(?:(?<=: )|(?<=- )|(?<=\[)|(?<=, ))[^,\[\]{}\n#]+")


def _junk(rng: random.Random) -> str:
    if rng.random() < 0.15:
        return rng.choice(["".join(rng.choice("ab:{}[],-#&*!|>'\"${}. \t") for _ in range(8)),
                           rng.choice(VOCAB), str(rng.randint(-(10**6), 10**6)),
                           repr(rng.uniform(-1e3, 1e3))])
    return rng.choice(JUNK)


def mutate(data: bytes, rng: random.Random) -> bytes:
    """Apply 1-3 random damages to a spec's bytes."""
    for _ in range(rng.randint(1, 3)):
        text = data.decode("utf-8", "surrogateescape")
        lines = text.split("\n")
        op = rng.randrange(8)
        i = rng.randrange(len(lines))
        if op == 0:  # delete a line
            del lines[i]
        elif op == 1:  # duplicate a line
            lines.insert(i, lines[i])
        elif op == 2:  # swap two lines
            j = rng.randrange(len(lines))
            lines[i], lines[j] = lines[j], lines[i]
        elif op == 3:  # change indentation
            body = lines[i].lstrip(" ")
            indent = len(lines[i]) - len(body)
            lines[i] = rng.choice([" " * max(indent + rng.choice([-3, -2, -1, 1, 2, 3]), 0),
                                   "\t" * max(indent // 2, 1), " " * indent + "\t", ""]) + body
        elif op == 4:  # replace a scalar with junk
            spots = list(_VALUE.finditer(text))
            if spots:
                m = rng.choice(spots)
                text = text[: m.start()] + _junk(rng) + text[m.end():]
                data = text.encode("utf-8", "surrogateescape")
                continue
            lines[i] = lines[i] + " " + _junk(rng)
        elif op == 5:  # truncate at a random byte
            data = data[: rng.randrange(len(data) + 1)]
            continue
        elif op == 6:  # insert a random key
            near = lines[i] if lines[i].strip() else lines[max(i - 1, 0)]
            indent = len(near) - len(near.lstrip(" "))
            name = rng.choice(VOCAB) if rng.random() < 0.7 else _typo(rng.choice(VOCAB),
                                                                       rng.randrange(99))
            lines.insert(i, " " * indent + f"{name}: {_junk(rng)}")
        else:  # flip a byte / insert a nasty character
            raw = bytearray(text.encode("utf-8", "surrogateescape"))
            if raw:
                pos = rng.randrange(len(raw))
                raw[pos:pos] = rng.choice([b"\x00", b"\t", b"\xff", b"\xef\xbb\xbf", b"${", b"}",
                                           b"&a ", b"*a", b"!!python/object:x ", b":", b"\r"])
            data = bytes(raw)
            continue
        data = "\n".join(lines).encode("utf-8", "surrogateescape")
    return data


MUTATION_PARAMS = [(p, n) for p in SOURCES for n in [_per(p)]]
MUTATIONS_PLANNED = sum(n for _, n in MUTATION_PARAMS)


@pytest.mark.parametrize(("source", "count"), MUTATION_PARAMS,
                         ids=[str(p.relative_to(ROOT)) for p, _ in MUTATION_PARAMS])
def test_mutated_source(tmp_path: Path, source: Path, count: int) -> None:
    # validate inside a copy of the source's folder, so `extends` and data paths resolve
    work = tmp_path / "case"
    shutil.copytree(source.parent, work)
    target = work / source.name
    original = source.read_bytes()
    rel = source.relative_to(ROOT)
    failures: list[str] = []
    ran = 0
    for n in range(count):
        rng = random.Random(f"{rel}:{n}")
        data = mutate(original, rng)
        ran += 1
        try:
            run_validate(target, data)
        except AssertionError as e:
            keep = tmp_path / f"failing-{n}.yaml"
            keep.write_bytes(data)
            failures.append(f"[{rel} mutation {n}, kept at {keep}]\n{e}")
    target.write_bytes(original)
    assert ran == count
    assert not failures, f"{len(failures)} of {count} mutations failed:\n\n" + \
        "\n\n".join(failures[:3])


# --------------------------------------------------------------------------------------------
# (c) in bulk: the NeMo RL corpus, the examples and case specs, random YAML
# --------------------------------------------------------------------------------------------

NEMO = ROOT.parent / "shared" / "corpora" / "nemo-rl" / "examples"
N_BULK_CORPUS = 3600
N_BULK_SOURCES = 2000
N_BULK_RANDOM = 1600
BULK_CHUNK = 200


def random_yaml(rng: random.Random, depth: int = 0) -> str:
    """A random YAML-ish document: nested blocks and flows of junk, anchors, aliases,
    tags, interpolations and spec words."""
    def scalar() -> str:
        return rng.choice([_junk(rng), rng.choice(VOCAB), "${" + rng.choice(VOCAB) + "}",
                           str(rng.randint(-5, 10**rng.randint(1, 40))), "*a", "&a x",
                           "!!python/name:os.system", "[1, {a: *a}]", "'quoted'", "~", "<<"])

    lines: list[str] = []
    for _ in range(rng.randint(1, 8)):
        indent = " " * (2 * depth)
        key = rng.choice(VOCAB) if rng.random() < 0.8 else _junk(rng)
        r = rng.random()
        if r < 0.25 and depth < 6:
            lines.append(f"{indent}{key}:")
            lines.append(random_yaml(rng, depth + 1))
        elif r < 0.35 and depth < 6:
            lines.append(f"{indent}{key}:")
            lines += [f"{indent}  - {scalar()}" for _ in range(rng.randint(0, 4))]
        else:
            lines.append(f"{indent}{key}: {scalar()}")
    return "\n".join(lines)


def _bulk_inputs(work: Path) -> list[tuple[Path, bytes]]:
    """Every bulk input, written under ``work`` beside the file it came from (so its
    `extends`/`defaults` resolve), deterministic per seed."""
    out: list[tuple[Path, bytes]] = []
    corpus = sorted((work / "nemo").rglob("*.yaml"))
    assert len(corpus) >= 250, "the NeMo RL corpus (../shared) is missing"
    for n in range(N_BULK_CORPUS):
        rng = random.Random(f"bulk-corpus:{n}")
        src = corpus[n % len(corpus)]
        out.append((src.with_name(f"fuzz-{n}-{src.name}"), mutate(src.read_bytes(), rng)))
    sources = sorted((work / "cases").rglob("*.yaml"))
    for n in range(N_BULK_SOURCES):
        rng = random.Random(f"bulk-sources:{n}")
        src = sources[n % len(sources)]
        out.append((src.with_name(f"fuzz-{n}-{src.name}"), mutate(src.read_bytes(), rng)))
    for n in range(N_BULK_RANDOM):
        rng = random.Random(f"bulk-random:{n}")
        out.append((work / "random" / f"r{n}.yaml",
                    random_yaml(rng).encode("utf-8", "surrogatepass")))
    return out


def test_bulk(tmp_path: Path) -> None:
    work = tmp_path / "work"
    shutil.copytree(NEMO, work / "nemo")
    (work / ".specc").write_text("")  # the project root: parents resolve, nothing escapes
    (work / "cases").mkdir()
    for i, src in enumerate(SOURCES):
        shutil.copytree(src.parent, work / "cases" / f"{i}", dirs_exist_ok=True)
    (work / "random").mkdir()
    inputs = _bulk_inputs(work)
    for path, data in inputs:
        path.write_bytes(data)
    ran = 0
    for start in range(0, len(inputs), BULK_CHUNK):
        chunk = inputs[start:start + BULK_CHUNK]
        files = [str(p) for p, _ in chunk]
        shown = f"files {files[0]} .. {files[-1]} (validated in one call)"
        try:
            with watchdog(PER_INPUT_SECONDS * 4 + 0.1 * len(chunk)):
                result = validate_files(files)
        except (Exception, Hang):
            for path, data in chunk:  # find the input that fails, and show it
                run_validate(path, data)
            raise
        check_result(result, shown)
        ran += len(chunk)
    assert ran == N_BULK_CORPUS + N_BULK_SOURCES + N_BULK_RANDOM


# --------------------------------------------------------------------------------------------
# through the CLI
# --------------------------------------------------------------------------------------------

CLI_INPUTS = ["empty", "two_docs", "deep_flow_map_3000", "alias_bomb", "python_object_apply",
              "nul_byte", "tab_indent", "bom", "utf16_le", "invalid_utf8_first_byte",
              "duplicate_nested", "interp_unclosed", "interp_mul_self", "extends_dir",
              "hpo_junk", "scheduler_junk", "over_size_limit", "negative_everything",
              "surrogate_model_name", "surrogate_key", "emoji_keys", "control_chars"]
CLI_FORMATS = ["text", "json", "github", "sarif"]
CLI_MUTATIONS = 8


def _cli(path: Path, fmt: str, capsys: pytest.CaptureFixture[str], extra: list[str],
         shown: str) -> None:
    capsys.readouterr()
    try:
        rc = main(["validate", str(path), "--format", fmt, *extra])
    except SystemExit as e:  # argparse only; our arguments are valid
        raise AssertionError(f"main exited with {e.code} for input {shown}") from e
    except Exception as e:
        tb = "".join(traceback.format_exception(e)[-12:])
        raise AssertionError(f"main raised {type(e).__name__}: {e}\ninput: {shown}\n{tb}") \
            from e
    out, err = capsys.readouterr()
    assert rc in (0, 1, 2), f"exit {rc} for input {shown}"
    if rc != 0:
        assert out.strip() or err.strip(), f"exit {rc} and no output for input {shown}"
    if fmt in ("json", "sarif"):
        doc = json.loads(out)
        if fmt == "json":
            assert isinstance(doc["diagnostics"], list)
            if rc != 0:
                assert doc["diagnostics"], f"exit {rc} and empty json for input {shown}"
            for d in doc["diagnostics"]:
                assert d["code"] in CODES
                assert d["line"] >= 1 and d["column"] >= 1 and d["message"].strip()


@pytest.mark.parametrize("fmt", CLI_FORMATS)
def test_cli_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str], fmt: str) -> None:
    ran = 0
    for name in CLI_INPUTS:
        data = EDGE_CASES[name]
        path = tmp_path / f"{name}.yaml"
        path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
        _cli(path, fmt, capsys, [], _show(data))
        ran += 1
    for n in range(CLI_MUTATIONS):
        rng = random.Random(f"cli:{fmt}:{n}")
        source = rng.choice(SOURCES)
        data = mutate(source.read_bytes(), rng)
        path = tmp_path / f"mutated-{n}.yaml"
        path.write_bytes(data)
        extra = rng.choice([[], ["--strict"], ["--quiet"], ["--max-bytes", "64"],
                            ["-o", "policy.lora.r=0x" + "f" * 50], ["-o", "==="],
                            ["--color", "always"]])
        _cli(path, fmt, capsys, extra, f"{_show(data)} (from {source.name}, args {extra})")
        ran += 1
    assert ran == len(CLI_INPUTS) + CLI_MUTATIONS


# --------------------------------------------------------------------------------------------
# the budget: at least MIN_CASES inputs across the module
# --------------------------------------------------------------------------------------------

CLI_PLANNED = len(CLI_FORMATS) * (len(CLI_INPUTS) + CLI_MUTATIONS)
PLANNED = {
    "raw bytes (hypothesis)": N_BYTES,
    "YAML-ish text (hypothesis)": N_TEXT,
    "spec-shaped trees (hypothesis)": N_SPEC,
    "overrides (hypothesis)": N_OVERRIDES,
    "deep nesting (hypothesis)": N_DEEP,
    "edge cases": len(EDGE_CASES),
    "mutations": MUTATIONS_PLANNED,
    "CLI": CLI_PLANNED,
    "bulk: NeMo RL corpus mutations": N_BULK_CORPUS,
    "bulk: example and case mutations": N_BULK_SOURCES,
    "bulk: random YAML": N_BULK_RANDOM,
}


def test_case_budget() -> None:
    """Each test above asserts it ran its planned number of inputs; together they are
    at least MIN_CASES."""
    total = sum(PLANNED.values())
    assert total >= MIN_CASES, f"only {total} fuzz cases planned: {PLANNED}"
    assert MUTATIONS_PLANNED >= 1000, PLANNED
    assert len(TEMPLATES) >= 10, "too few spec templates for the spec-shaped strategy"
