"""The key-path module and the walkers that now use it: `-o` overrides, the repair pass's
deletes, interpolation's lookups, `specc explain`'s paths and the TUI's help title."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from specc.spec import keypath
from specc.spec.diagnostics import Collector
from specc.spec.interpolate import resolve
from specc.spec.loader import load
from specc.spec.provenance import parse_path


def test_has_and_delete() -> None:
    data: dict[str, Any] = {"a": [{"b": 1}, 2], "c": {"d": None}}
    assert keypath.has(data, ("a", 0, "b")) and keypath.has(data, ("c", "d"))
    assert not keypath.has(data, ("a", 2)) and not keypath.has(data, ("a", 0, "b", "x"))
    assert keypath.delete(data, ("a", 1)) and data["a"] == [{"b": 1}, None]  # indices stay
    assert keypath.delete(data, ("c", "d")) and data["c"] == {}
    assert not keypath.delete(data, ("c", "d")) and not keypath.delete(data, ())
    assert not keypath.delete(data, ("a", 5))


def _override(tmp_path: Path, ov: str) -> tuple[dict[str, Any], list[str]]:
    spec = tmp_path / "s.yaml"
    spec.write_text("a:\n  b: 1\n  l: [{x: 1}]\nn: null\n")
    diags = Collector()
    data = load(str(spec), diags, overrides=[ov]).data
    assert data is not None
    return data, [f"{d.code} {d.message} | {d.hint}" for d in diags.items]


@pytest.mark.parametrize(("ov", "message"), [
    ("a.b.c=2", "R020 override `a.b.c=2`: `a.b` holds a value, not a mapping | check the path"),
    ("a.l[3].x=2", "R020 override `a.l[3].x=2`: `a.l[3]` is not a mapping or list index that "
     "exists | check the path"),
    ("a.l[3]=2", "R020 override `a.l[3]=2`: list index out of range | check the index"),
    ("a..b=2", "R020 override `a..b=2` is not `path=value` | for example "
     "`-o policy.optimizer.kwargs.lr=1e-5`"),
])
def test_override_refusals_name_the_step(tmp_path: Path, ov: str, message: str) -> None:
    _, got = _override(tmp_path, ov)
    assert got == [message]


@pytest.mark.parametrize(("ov", "path", "value"), [
    ("a.l[0].x=5", ("a", "l", 0, "x"), 5),
    ("n.m.k=true", ("n", "m", "k"), True),  # null and missing mappings are created
    ("new.deep=x", ("new", "deep"), "x"),
])
def test_override_writes(tmp_path: Path, ov: str, path: keypath.Path, value: object) -> None:
    data, got = _override(tmp_path, ov)
    assert got == [] and keypath.get(data, path) == (True, value)


def test_interpolation_reads_an_index_as_a_string_key_too() -> None:
    data: dict[str, Any] = {"x": {"0": 7}, "l": [3], "y": "${x.0}", "z": "${l.0}",
                            "w": {"v": "${..y}"}}
    diags = Collector()
    assert resolve(data, diags) == set() and not diags.items
    assert (data["y"], data["z"], data["w"]["v"]) == (7, 3, 7)


@pytest.mark.parametrize(("text", "path"), [
    (' hpo.search_space."a.b".low ', ("hpo", "search_space", "a.b", "low")),
    ("hpo.search_space['a.b']", ("hpo", "search_space", "a.b")),
    ("a[0][1].b", ("a", 0, 1, "b")),
    ("a.", None),
])
def test_explain_paths_are_keypath_paths(text: str, path: keypath.Path | None) -> None:
    assert parse_path(text) == path == (keypath.parse(text.strip()))


def test_tui_help_title_is_the_diagnostics_rendering() -> None:
    from specc.tui.fieldhelp import describe

    found = describe(("hpo", "search_space", "policy.optimizer.kwargs.lr"))
    assert found is not None
    assert found.path == 'hpo.search_space["policy.optimizer.kwargs.lr"]'
