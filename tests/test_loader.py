"""Loading: positions, extends/defaults merging, interpolation, overrides, YAML safety."""

from __future__ import annotations

from pathlib import Path

from specc.spec.diagnostics import Collector
from specc.spec.loader import load


def _write(tmp: Path, name: str, text: str) -> str:
    p = tmp / name
    p.write_text(text)
    return str(p)


def test_positions_are_one_based_for_keys_and_values(tmp_path: Path) -> None:
    f = _write(tmp_path, "a.yaml", "policy:\n  model_name: x\n")
    loaded = load(f, Collector())
    assert loaded.locations.keys[("policy", "model_name")].line == 2
    assert loaded.locations.keys[("policy", "model_name")].column == 3
    assert loaded.locations.values[("policy", "model_name")].column == 15


def test_extends_deep_merges_and_keeps_the_setting_files_position(tmp_path: Path) -> None:
    base = _write(tmp_path, "base.yaml", "policy:\n  model_name: base\n  lora: {r: 8, alpha: 16}\n"
                  "  lora_list: [1, 2, 3]\n")
    child = _write(tmp_path, "child.yaml", "defaults: base.yaml\npolicy:\n  lora: {r: 32}\n"
                   "  lora_list: [9]\n")
    loaded = load(child, Collector())
    assert loaded.data == {"policy": {"model_name": "base", "lora": {"r": 32, "alpha": 16},
                                      "lora_list": [9]}}
    assert loaded.locations.values[("policy", "model_name")].file == base
    assert loaded.locations.values[("policy", "lora", "alpha")].file == base
    assert loaded.locations.values[("policy", "lora", "r")].file == child
    assert loaded.locations.values[("policy", "lora_list", 0)].file == child
    assert (("policy", "lora_list", 2)) not in loaded.locations.values
    assert loaded.sources == [base, child]


def test_later_parents_win(tmp_path: Path) -> None:
    _write(tmp_path, "a.yaml", "x: 1\ny: 1\n")
    _write(tmp_path, "b.yaml", "x: 2\n")
    child = _write(tmp_path, "c.yaml", "extends: [a.yaml, b.yaml]\n")
    assert load(child, Collector()).data == {"x": 2, "y": 1}


def test_interpolation_forms(tmp_path: Path) -> None:
    f = _write(tmp_path, "a.yaml", (
        "policy:\n  model_name: m\n  seq: 512\n  micro: 4\n"
        "  tokenizer: {name: '${policy.model_name}'}\n"
        "  tokens: ${mul:${policy.seq}, ${.micro}}\n"
        "  label: 'run-${policy.seq}-${.micro}'\n"
        "  half: ${div:${policy.seq}, 2}\n"
        "dpo: {a: true, b: '${.a}', c: '${..policy.seq}'}\n"))
    diags = Collector()
    data = load(f, diags).data
    assert list(diags) == []
    assert data is not None
    pol = data["policy"]
    assert pol["tokenizer"]["name"] == "m"
    assert pol["tokens"] == 2048 and isinstance(pol["tokens"], int)
    assert pol["label"] == "run-512-4"
    assert pol["half"] == 256.0
    assert data["dpo"] == {"a": True, "b": True, "c": 512}


def test_interpolation_errors_are_located(tmp_path: Path) -> None:
    f = _write(tmp_path, "a.yaml", "a: ${b}\nb: ${a}\nc: ${nope.x}\nd: ${env:HOME}\ne: '${x'\n")
    diags = Collector()
    load(f, diags)
    got = sorted((d.code, d.line) for d in diags)
    assert got == [("R010", 3), ("R011", 1), ("R012", 5), ("R013", 4)]


def test_override_creates_and_locates(tmp_path: Path) -> None:
    f = _write(tmp_path, "a.yaml", "policy: {model_name: m}\n")
    loaded = load(f, Collector(), overrides=["policy.lora.r=8", "policy.model_name=other"])
    assert loaded.data == {"policy": {"model_name": "other", "lora": {"r": 8}}}
    assert loaded.locations.values[("policy", "lora", "r")].file == "<override 1>"


def test_forbidden_tag_is_never_constructed(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    f = _write(tmp_path, "a.yaml",
               f"x: !!python/object/apply:os.system ['touch {marker}']\n"
               "y: !!python/name:os.system\n")
    diags = Collector()
    loaded = load(f, diags)
    assert not marker.exists()
    assert [d.code for d in diags] == ["Y012", "Y012"]
    assert loaded.data == {"x": None, "y": None}


def test_size_limit_refuses_before_parsing(tmp_path: Path) -> None:
    f = _write(tmp_path, "big.yaml", "a: " + "x" * 5000 + "\n")
    diags = Collector()
    assert load(f, diags, max_bytes=1000).data is None
    assert [d.code for d in diags] == ["Y002"]


def test_yaml_1_2_numbers(tmp_path: Path) -> None:
    f = _write(tmp_path, "a.yaml", "a: 1e-5\nb: 5.0e-6\nc: 0x10\nd: yes\ne: 1_000\nf: .inf\n")
    data = load(f, Collector()).data
    assert data == {"a": 1e-5, "b": 5e-6, "c": 16, "d": "yes", "e": 1000, "f": float("inf")}
