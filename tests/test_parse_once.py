"""Each file is read, parsed and merged once per process, but a diagnostic always names
the file as the spec being checked names it, whichever name reached it first."""

from __future__ import annotations

from pathlib import Path

import pytest

from specc.compiler.validate import validate_files

ROOT = Path(__file__).resolve().parent.parent
CASE = ROOT / "tests" / "cases" / "advice"


def test_a_file_reached_under_two_names_is_reported_under_each(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(CASE)
    first = validate_files(["spec.yaml"]).diagnostics
    monkeypatch.chdir(ROOT)
    second = validate_files(["tests/cases/advice/spec.yaml"]).diagnostics
    assert first and second
    assert {d.file for d in first} == {"spec.yaml"}
    assert {d.file for d in second} == {"tests/cases/advice/spec.yaml"}
    assert [(d.code, d.line) for d in first] == [(d.code, d.line) for d in second]


def test_a_parent_named_two_ways_is_one_file(tmp_path: Path) -> None:
    (tmp_path / ".specc").write_text("")
    (tmp_path / "base").mkdir()
    (tmp_path / "base" / "b.yaml").write_text(
        "specc: 1\npolicy: {model_name: specc:tiny-llama, lorra: {}}\n")
    (tmp_path / "one.yaml").write_text("extends: base/b.yaml\nname: one\nsft: {}\n")
    (tmp_path / "two.yaml").write_text("extends: ./base/../base/b.yaml\nname: two\nsft: {}\n")
    result = validate_files([str(tmp_path / "one.yaml"), str(tmp_path / "two.yaml")])
    named = {d.file for d in result.diagnostics if d.code == "S001"}
    # a parent's name is normalised: `./base/../base/b.yaml` is `base/b.yaml`, one entry
    assert named == {str(tmp_path / "base" / "b.yaml")}
