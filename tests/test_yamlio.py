"""The YAML reader: libyaml's fast path agrees with ruamel's, and each file is parsed once.

libyaml (PyYAML's C parser) composes; ruamel composes whatever libyaml rejects and the
round-trip that `specc set` edits. Both feed one converter, so the values and positions of
every key must be the same whichever composed them: checked here over every example, case
spec and NeMo RL corpus file.
"""

from __future__ import annotations

import math
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from specc.compiler.validate import validate_files
from specc.spec import extends, sources, yamlfast, yamlio
from specc.spec.diagnostics import Collector
from specc.spec.loader import load

from conftest import CASES, EXAMPLES

ROOT = Path(__file__).resolve().parent.parent
NEMO = ROOT.parent / "shared" / "corpora" / "nemo-rl"


def _files() -> list[Path]:
    out = sorted(EXAMPLES.rglob("*.yaml")) + sorted(CASES.glob("*/*.yaml"))
    return out + sorted((NEMO / "examples").rglob("*.yaml"))


def _ruamel(text: str, file: str) -> tuple[yamlio.Parsed | None, list[Any]]:
    diags = Collector()
    nodes = yamlio._compose_ruamel(text, file, diags)
    parsed = None if nodes is None else yamlio._documents(nodes, True, text, file, diags,
                                                          max_nodes=yamlio.MAX_NODES)
    return parsed, [(d.code, d.line, d.column) for d in diags]


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if isinstance(a, dict) and isinstance(b, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


def _spans(fast: dict[Any, Any], slow: dict[Any, Any]) -> tuple[dict[Any, Any], dict[Any, Any]]:
    """Where each key and value starts, and where the one-line ones end. (A block
    collection ends at the next token in both parsers, but they skip comments and the
    end of the file differently there; nothing renders that end.)"""
    def one(table: dict[Any, Any], p: Any) -> tuple[int, ...]:
        x = table[p]
        both = fast[p].end_line == fast[p].line and slow[p].end_line == slow[p].line
        return (x.line, x.column) + ((x.end_line, x.end_column) if both else ())

    common = fast.keys() & slow.keys()
    assert common == fast.keys() == slow.keys()
    return {p: one(fast, p) for p in common}, {p: one(slow, p) for p in common}


def test_corpus_is_there() -> None:
    assert len(list((NEMO / "examples" / "configs").rglob("*.yaml"))) >= 250


def test_libyaml_and_ruamel_agree_on_every_known_file() -> None:
    checked = 0
    for path in _files():
        text = path.read_text(encoding="utf-8")
        diags = Collector()
        fast = yamlio.parse(text, str(path), diags)
        slow, slow_diags = _ruamel(text, str(path))
        assert [(d.code, d.line, d.column) for d in diags] == slow_diags, path
        if slow is None:
            assert fast is None, path
            continue
        assert fast is not None, path
        assert _same(fast.data, slow.data), path
        a, b = _spans(fast.locations.values, slow.locations.values)
        assert a == b, path
        a, b = _spans(fast.locations.keys, slow.locations.keys)
        assert a == b, path
        assert fast.refused == slow.refused, path
        checked += 1
    assert checked >= 300


SCALARS = ["1", "-1", "+1", "0x1F", "0o17", "0b101", "1_000", "017", "1.5", "-.5", "1e3",
           "1.0e-5", ".inf", "-.Inf", ".NaN", "true", "False", "TRUE", "yes", "no", "on", "~",
           "null", "Null", "", "2024-01-02", "2001-12-14t21:59:43.10-05:00", "<<", "=", "1:20",
           "0.", "._1", "a", "1e", "0xZ", "+", "-", "1__0"]


@pytest.mark.parametrize("scalar", SCALARS)
def test_plain_scalars_resolve_as_ruamel_resolves_them(scalar: str) -> None:
    from ruamel.yaml.nodes import ScalarNode
    from ruamel.yaml.resolver import VersionedResolver

    ruamel_tag = VersionedResolver().resolve(ScalarNode, scalar, (True, False))
    assert yamlfast.resolve_plain(scalar) == str(getattr(ruamel_tag, "value", ruamel_tag))


def test_what_libyaml_rejects_is_reported_as_before() -> None:
    cases = {"a: *undefined\n": "Y010", "a: [1,\n": "Y010", "%YAML 1.1\n---\na: 1\n": None,
             "a: 1\n\x00\n": "Y010", "a: &x 1\nb: &x 2\nc: *x\n": None}
    for text, code in cases.items():
        diags = Collector()
        parsed = yamlio.parse(text, "t.yaml", diags)
        assert [d.code for d in diags] == ([code] if code else []), text
        assert all(d.line >= 1 and d.column >= 1 for d in diags)
        assert (parsed is None) == (code is not None)
    diags = Collector()
    parsed = yamlio.parse("a: &x 1\nb: &x 2\nc: *x\n", "t.yaml", diags)
    assert parsed is not None and parsed.data == {"a": 1, "b": 2, "c": 2}  # ruamel's reading


def test_the_forbidden_class_is_pyyamls_printable_class_inverted() -> None:
    """The pattern left in re's cache for PyYAML matches exactly the characters PyYAML's
    own does, over every code point."""
    pyyaml, ours = re.compile(yamlfast._PYYAML_NON_PRINTABLE), re.compile(
        yamlfast._YAML_FORBIDDEN)
    every = "".join(map(chr, range(sys.maxunicode + 1)))
    assert ours.findall(every) == pyyaml.findall(every)
    assert ours.match("\x00") and ours.match("\ud800") and not ours.match("\U0001f600")


def test_pyyaml_gets_the_cheap_pattern_and_re_keeps_no_trace() -> None:
    """In a fresh interpreter, PyYAML's reader ends up with the complement (so its pattern
    is still the one named here: an upgrade that changes it fails this test) and the seed
    is gone from re's cache afterwards."""
    probe = ("import re, sys\n"
             "from specc.spec import yamlfast\n"
             "yamlfast._libyaml()\n"
             "import yaml\n"
             "key = (str, yamlfast._PYYAML_NON_PRINTABLE, 0)\n"
             "print(yaml.reader.Reader.NON_PRINTABLE.pattern == yamlfast._YAML_FORBIDDEN,"
             " key in re._cache, yaml.safe_load('a: [1, b]') == {'a': [1, 'b']})\n")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True, timeout=120)
    assert out.stdout.split() == ["True", "False", "True"]


def test_limits_are_located_where_they_are_crossed() -> None:
    diags = Collector()
    assert yamlio.parse("a:\n  - " + "- " * 400 + "1\n", "t.yaml", diags) is None
    (d,) = diags
    assert (d.code, d.line) == ("Y018", 2) and d.column > 100
    diags = Collector()
    assert yamlio.parse("a: 1\n" + "---\na: 1\n" * 500, "t.yaml", diags) is not None
    assert [(d.code, d.line) for d in diags] == [("Y017", 3)]  # the second document
    assert "more than 100" in diags.items[0].message
    diags = Collector()
    bomb = "a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\n" + "".join(
        f"b{i}: &b{i} [" + ", ".join([f"*{'a' if i == 0 else f'b{i - 1}'}"] * 10) + "]\n"
        for i in range(6))
    start = time.perf_counter()
    assert yamlio.parse(bomb, "t.yaml", diags) is None
    assert time.perf_counter() - start < 1.0  # sized before anything is expanded
    assert [d.code for d in diags] == ["Y013"] and diags.items[0].line >= 1


def test_the_round_trip_node_is_ruamels_and_made_on_demand() -> None:
    from ruamel.yaml.nodes import MappingNode

    parsed = yamlio.parse("a: 1\nb: [x]\n", "t.yaml", Collector())
    assert parsed is not None
    assert isinstance(parsed.composed, yamlfast.Node)  # validate never needed ruamel
    assert isinstance(parsed.node, MappingNode)
    assert parsed.node.value[1][0].start_mark.line == 1


def _count_parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    seen: list[str] = []
    real = sources.parse  # type: ignore[attr-defined]  # patched where sources calls it

    def counting(text: str, file: str, diags: Collector, **kw: Any) -> Any:
        seen.append(os.path.basename(file))
        return real(text, file, diags, **kw)

    monkeypatch.setattr(sources, "parse", counting)
    sources.clear_cache()
    extends._MEMO.clear()
    return seen


def test_an_extends_diamond_parses_each_file_once(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    seen = _count_parses(monkeypatch)
    n = 15
    for i in range(n):
        nxt = f"d{i + 1}.yaml"
        (tmp_path / f"d{i}.yaml").write_text(f"extends: [{nxt}, ./{nxt}]\nk{i}: {i}\n")
    (tmp_path / f"d{n}.yaml").write_text("specc: 1\nname: x\n")
    start = time.perf_counter()
    loaded = load(str(tmp_path / "d0.yaml"), Collector())
    assert time.perf_counter() - start < 2.0
    assert sorted(seen) == sorted(f"d{i}.yaml" for i in range(n + 1))
    assert loaded.data is not None and loaded.data["k0"] == 0 and loaded.data["k14"] == 14
    assert loaded.data["name"] == "x"


def test_a_shared_parent_is_parsed_once_per_call(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    seen = _count_parses(monkeypatch)
    (tmp_path / ".specc").write_text("")  # the project root: children reach ../base.yaml
    (tmp_path / "base.yaml").write_text("specc: 1\nname: base\nalgorithm: sft\n")
    children = []
    for i in range(20):
        child = tmp_path / "sub" / f"c{i}.yaml"
        child.parent.mkdir(exist_ok=True)
        child.write_text(f"defaults: ../base.yaml\nname: c{i}\n")
        children.append(str(child))
    validate_files(children)
    assert seen.count("base.yaml") == 1
    assert len(seen) == 21


def test_the_cache_sees_changes_and_hands_out_copies(tmp_path: Path) -> None:
    base = tmp_path / "base.yaml"
    base.write_text("specc: 1\nname: one\npolicy: {model_name: a}\n")
    child = tmp_path / "child.yaml"
    child.write_text("extends: base.yaml\n")
    first = load(str(child), Collector())
    assert first.data is not None
    first.data["policy"]["model_name"] = "changed by a caller"
    second = load(str(child), Collector())
    assert second.data is not None and second.data["policy"]["model_name"] == "a"
    base.write_text("specc: 1\nname: two\npolicy: {model_name: b}\n")
    os.utime(base, ns=(time.time_ns(), time.time_ns() + 10**9))
    third = load(str(child), Collector())
    assert third.data is not None and third.data["name"] == "two"


def test_non_regular_files_are_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    diags = Collector()
    start = time.perf_counter()
    assert yamlio.read_text(str(fifo), diags) is None
    assert time.perf_counter() - start < 1.0
    assert [(d.code, d.line, d.column) for d in diags] == [("Y020", 1, 1)]
    diags = Collector()
    assert yamlio.read_text("/dev/zero", diags) is None
    assert [d.code for d in diags] == ["Y020"]


def test_the_project_root_is_the_nearest_marked_folder(tmp_path: Path) -> None:
    (tmp_path / "repo" / "a" / "b").mkdir(parents=True)
    (tmp_path / "repo" / "pyproject.toml").write_text("")
    spec = tmp_path / "repo" / "a" / "b" / "s.yaml"
    assert sources.project_root(str(spec)) == os.path.realpath(tmp_path / "repo")
    (tmp_path / "repo" / "a" / ".specc").write_text("")
    assert sources.project_root(str(spec)) == os.path.realpath(tmp_path / "repo" / "a")
    lone = tmp_path / "lone"
    lone.mkdir()
    if not any(os.path.lexists(os.path.join(p, m)) for p in map(str, [*lone.parents])
               for m in sources.ROOT_MARKERS):
        assert sources.project_root(str(lone / "s.yaml")) == os.path.realpath(lone)


def test_root_widens_confinement(tmp_path: Path) -> None:
    (tmp_path / "proj").mkdir()
    (tmp_path / "proj" / ".specc").write_text("")
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "base.yaml").write_text("name: shared\n")
    spec = tmp_path / "proj" / "s.yaml"
    spec.write_text("extends: ../shared/base.yaml\nspecc: 1\n")
    diags = Collector()
    refused = load(str(spec), diags)
    assert [d.code for d in diags] == ["R040"] and (diags.items[0].line, diags.items[0].column) \
        == (1, 10)
    assert refused.texts.keys() == {str(spec)}  # the parent was never read
    diags = Collector()
    allowed = load(str(spec), diags, root=str(tmp_path / "shared"))
    assert not diags.items and allowed.data is not None and allowed.data["name"] == "shared"
