"""`specc set` and ``specc.edit``: in-place edits that change only the edited value's text.

The must-show: every YAML file in ``examples/`` round-trips byte for byte apart from the
edited value -- setting each scalar leaf the file writes to its own value changes nothing,
setting it to another value changes exactly that value's span, and adding a missing key
only adds lines. Then refusal (an edit that makes the spec invalid leaves the file
byte-identical), the YAML layouts an edit must keep (flow mappings, quotes, comments on
the line, keys that hold dots, CRLF, BOM) and the CLI's options.
"""

from __future__ import annotations

import difflib
import os
import re
import shutil
import stat
from pathlib import Path
from typing import Any

import pytest

import specc
from specc.cli import main
from specc.runtime.api import SpecError
from specc.runtime.document import SpecDocument
from specc.spec.diagnostics import Collector, Severity, dotted
from specc.spec.edit import render, render_float, same, set_value
from specc.spec.loader import load, parse_override_path
from specc.spec.locations import Path as KeyPath
from specc.spec.yamlio import parse, parse_scalar

from conftest import EXAMPLES

FILES = sorted(EXAMPLES.rglob("*.yaml"))
assert len(FILES) >= 30, "the round-trip tests need the examples"  # never an empty run
IDS = [p.relative_to(EXAMPLES).as_posix() for p in FILES]
#: Floats written in a form only YAML 1.2 reads as a float (`1e-5`): a changed value is
#: written `1.0e-5`, so setting them back cannot restore those bytes.
YAML12_ONLY_FLOAT = re.compile(r"^[-+]?[0-9]+[eE][-+]?[0-9]+$")


def _leaves(data: Any, path: KeyPath = ()) -> list[tuple[KeyPath, Any]]:
    if isinstance(data, dict):
        return [leaf for k, v in data.items() for leaf in _leaves(v, (*path, k))]
    if isinstance(data, list):
        return [leaf for i, v in enumerate(data) for leaf in _leaves(v, (*path, i))]
    return [(path, data)]


def _own(file: Path) -> tuple[str, Any, Any]:
    """The file's text, its own data (no `extends`) and locations."""
    text = file.read_text()
    parsed = parse(text, str(file), Collector())
    assert parsed is not None
    return text, parsed.data, parsed.locations


def _index(text: str, line: int, column: int) -> int:
    starts = [0] + [m.end() for m in re.finditer("\n", text)]
    return starts[line - 1] + column - 1


def _perturb(value: Any) -> Any:
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, float):
        return value * 1.5 if value else 0.5
    if value is None:
        return 3
    return f"{value}-x"


def _lookup(data: Any, path: KeyPath) -> Any:
    for part in path:
        data = data[part]
    return data


# --- the must-show: every example round-trips ---------------------------------------------


@pytest.mark.parametrize("file", FILES, ids=IDS)
def test_setting_each_leaf_to_its_own_value_keeps_every_byte(file: Path) -> None:
    text, data, locs = _own(file)
    leaves = _leaves(data)
    assert leaves
    doc = specc.edit(str(file))
    for path, value in leaves:
        doc.set(path, value)
        # and as `specc set` reads it: the value's own text, parsed like `-o`
        loc = locs.values[path]
        if loc.end_line == loc.line:
            source = text.splitlines()[loc.line - 1][loc.column - 1:loc.end_column - 1]
            doc.apply([f"{dotted(path)}={source}"])
    assert doc.text == text
    assert not doc.changed
    assert {c.kind for c in doc.changes} == {"unchanged"}


@pytest.mark.parametrize("file", FILES, ids=IDS)
def test_changing_each_leaf_changes_exactly_its_span(file: Path) -> None:
    text, data, locs = _own(file)
    restored = 0
    for path, value in _leaves(data):
        new_value = _perturb(value)
        diags = Collector()
        edited = set_value(text, str(file), path, new_value, diags)
        assert edited is not None, (path, [d.message for d in diags])
        c = edited.change
        assert c.kind == "replace" and c.path == path
        loc = locs.values[path]
        start, end = _index(text, loc.line, loc.column), _index(text, loc.end_line,
                                                                loc.end_column)
        # the span replaced is the value's own text (a block scalar's without its
        # trailing blank lines), and nothing before or after it moved
        assert c.start == start and text[start:end].startswith(c.old) and c.old.strip()
        assert edited.text[:start] == text[:start]
        assert edited.text[start + len(c.new):] == text[start + len(c.old):]
        assert "\n" not in c.new
        reread = parse(edited.text, str(file), Collector())
        assert reread is not None
        assert same(_lookup(reread.data, path), new_value), (path, c.new)
        back = set_value(edited.text, str(file), path, value, Collector())
        assert back is not None
        if back.text == text:
            restored += 1
        else:
            assert YAML12_ONLY_FLOAT.match(c.old), (path, c.old, back.change.new)
    assert restored >= len(_leaves(data)) - 2


def _representative(file: Path, data: dict[str, Any]) -> list[tuple[KeyPath, Any]]:
    """Edits that keep the example valid: names, descriptions, lr, seeds, clipping."""
    out: list[tuple[KeyPath, Any]] = [(("name",), f"{data.get('name', 'spec')}-edited"),
                                      (("description",), "edited by specc set: lr halved")]
    lr = ("policy", "optimizer", "kwargs", "lr")
    if _has(data, lr):
        out.append((lr, _lookup(data, lr) / 2))
    for block, value in data.items():
        if isinstance(value, dict) and isinstance(value.get("seed"), int):
            out.append(((block, "seed"), value["seed"] + 1))
    out.append((("policy", "max_grad_norm"), 0.5))
    return out


@pytest.mark.parametrize("file", FILES, ids=IDS)
def test_representative_edits_validate_save_and_read_back(file: Path, tmp_path: Path) -> None:
    copy = tmp_path / file.relative_to(EXAMPLES)
    shutil.copytree(EXAMPLES, tmp_path, dirs_exist_ok=True)
    text, data, _ = _own(file)
    edits = _representative(file, data)
    doc = specc.edit(str(copy))
    for path, value in edits:
        doc.set(path, value)
    check = doc.check()
    assert check.ok, [(d.code, d.message) for d in check.new_errors]
    assert doc.save() == str(copy)
    written = copy.read_text()
    assert written == doc.text
    # the file is the original with exactly these splices: each replaces a value's text
    # or inserts new text, and every other byte is the original's
    replay = text
    for c in doc.changes:
        assert replay[c.start:c.start + len(c.old)] == c.old
        assert (c.kind == "replace" and c.old.strip()) or (c.kind == "insert" and not c.old)
        replay = replay[:c.start] + c.new + replay[c.start + len(c.old):]
    assert replay == written and len(doc.changes) == len(edits)
    loaded = load(str(copy), Collector())
    for path, value in edits:
        assert same(_lookup(loaded.data, path), value), path


@pytest.mark.parametrize("file", FILES, ids=IDS)
def test_adding_a_missing_key_only_adds_lines(file: Path, tmp_path: Path) -> None:
    shutil.copytree(EXAMPLES, tmp_path, dirs_exist_ok=True)
    copy = tmp_path / file.relative_to(EXAMPLES)
    text, data, _ = _own(file)
    missing: list[tuple[KeyPath, Any]] = [(("description",), "added by specc set")]
    if "max_grad_norm" not in data.get("policy", {}):
        missing.append((("policy", "max_grad_norm"), 0.75))
    missing.append((("policy", "lora", "bias"), "none") if "bias" not in
                   data.get("policy", {}).get("lora", {}) else (("data", "num_workers"), 3))
    for path, value in missing:
        if _has(data, path):
            continue
        doc = specc.edit(str(copy))
        doc.set(path, value)
        before, after = text.splitlines(keepends=True), doc.text.splitlines(keepends=True)
        ops = difflib.SequenceMatcher(None, before, after, autojunk=False).get_opcodes()
        change = doc.changes[-1]
        assert change.kind == "insert" and not change.old
        if change.new.startswith(", "):  # inside a flow mapping's braces, on its line
            assert [op[0] for op in ops if op[0] != "equal"] == ["replace"]
            assert doc.text.replace(change.new, "", 1) == text
        else:
            assert {op[0] for op in ops} <= {"equal", "insert"}, (path, doc.diff())
        assert doc.check().ok, [d.message for d in doc.check().new_errors]
        assert same(doc.get(path), value)


def _has(data: Any, path: KeyPath) -> bool:
    try:
        _lookup(data, path)
    except (KeyError, TypeError, IndexError):
        return False
    return True


# --- the command line ----------------------------------------------------------------------


@pytest.fixture
def examples(tmp_path: Path) -> Path:
    shutil.copytree(EXAMPLES, tmp_path / "examples")
    return tmp_path / "examples"


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["set", *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


#: (example, assignment, the edited line after `specc set`) -- the CLI on a few examples.
CLI_EDITS = [
    ("sft.yaml", "policy.optimizer.kwargs.lr=1e-5", None),
    ("grpo_local.yaml", "policy.optimizer.kwargs.lr=1e-4",
     "    kwargs: {lr: 1.0e-4}            # seed 002 local learning_rate (betas etc. from the "
     "base)"),
    ("nemo_rl_dpo.yaml", "policy.optimizer.kwargs.lr=2e-5",
     "      lr: 2.0e-5                  # learning rate - the key hyperparameter"),
    ("nemo_rl_dpo.yaml", "policy.precision=float32", '  precision: "float32"'),
    ("hpo_bayesian.yaml", 'hpo.search_space["policy.optimizer.kwargs.lr"].low=2e-5',
     "    policy.optimizer.kwargs.lr: {type: float, low: 2.0e-5, high: 1.0e-3, log: true}"),
    ("hpo_bayesian.yaml", "hpo.search_space.'policy.max_grad_norm'.high=1.5",
     "    policy.max_grad_norm: {type: float, low: 0.1, high: 1.5}"),
    ("hpo_bayesian.yaml", "hpo.search_space.policy.lora.dropout.high=0.25",
     "    policy.lora.dropout: {type: float, low: 0.0, high: 0.25}"),
    ("web4_stage1_dpo.yaml", "dpo.reference_policy_kl_penalty=0.2",
     "  reference_policy_kl_penalty: 0.2  # beta"),
]


@pytest.mark.parametrize(("name", "assignment", "line"), CLI_EDITS,
                         ids=[f"{n}:{a.split('=')[0]}" for n, a, _ in CLI_EDITS])
def test_cli_edits_only_the_value(capsys: pytest.CaptureFixture[str], examples: Path,
                                  name: str, assignment: str, line: str | None) -> None:
    file = examples / name
    before = file.read_text()
    code, out, err = _run(capsys, str(file), assignment)
    assert code == 0, err
    after = file.read_text()
    assert f"wrote {file}" in out
    changed = [(a, b) for a, b in zip(before.splitlines(), after.splitlines(), strict=True)
               if a != b]
    assert len(changed) == 1
    if line is not None:
        assert changed[0][1] == line
    # `specc set` and `-o` agree on what the assignment means (an unquoted key with dots
    # is found by `specc set` only: `-o` would read it as nested keys)
    path_text, _, value_text = assignment.partition("=")
    if "search_space.policy" in path_text:
        return
    via_o = load(str(examples / name), Collector(), text=before, overrides=[assignment])
    via_set = load(str(file), Collector())
    assert same(via_set.data, via_o.data)
    path = parse_override_path(path_text)
    assert path is not None and same(_lookup(via_set.raw, path), parse_scalar(value_text))


@pytest.mark.parametrize(("assignment", "code"), [
    ("policy.optimizer.kwargs.lr=-1", "O003"),
    ("policy.train_global_batch_size=7", "B001"),
    ("policy.optimiser.kwargs.lr=1e-5", "S001"),
])
def test_an_edit_that_breaks_the_spec_is_refused(capsys: pytest.CaptureFixture[str],
                                                 examples: Path, assignment: str,
                                                 code: str) -> None:
    file = examples / "sft.yaml"
    before = file.read_bytes()
    status, _out, err = _run(capsys, str(file), assignment)
    assert status == 1
    assert re.search(rf"{re.escape(str(file))}:\d+:\d+: error {code} ", err), err
    assert "is unchanged" in err
    assert file.read_bytes() == before
    if code == "S001":
        assert "did you mean" in err.lower() or "optimizer" in err


def test_refusal_points_into_the_edited_text(capsys: pytest.CaptureFixture[str],
                                             examples: Path) -> None:
    file = examples / "sft.yaml"
    lines = file.read_text().splitlines()
    lr_line = next(i for i, t in enumerate(lines, 1) if "lr:" in t)
    _, _, err = _run(capsys, str(file), "policy.optimizer.kwargs.lr=-1.0e-4")
    assert f"{file}:{lr_line}:" in err
    assert "-1.0e-4" in err  # the source line shown is the edited one


def test_existing_errors_do_not_block_but_new_ones_do(capsys: pytest.CaptureFixture[str],
                                                      examples: Path) -> None:
    base = examples / "base" / "web4_base.yaml"  # a fragment: N006 on its own
    code, _, err = _run(capsys, str(base), "policy.lora.r=8")
    assert code == 0, err
    assert "already had 1 error(s)" in err and "N006" in err
    assert base.read_text() == (EXAMPLES / "base" / "web4_base.yaml").read_text().replace(
        "    r: 16 ", "    r: 8 ")
    before = base.read_bytes()
    code, _, err = _run(capsys, str(base), "policy.lora.r=-8")
    assert code == 1 and base.read_bytes() == before


def test_dry_run_prints_a_diff_and_writes_nothing(capsys: pytest.CaptureFixture[str],
                                                  examples: Path) -> None:
    file = examples / "grpo_local.yaml"
    before = file.read_bytes()
    code, out, _ = _run(capsys, str(file), "policy.optimizer.kwargs.lr=1e-4", "--dry-run")
    assert code == 0
    assert f"--- {file}" in out and f"+++ {file}" in out
    assert "-    kwargs: {lr: 5.0e-5}" in out and "+    kwargs: {lr: 1.0e-4}" in out
    assert file.read_bytes() == before


def test_output_writes_a_new_file(capsys: pytest.CaptureFixture[str], examples: Path) -> None:
    file = examples / "grpo_local.yaml"
    before = file.read_bytes()
    new = examples / "grpo_local_lr1e-4.yaml"
    code, _, err = _run(capsys, str(file), "policy.optimizer.kwargs.lr=1e-4", "--output",
                        str(new))
    assert code == 0, err
    assert file.read_bytes() == before
    assert specc.load(str(new)).policy.optimizer.kwargs["lr"] == 1e-4
    # `extends: base/...` would not resolve from another folder: refused, nothing written
    elsewhere = examples.parent / "grpo_elsewhere.yaml"
    code, _, err = _run(capsys, str(file), "grpo.max_num_steps=10", "--output", str(elsewhere))
    assert code == 1 and "R001" in err and not elsewhere.exists()


def test_write_is_atomic_and_keeps_the_mode(capsys: pytest.CaptureFixture[str],
                                            examples: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    file = examples / "sft.yaml"
    os.chmod(file, 0o640)
    inode = os.stat(file).st_ino
    code, _, _ = _run(capsys, str(file), "sft.seed=7")
    assert code == 0
    assert stat.S_IMODE(os.stat(file).st_mode) == 0o640
    assert os.stat(file).st_ino != inode  # replaced, not rewritten in place
    assert sorted(p.name for p in file.parent.iterdir() if p.name.startswith(".")) == []
    before = file.read_bytes()

    def fail(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", fail)
    code, _, err = _run(capsys, str(file), "sft.seed=8")
    assert code == 2 and "No space left" in err
    assert file.read_bytes() == before
    assert [p.name for p in file.parent.iterdir() if p.name.startswith(".")] == []


def test_nothing_to_change(capsys: pytest.CaptureFixture[str], examples: Path) -> None:
    file = examples / "sft.yaml"
    mtime = os.stat(file).st_mtime_ns
    code, out, _ = _run(capsys, str(file), "sft.seed=42")
    assert code == 0 and "nothing to change" in out and "unchanged" in out
    assert os.stat(file).st_mtime_ns == mtime


@pytest.mark.parametrize("argv", [["sft.seed"], ['sft."seed=1'], ["=1"], ["a..b=1"]])
def test_bad_assignment_syntax_is_a_usage_error(capsys: pytest.CaptureFixture[str],
                                                examples: Path, argv: list[str]) -> None:
    file = examples / "sft.yaml"
    before = file.read_bytes()
    code, _, err = _run(capsys, str(file), *argv)
    assert code == 2 and "is not PATH=VALUE" in err
    assert file.read_bytes() == before


def test_missing_file_is_a_usage_error(capsys: pytest.CaptureFixture[str],
                                       tmp_path: Path) -> None:
    code, _, err = _run(capsys, str(tmp_path / "nope.yaml"), "a=1")
    assert code == 2 and "Y001" in err


def test_notes_for_parents_and_interpolations(capsys: pytest.CaptureFixture[str],
                                              examples: Path) -> None:
    stage = examples / "web4_stage1_dpo.yaml"
    code, out, _ = _run(capsys, str(stage), "policy.max_grad_norm=0.5")
    assert code == 0
    assert re.search(r"info E003 `policy.max_grad_norm` was set in .*web4_base.yaml", out)
    assert "  max_grad_norm: 0.5\n" in stage.read_text()
    assert "max_grad_norm: 1.0" in (examples / "base" / "web4_base.yaml").read_text()
    conditional = examples / "hpo_conditional.yaml"
    code, out, _ = _run(capsys, str(conditional), "policy.lora.alpha=32")
    assert code == 0
    assert "info E004 `policy.lora.alpha` was the interpolation `${mul:${policy.lora.r}, 2}`" \
        in out
    assert "    alpha: 32   # alpha = 2 x r at every sampled rank" in conditional.read_text()


def test_paths_that_cannot_be_edited(capsys: pytest.CaptureFixture[str],
                                     examples: Path) -> None:
    file = examples / "sft.yaml"
    before = file.read_bytes()
    for assignment, code in [("policy.precision.x=1", "E001"),
                             ("policy.lora.target_modules[9]=x", "E001")]:
        status, _, err = _run(capsys, str(file), assignment)
        assert status == 1 and f" error {code} " in err, err
    assert file.read_bytes() == before


# --- layouts an edit keeps -----------------------------------------------------------------


SPEC = """\
# header comment
specc: 1
name: "layout"   # quoted name
algorithm: sft
policy:
  model_name: specc:tiny-gpt2
  train_global_batch_size: 4
  train_micro_batch_size: 4
  optimizer:
    name: torch.optim.AdamW
    kwargs: {lr: 1.0e-4, weight_decay: 0.0}    # flow mapping

  # a comment between keys
  precision: 'float32'
sft:
  max_num_steps: 10
data:
  train: {path: specc:arith-prefs, split: train}
"""


def _edit(text: str, path: str, value: Any, tmp_path: Path, name: str = "s.yaml") -> str:
    f = tmp_path / name
    f.write_bytes(text.encode())
    return specc.edit(str(f)).set(path, value).text


@pytest.mark.parametrize(("path", "value", "old", "new"), [
    ("policy.optimizer.kwargs.lr", 1e-5, "{lr: 1.0e-4, weight_decay: 0.0}",
     "{lr: 1.0e-5, weight_decay: 0.0}"),
    ("policy.optimizer.kwargs.eps", 1e-8, "weight_decay: 0.0}", "weight_decay: 0.0, eps: 1.0e-8}"),
    ("policy.optimizer.kwargs.betas", [0.9, 0.95], "weight_decay: 0.0}",
     "weight_decay: 0.0, betas: [0.9, 0.95]}"),
    ("name", "new name", '"layout"   # quoted name', '"new name"   # quoted name'),
    ("name", 'say "hi"', '"layout"', '"say \\"hi\\""'),
    ("policy.precision", "bfloat16", "'float32'", "'bfloat16'"),
    ("policy.model_name", "yes", "specc:tiny-gpt2", '"yes"'),
    ("policy.model_name", "a: b # c", "specc:tiny-gpt2", '"a: b # c"'),
    ("policy.model_name", "gpt2", "specc:tiny-gpt2", "gpt2"),
    ("sft.max_num_steps", 20, "max_num_steps: 10", "max_num_steps: 20"),
    ("policy.optimizer", {"name": "torch.optim.SGD", "kwargs": {"lr": 0.1}},
     "optimizer:\n    name: torch.optim.AdamW\n    kwargs: {lr: 1.0e-4, weight_decay: 0.0}    "
     "# flow mapping", "optimizer: {name: torch.optim.SGD, kwargs: {lr: 0.1}}    # flow mapping"),
    ("data.train", "x", "{path: specc:arith-prefs, split: train}", "x"),
])
def test_layouts_are_kept(tmp_path: Path, path: str, value: Any, old: str, new: str) -> None:
    edited = _edit(SPEC, path, value, tmp_path)
    assert SPEC.count(old) == 1
    assert edited == SPEC.replace(old, new)


def test_new_intermediate_mappings_are_block_lines(tmp_path: Path) -> None:
    edited = _edit(SPEC, "policy.lora.r", 8, tmp_path)
    assert edited == SPEC.replace("  precision: 'float32'\n",
                                  "  precision: 'float32'\n  lora:\n    r: 8\n")
    edited = _edit(SPEC, "hpo.search_space.policy.lora.r", {"type": "categorical",
                                                            "choices": [8, 16]}, tmp_path)
    assert edited.endswith("hpo:\n  search_space:\n    policy:\n      lora:\n        r: "
                           "{type: categorical, choices: [8, 16]}\n")
    quoted = _edit(SPEC, 'hpo.search_space["policy.lora.r"]', {"type": "int"}, tmp_path)
    assert quoted.endswith("hpo:\n  search_space:\n    policy.lora.r: {type: int}\n")


def test_crlf_bom_and_missing_final_newline_are_kept(tmp_path: Path) -> None:
    text = SPEC.replace("\n", "\r\n").rstrip("\r\n")
    f = tmp_path / "crlf.yaml"
    f.write_bytes(b"\xef\xbb\xbf" + text.encode())
    doc = specc.edit(str(f)).set("sft.max_num_steps", 30).set("policy.lora.r", 8)
    doc.save()
    raw = f.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    assert b"\n" not in raw.replace(b"\r\n", b"")
    expected = text.replace("max_num_steps: 10", "max_num_steps: 30").replace(
        "  precision: 'float32'", "  precision: 'float32'\r\n  lora:\r\n    r: 8")
    assert raw[3:].decode() == expected


def test_anchors_and_aliases_are_refused(tmp_path: Path) -> None:
    text = SPEC + "x-common: &common {max_num_steps: 10}\nx-other: *common\n"
    f = tmp_path / "a.yaml"
    f.write_text(text)
    with pytest.raises(SpecError) as e:
        specc.edit(str(f)).set("x-common.max_num_steps", 5)
    assert [d.code for d in e.value.diagnostics] == ["E002"]


def test_a_value_that_reads_back_wrong_is_refused_not_written(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch
                                                              ) -> None:
    from specc.spec import edit

    monkeypatch.setattr(edit, "render", lambda value, **kw: "[unbalanced")
    diags = Collector()
    assert set_value(SPEC, "s.yaml", ("name",), "x", diags) is None
    assert [d.code for d in diags] == ["E002"]


@pytest.mark.parametrize(("value", "text"), [
    (1e-5, "1.0e-5"), (1e-4, "0.0001"), (2.5e16, "2.5e+16"), (0.1, "0.1"), (float("inf"), ".inf"),
    (None, "null"), (True, "true"), (3, "3"), ("1e5", '"1e5"'), ("on", '"on"'),
    ("2024-01-01", '"2024-01-01"'), ("0.1.0", '"0.1.0"'), ("${policy.model_name}",
                                                         "${policy.model_name}"),
    ("", '""'), ("line\nbreak", '"line\\nbreak"'), ({"a": [1, "x,y"]}, '{a: [1, "x,y"]}'),
])
def test_rendering_reads_back_under_yaml_1_1_and_1_2(value: Any, text: str) -> None:
    import yaml as pyyaml  # YAML 1.1, as most other tools read specs

    assert render(value) == text
    assert same(parse_scalar(text), value) or (value == "" and text == '""')
    got = pyyaml.safe_load(f"k: {text}")["k"]
    assert got == value or (isinstance(value, float) and got == value)
    assert render_float(1e-4, exponent=True) == "1.0e-4"


# --- the Python API ------------------------------------------------------------------------


def test_api_aliases_and_exports(examples: Path) -> None:
    assert {"edit", "SpecDocument"} <= set(specc.__all__)
    assert specc.SpecDocument is SpecDocument
    file = examples / "grpo_local.yaml"
    loader = specc.edit(str(file))
    assert loader.update_param == loader.set and loader.save_config == loader.save
    loader.update_param("policy.optimizer.kwargs.lr", 1e-4)
    loader.update_param(("grpo", "max_num_steps"), 400)
    assert loader.get("policy.optimizer.kwargs.lr") == 1e-4
    assert loader.get("policy.optimizer.kwargs.betas") == [0.9, 0.999]  # from the base
    with pytest.raises(KeyError):
        loader.get("policy.no_such_key")
    assert "+    kwargs: {lr: 1.0e-4}" in loader.diff()
    new = examples / "grpo_local_experiment1.yaml"
    assert loader.save_config(str(new)) == str(new)
    assert specc.load(str(new)).policy.optimizer.kwargs["lr"] == 1e-4
    assert file.read_text() == (EXAMPLES / "grpo_local.yaml").read_text()


def test_api_save_refuses_errors_and_validate_lists_them(examples: Path) -> None:
    file = examples / "sft.yaml"
    before = file.read_bytes()
    doc = specc.edit(str(file)).set("policy.optimizer.kwargs.lr", -1.0)
    diags = doc.validate()
    assert any(d.code == "O003" and d.severity is Severity.ERROR for d in diags)
    with pytest.raises(SpecError) as e:
        doc.save()
    assert any(d.code == "O003" for d in e.value.diagnostics)
    assert file.read_bytes() == before
    with pytest.raises(TypeError):
        specc.edit(str(file)).set("name", object())
