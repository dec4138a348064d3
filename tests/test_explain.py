"""`specc explain`: where a resolved value came from (spec/provenance.py, the command)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from specc.cli import main
from specc.spec.diagnostics import Collector
from specc.spec.loader import load
from specc.spec.models import Spec
from specc.spec.provenance import Origin, Provenance, describe_dimension, parse_path
from specc.spec.schema_check import validate_model

from conftest import EXAMPLES

QUICK = EXAMPLES / "quickstart.yaml"
RTX = EXAMPLES / "hw_rtx4090.yaml"
STAGE1 = EXAMPLES / "web4_stage1_orpo.yaml"
BASE = EXAMPLES / "base" / "web4_base.yaml"

GRPO_PRESET = """\
specc: 1
name: p
algorithm: grpo
policy:
  model_name: specc:tiny-llama
  train_global_batch_size: 8
  train_micro_batch_size: 4
  optimizer: {name: torch.optim.AdamW, kwargs: {lr: 1.0e-5}}
grpo: {num_prompts_per_step: 2, num_generations_per_prompt: 4, max_num_steps: 10}
loss_fn: {reference_policy_kl_penalty: 0.01}
data: {train: {path: "specc:arith-prompts"}}
reward: {functions: [{name: "specc.rewards:exact_match"}]}
hardware: {gpu: CPU}
hpo:
  preset: grpo
  profile: quick
"""

NEMO_BASE = """\
specc: 1
policy:
  model_name: specc:tiny-llama
  train_global_batch_size: 8
  train_micro_batch_size: 4
  optimizer: {name: torch.optim.AdamW, kwargs: {lr: 1.0e-5}}
  seq: 64
dpo:
  reference_policy_kl_penalty: 0.1
"""

NEMO_CHILD = """\
defaults: base.yaml
name: d
policy:
  optimizer:
    kwargs: {lr: 2.0e-5}
  max_total_sequence_length: ${mul:${.seq},2}
dpo: {max_num_steps: 10, val_period: 5, seed: '${.max_num_steps}'}
data: {train: {path: "specc:arith-prefs"}}
hardware: {gpu: CPU}
optimization:
  method: random
  n_trials: 4
  hyperparameters:
    learning_rate: {type: loguniform, min: 1.0e-6, max: 1.0e-4}
"""


def _line(file: Path, needle: str) -> int:
    """The 1-based line of the first line of ``file`` holding ``needle``."""
    for i, text in enumerate(file.read_text().splitlines(), 1):
        if needle in text:
            return i
    raise AssertionError(f"{needle!r} not in {file}")


def _prov(file: Path, overrides: list[str] | None = None) -> Provenance:
    loaded = load(str(file), Collector(), overrides=overrides)
    assert loaded.data is not None
    model = validate_model(loaded.data, Collector())
    return Provenance(loaded, model if isinstance(model, Spec) else None)


def _origin(file: Path, path: str, overrides: list[str] | None = None) -> Origin:
    prov = _prov(file, overrides)
    found = prov.explain(parse_path(path, prov.data) or ())
    assert found is not None and not found.mapping
    return found.leaves[0]


@pytest.fixture()
def tmp_specs(tmp_path: Path) -> dict[str, Path]:
    out = {}
    for name, text in (("preset.yaml", GRPO_PRESET), ("base.yaml", NEMO_BASE),
                       ("child.yaml", NEMO_CHILD)):
        (tmp_path / name).write_text(text)
        out[name] = tmp_path / name
    return out


@dataclass(frozen=True)
class Case:
    """One explained path: the kind of origin, the file and line expected."""

    file: Path
    path: str
    kind: str
    site: Path | None
    needle: str | None  # text on the expected line
    value: Any


CASES = [
    Case(RTX, "policy.model_name", "file", RTX, "model_name: deepseek",
         "deepseek-ai/deepseek-coder-6.7b-instruct"),
    Case(RTX, "policy.optimizer.kwargs.lr", "inherited", STAGE1, "kwargs: {lr: 5.0e-6}", 5e-6),
    Case(RTX, "policy.lora.r", "inherited", BASE, "r: 16", 16),
    Case(RTX, "policy.optimizer.kwargs.fused", "file", RTX, "fused: true", True),
    Case(QUICK, "dpo.reference_policy_kl_penalty", "file", QUICK,
         "reference_policy_kl_penalty: 0.1", 0.1),
    Case(QUICK, "policy.lora.use_rslora", "default", None, None, False),
    Case(QUICK, "hardware.gpus_per_node", "default", None, None, None),
    Case(QUICK, "policy.generation.temperature", "absent", None, None, None),
    Case(QUICK, "policy.optimizer.kwargs.eps", "default", None, None, 1e-8),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.file.name}:{c.path}")
def test_origin_kind_and_site(case: Case) -> None:
    o = _origin(case.file, case.path)
    assert o.kind == case.kind
    assert o.value == case.value
    if case.site is None:
        assert o.site is None
    else:
        assert o.site is not None and case.needle is not None
        assert o.site.file == str(case.site)
        assert o.site.line == _line(case.site, case.needle)
        assert case.needle in o.site.source


def test_inherited_value_names_the_chain_of_files() -> None:
    o = _origin(RTX, "policy.lora.r")
    assert o.chain == [str(RTX), str(STAGE1), str(BASE)]
    assert o.via == ["extends", "extends"]


def test_child_value_lists_the_parent_value_it_replaces() -> None:
    o = _origin(RTX, "policy.max_total_sequence_length")
    assert (o.kind, o.value) == ("file", 2048)
    assert [(r.value, r.site.file, r.site.line) for r in o.replaced] == [
        (4096, str(BASE), _line(BASE, "max_total_sequence_length: 4096"))]


def test_interpolation_shows_the_reference_and_where_it_came_from() -> None:
    o = _origin(RTX, "policy.tokenizer.name")
    assert o.kind == "inherited" and o.site is not None and o.site.file == str(BASE)
    assert o.template == "${policy.model_name}"
    [ref] = o.references
    assert ref.path == ("policy", "model_name")
    assert ref.site is not None and ref.site.file == str(RTX)  # the child's model wins
    assert ref.replaced and ref.replaced[0].value == "Qwen/Qwen2.5-Coder-7B-Instruct"
    quick = _origin(QUICK, "policy.tokenizer.name")
    assert quick.references[0].site is not None
    assert quick.references[0].site.line == _line(QUICK, "model_name: specc:tiny-llama")


def test_relative_and_resolver_interpolations_follow_every_reference(
        tmp_specs: dict[str, Path]) -> None:
    child, base = tmp_specs["child.yaml"], tmp_specs["base.yaml"]
    o = _origin(child, "policy.max_total_sequence_length")
    assert o.value == 128 and o.template == "${mul:${.seq},2}"
    assert [r.path for r in o.references] == [("policy", "seq")]
    assert o.references[0].site is not None and o.references[0].site.file == str(base)
    seed = _origin(child, "dpo.seed")
    assert seed.value == 10 and seed.references[0].path == ("dpo", "max_num_steps")


def test_nemo_defaults_parent_is_named_as_such(tmp_specs: dict[str, Path]) -> None:
    child, base = tmp_specs["child.yaml"], tmp_specs["base.yaml"]
    o = _origin(child, "dpo.reference_policy_kl_penalty")
    assert o.kind == "inherited" and o.via == ["defaults"]
    assert o.chain == [str(child), str(base)]
    lr = _origin(child, "policy.optimizer.kwargs.lr")
    assert lr.kind == "file" and [r.value for r in lr.replaced] == [1e-5]


def test_dialect_keys_point_at_what_the_user_wrote(tmp_specs: dict[str, Path]) -> None:
    child = tmp_specs["child.yaml"]
    low = _origin(child, 'hpo.search_space["policy.optimizer.kwargs.lr"].low')
    assert (low.kind, low.value) == ("dialect", 1e-6)
    assert low.detail == "optimization.hyperparameters.learning_rate.min"
    sampler = _origin(child, "hpo.sampler.type")
    assert (sampler.kind, sampler.detail, sampler.value) == (
        "dialect", "optimization.method", "random")
    lr = _origin(child, "policy.optimizer.kwargs.lr")
    assert lr.searched is not None and lr.searched.origin.kind == "dialect"
    assert lr.searched.describe() == "float 1e-06..0.0001 log"


def test_preset_and_profile_entries(tmp_specs: dict[str, Path]) -> None:
    spec = tmp_specs["preset.yaml"]
    preset_line = _line(spec, "preset: grpo")
    dim = _origin(spec, "hpo.search_space.policy.max_grad_norm.low")  # key without quotes
    assert (dim.kind, dim.detail, dim.value) == ("preset", "grpo", 0.5)
    assert dim.site is not None and dim.site.line == preset_line
    trials = _origin(spec, "hpo.n_trials")
    assert (trials.kind, trials.detail, trials.value) == ("profile", "quick", 10)
    lr = _origin(spec, "policy.optimizer.kwargs.lr")
    assert lr.kind == "file"
    assert lr.searched is not None and lr.searched.origin.kind == "preset"
    assert lr.searched.describe() == "float 1e-06..0.001 log"


def test_override_wins_and_shows_the_file_value_it_replaced() -> None:
    o = _origin(QUICK, "policy.optimizer.kwargs.lr", ["policy.optimizer.kwargs.lr=3e-4"])
    assert (o.kind, o.value, o.detail) == ("override", 3e-4, "policy.optimizer.kwargs.lr=3e-4")
    assert o.site is not None and o.site.file == "<override 1>"
    assert [r.value for r in o.replaced] == [1e-4]


def test_default_carries_the_field_documentation() -> None:
    o = _origin(QUICK, "policy.lora.use_rslora")
    assert o.has_default and o.default is False
    assert "alpha/sqrt(r)" in o.doc
    absent = _origin(QUICK, "policy.generation.temperature")
    assert absent.detail == "policy.generation" and absent.has_default


def test_mapping_lists_each_leaf_with_its_origin() -> None:
    prov = _prov(RTX)
    found = prov.explain(("policy", "lora"))
    assert found is not None and found.mapping
    kinds = {o.path[-1]: o.kind for o in found.leaves}
    assert kinds["r"] == "inherited" and kinds["use_rslora"] == "default"
    assert [s.file for s in found.sites] == [str(BASE)]
    kwargs = prov.explain(("policy", "optimizer", "kwargs"))
    assert kwargs is not None
    assert [s.file for s in kwargs.sites] == [str(BASE), str(STAGE1), str(RTX)]


@pytest.mark.parametrize(("text", "path"), [
    ("policy.scheduler[0].kwargs.lr", ("policy", "scheduler", 0, "kwargs", "lr")),
    ("policy.scheduler.0.kwargs", ("policy", "scheduler", 0, "kwargs")),
    ('hpo.search_space["a.b"].low', ("hpo", "search_space", "a.b", "low")),
    ("", None),
    ("a..b", None),
])
def test_parse_path(text: str, path: tuple[Any, ...] | None) -> None:
    assert parse_path(text) == path


@pytest.mark.parametrize(("dim", "text"), [
    ({"type": "float", "low": 1e-5, "high": 0.02, "log": True}, "float 1e-05..0.02 log"),
    ({"type": "int", "low": 1, "high": 8, "step": 2}, "int 1..8 step 2"),
    ({"type": "categorical", "choices": [4, 8]}, "categorical [4, 8]"),
])
def test_describe_dimension(dim: dict[str, Any], text: str) -> None:
    assert describe_dimension(dim) == text


# --- the command ----------------------------------------------------------------------------

def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["explain", *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cli_text_names_file_line_source_and_trainer_field(
        capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, str(QUICK), "policy.optimizer.kwargs.lr")
    assert code == 0
    line = _line(QUICK, "kwargs: {lr: 1.0e-4")
    assert f"written in {QUICK}:{line}:" in out
    assert "kwargs: {lr: 1.0e-4" in out
    assert "searched: float 1e-05..0.02 log" in out
    assert "becomes: DPOConfig.learning_rate" in out


def test_cli_json_for_an_inherited_interpolation(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, str(RTX), "policy.tokenizer.name", "--format", "json")
    payload = json.loads(out)
    assert code == 0 and payload["mapping"] is False
    [leaf] = payload["leaves"]
    assert leaf["kind"] == "inherited"
    assert leaf["chain"] == [str(RTX), str(STAGE1), str(BASE)]
    assert leaf["references"][0]["path"] == "policy.model_name"
    assert leaf["references"][0]["site"]["file"] == str(RTX)


def test_cli_mapping_lists_leaves_with_lowered_fields(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, str(RTX), "policy.lora", "--format", "json")
    leaves = {leaf["path"]: leaf for leaf in json.loads(out)["leaves"]}
    assert code == 0
    assert leaves["policy.lora.r"]["lowered"] == ["LoraConfig.r"]
    assert leaves["policy.lora.alpha"]["lowered"] == ["LoraConfig.lora_alpha"]
    code, text, _ = _run(capsys, str(RTX), "policy.lora")
    assert "r " in text and "(inherited)" in text and "-> LoraConfig.r" in text


def test_cli_override(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, str(QUICK), "dpo.reference_policy_kl_penalty", "-o",
                        "dpo.reference_policy_kl_penalty=0.3")
    assert code == 0
    assert "set by command-line <override 1>: -o dpo.reference_policy_kl_penalty=0.3" in out
    assert "replaces 0.1 from" in out and "becomes: DPOConfig.beta" in out


@pytest.mark.parametrize(("path", "hint"), [
    ("polcy.lora.r", "did you mean `policy`?"),
    ("policy.lora.rank", "did you mean `r`?"),
    ("policy.optimizer.kwargs.lrr", "did you mean `lr`?"),
])
def test_cli_unknown_path_is_s001_with_a_suggestion(capsys: pytest.CaptureFixture[str],
                                                    path: str, hint: str) -> None:
    code, out, err = _run(capsys, str(QUICK), path)
    assert code == 1 and out == ""
    assert "S001" in err and hint in err


def test_cli_unreadable_file_and_bad_path(capsys: pytest.CaptureFixture[str],
                                          tmp_path: Path) -> None:
    code, _, err = _run(capsys, str(tmp_path / "missing.yaml"), "policy")
    assert code == 2 and "Y001" in err
    code, _, err = _run(capsys, str(QUICK), "policy..x")
    assert code == 2 and "not a key path" in err


def test_explain_and_diff_import_nothing_heavy() -> None:
    import subprocess
    import sys

    heavy = ("torch", "trl", "peft", "transformers", "datasets", "optuna", "textual", "numpy")
    probe = (
        "import contextlib, io, sys, json\n"
        "from specc.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    main(['explain', {str(RTX)!r}, 'policy'])\n"
        f"    main(['diff', {str(RTX)!r}, {str(QUICK)!r}])\n"
        "print(json.dumps(sorted(sys.modules)))\n")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True)
    mods = set(json.loads(out.stdout.strip().splitlines()[-1]))
    assert {"specc.spec.provenance", "specc.spec.semdiff", "specc.compiler.downstream"} <= mods
    assert sorted(m for m in mods if m.split(".")[0] in heavy) == []


def test_cli_explains_a_trial_of_a_run(capsys: pytest.CaptureFixture[str],
                                       tmp_path: Path) -> None:
    from specc.compiler.report import dump_yaml
    from specc.compiler.space import apply_point

    loaded = load(str(QUICK), Collector())
    assert loaded.raw is not None
    trial = tmp_path / "run" / "trials" / "2" / "spec.yaml"
    trial.parent.mkdir(parents=True)
    trial.write_text(dump_yaml(apply_point(loaded.raw, {"policy.optimizer.kwargs.lr": 0.003})))
    code, out, _ = _run(capsys, f"{tmp_path / 'run'}#2", "policy.optimizer.kwargs.lr")
    assert code == 0 and "policy.optimizer.kwargs.lr = 0.003" in out
    assert f"written in {trial}:" in out
    code, _, err = _run(capsys, f"{tmp_path / 'run'}#5", "policy")
    assert code == 2 and "no trial 5" in err
