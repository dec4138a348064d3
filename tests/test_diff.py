"""`specc diff`: the semantic difference of two resolved specs (spec/semdiff.py, the command)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from specc.cli import main
from specc.compiler.report import dump_yaml
from specc.compiler.space import apply_point
from specc.spec.diagnostics import Collector
from specc.spec.loader import load
from specc.spec.semdiff import resolve_side, same, semantic_diff

from conftest import EXAMPLES

QUICK = EXAMPLES / "quickstart.yaml"

#: The quickstart's training settings written another way: block vs flow style, key order,
#: comments, quoting, `1e-4` vs `0.0001`, an interpolation written out, and defaults
#: written explicitly (lora.r, use_rslora, hardware counts) -- none of it is a difference.
QUICK_REWRITTEN = """\
# the same experiment, written differently
specc: 1
algorithm: "dpo"
name: 'quickstart'
description: DPO on the built-in tiny Llama; tune lr and beta in a few CPU minutes.
data:
  validation: {split: validation, path: "specc:arith-prefs"}
  train:
    path: specc:arith-prefs
    split: train
dpo:
  seed: 42
  val_period: 10
  max_num_steps: 30
  reference_policy_kl_penalty: 1.0e-1
policy:
  optimizer:
    kwargs:
      weight_decay: 0
      lr: 0.0001
    name: torch.optim.AdamW
  lora: {enabled: false, r: 16, use_rslora: false}
  max_grad_norm: 1
  train_micro_batch_size: 4
  train_global_batch_size: 8
  max_total_sequence_length: 64
  precision: float32
  tokenizer: {name: specc:tiny-llama}
  model_name: "specc:tiny-llama"
hardware: {gpu: CPU}
hpo:
  n_trials: 6
  search_space:
    dpo.reference_policy_kl_penalty: {high: 0.5, low: 0.05, type: float}
    policy.optimizer.kwargs.lr: {type: float, low: 0.00001, high: 0.02, log: true}
  objectives: [{direction: minimize, metric: eval_loss}]
  pruner: {type: median, n_startup_trials: 2, n_warmup_steps: 1}
  sampler: {type: tpe, seed: 0}
"""


def _write(tmp: Path, name: str, text: str) -> Path:
    p = tmp / name
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text)
    return p


def _diff(a: str | Path, b: str | Path, **kw: Any) -> Any:
    diags = Collector()
    sa, sb = resolve_side(str(a), diags), resolve_side(str(b), diags)
    assert sa is not None and sb is not None, [d.message for d in diags]
    return semantic_diff(sa, sb, **kw)


def _paths(changes: list[Any]) -> dict[str, str]:
    from specc.spec.diagnostics import dotted

    return {dotted(c.path): c.kind for c in changes}


def _trial(tmp: Path, point: dict[str, Any], number: int = 3) -> Path:
    """A trial folder as `specc run` writes it: the point applied to the merged tree."""
    loaded = load(str(QUICK), Collector())
    assert loaded.raw is not None
    return _write(tmp, f"run/trials/{number}/spec.yaml",
                  dump_yaml(apply_point(loaded.raw, point))).parent


def test_formatting_and_written_defaults_are_no_difference(tmp_path: Path) -> None:
    other = _write(tmp_path, "rewritten.yaml", QUICK_REWRITTEN)
    d = _diff(QUICK, other, include_same=False)
    assert d.identical, _paths([*d.settings, *d.hpo])


#: Pairs of examples -> every path that differs and how.
PAIRS: list[tuple[str, str, dict[str, str]]] = [
    ("hw_rtx4090.yaml", "hw_a100_40gb.yaml", {
        "name": "changed", "policy.max_total_sequence_length": "changed",
        "policy.train_micro_batch_size": "changed", "orpo.max_prompt_length": "changed",
        "data.num_workers": "changed", "hardware.gpu": "changed"}),
    ("hw_rtx4090.yaml", "web4_stage1_orpo.yaml", {
        "name": "changed", "policy.model_name": "changed", "policy.tokenizer.name": "changed",
        "policy.max_total_sequence_length": "changed",
        "policy.optimizer.kwargs.fused": "removed", "orpo.max_prompt_length": "changed",
        "hardware.gpu": "changed"}),
]


@pytest.mark.parametrize(("a", "b", "expected"), PAIRS, ids=lambda v: str(v)[:30])
def test_examples_differ_in_the_expected_paths(a: str, b: str,
                                               expected: dict[str, str]) -> None:
    d = _diff(EXAMPLES / a, EXAMPLES / b)
    assert _paths(d.settings) == expected
    assert d.hpo == [] and d.hpo_only_in is None


def test_algorithm_switch_removes_one_block_and_adds_the_other() -> None:
    d = _diff(EXAMPLES / "dpo.yaml", EXAMPLES / "orpo.yaml")
    kinds = _paths(d.settings)
    assert kinds["algorithm"] == "changed"
    assert kinds["dpo.reference_policy_kl_penalty"] == "removed"
    assert kinds["orpo.beta"] == "added"
    # `scheduler` list vs short form: the list items removed, the short form's keys added
    assert kinds["policy.scheduler[0].name"] == "removed"
    assert kinds["policy.scheduler.type"] == "added"


def test_changes_carry_the_line_each_side_writes() -> None:
    d = _diff(EXAMPLES / "hw_rtx4090.yaml", EXAMPLES / "hw_a100_40gb.yaml")
    prompt = next(c for c in d.settings if c.path == ("orpo", "max_prompt_length"))
    assert (prompt.old, prompt.new) == (1024, 2048)
    assert prompt.a is not None and prompt.a.file.endswith("hw_rtx4090.yaml")
    assert prompt.b is not None and prompt.b.file.endswith("web4_stage1_orpo.yaml")
    text = (EXAMPLES / "web4_stage1_orpo.yaml").read_text().splitlines()
    assert "max_prompt_length: 2048" in text[prompt.b.line - 1]


def test_trial_folder_vs_its_spec_differs_in_the_searched_values(tmp_path: Path) -> None:
    trial = _trial(tmp_path, {"policy.optimizer.kwargs.lr": 0.00123,
                              "dpo.reference_policy_kl_penalty": 0.2})
    for form in (str(trial), f"{tmp_path / 'run'}#3"):
        d = _diff(QUICK, form)
        assert {(c.path, c.old, c.new) for c in d.settings} == {
            (("policy", "optimizer", "kwargs", "lr"), 1e-4, 0.00123),
            (("dpo", "reference_policy_kl_penalty"), 0.1, 0.2)}
        assert d.hpo == []
        change = d.settings[0]
        assert change.b is not None and change.b.file == str(trial / "spec.yaml")


def test_run_folder_means_its_best_yaml_and_hpo_is_apart(tmp_path: Path) -> None:
    loaded = load(str(QUICK), Collector())
    assert loaded.raw is not None
    best = apply_point(loaded.raw, {"policy.optimizer.kwargs.lr": 2e-3})
    del best["hpo"]
    best["name"] = "quickstart-best"
    _write(tmp_path, "run/best.yaml", "# best trial\n" + dump_yaml(best))
    d = _diff(QUICK, tmp_path / "run")
    assert _paths(d.settings) == {"name": "changed", "policy.optimizer.kwargs.lr": "changed"}
    assert d.hpo_only_in == "a"
    assert d.hpo and all(c.kind == "removed" for c in d.hpo)


def test_hpo_changes_are_listed_apart(tmp_path: Path) -> None:
    other = _write(tmp_path, "more.yaml", QUICK_REWRITTEN.replace("n_trials: 6", "n_trials: 9"))
    d = _diff(QUICK, other)
    assert d.settings == []
    assert _paths(d.hpo) == {"hpo.n_trials": "changed"}


@pytest.mark.parametrize(("x", "y", "equal"), [
    (1, 1.0, True), (1e-4, 0.0001, True), (True, 1, False), (0, False, False),
    (None, 0, False), ([0.9, 0.999], [0.9, 0.999], True), ([1, 2], [1, 2, 3], False),
    ("1", 1, False),
])
def test_same(x: Any, y: Any, equal: bool) -> None:
    assert same(x, y) is equal


# --- the command ----------------------------------------------------------------------------

def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["diff", *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cli_exit_status_like_diff(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    other = _write(tmp_path, "rewritten.yaml", QUICK_REWRITTEN)
    code, out, _ = _run(capsys, str(QUICK), str(other))
    assert code == 0 and "no semantic difference" in out
    code, out, _ = _run(capsys, str(EXAMPLES / "hw_rtx4090.yaml"),
                        str(EXAMPLES / "hw_a100_40gb.yaml"))
    assert code == 1
    assert '~ hardware.gpu: "RTX-4090" -> "A100-40GB"' in out
    assert "6 changed, 0 added, 0 removed" in out


def test_cli_json(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    trial = _trial(tmp_path, {"policy.optimizer.kwargs.lr": 0.00123})
    code, out, _ = _run(capsys, str(QUICK), f"{trial.parent.parent}#3", "--format", "json")
    payload = json.loads(out)
    assert code == 1 and payload["identical"] is False
    assert payload["settings"] == [{"path": "policy.optimizer.kwargs.lr", "kind": "changed",
                                    "old": 1e-4, "new": 0.00123,
                                    "a": f"{QUICK}:{_line_of(QUICK, 'lr: 1.0e-4')}",
                                    "b": payload["settings"][0]["b"]}]
    assert payload["hpo"] == {"only_in": None, "changes": []}


def _line_of(file: Path, needle: str) -> int:
    return next(i for i, t in enumerate(file.read_text().splitlines(), 1) if needle in t)


def test_cli_hpo_only_on_one_side_is_summarised_unless_all(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    loaded = load(str(QUICK), Collector())
    assert loaded.raw is not None
    single = apply_point(loaded.raw, {})
    del single["hpo"]
    one = _write(tmp_path, "single.yaml", dump_yaml(single))
    code, out, _ = _run(capsys, str(QUICK), str(one))
    assert code == 1
    assert "only a has an `hpo` block" in out and "hpo.n_trials" not in out
    code, out, _ = _run(capsys, str(QUICK), str(one), "--all")
    assert "- hpo.n_trials: 6" in out and "= policy.model_name" in out


@pytest.mark.parametrize("bad", [
    "missing.yaml",                    # unreadable
    "run#7",                           # no such trial
    "broken.yaml",                     # a schema error
])
def test_cli_unresolvable_side_exits_2_with_diagnostics(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, bad: str) -> None:
    _trial(tmp_path, {})
    _write(tmp_path, "broken.yaml", QUICK_REWRITTEN.replace("n_trials: 6", "n_trials: six"))
    code, out, err = _run(capsys, str(QUICK), str(tmp_path / bad))
    assert code == 2 and out == ""
    assert ("Y001" in err) if bad != "broken.yaml" else ("S002" in err)


def test_cli_rule_errors_do_not_stop_a_diff(capsys: pytest.CaptureFixture[str],
                                            tmp_path: Path) -> None:
    # batch 30 is not micro 4 x accumulation (B001): validate's business, not diff's
    other = _write(tmp_path, "b001.yaml", QUICK_REWRITTEN.replace(
        "train_global_batch_size: 8", "train_global_batch_size: 30"))
    code, out, _ = _run(capsys, str(QUICK), str(other))
    assert code == 1 and "policy.train_global_batch_size: 8 -> 30" in out
