"""Seed 002's layout and TRL CLI configs read as specc specs: the same trainer call as a
hand-written spec, the rewrite printed, the JSON Schema accepting them, TRL's fields in
step with the installed TRL, and a TRL CLI config plus `hpo` run as a real study."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from ruamel.yaml import YAML

from specc.compiler.plan import build_plan
from specc.compiler.validate import validate_files
from specc.spec import dialects
from specc.spec.diagnostics import Collector, Severity
from specc.spec.loader import load
from specc.spec.schema import json_schema

from conftest import CASES, ROOT

DATA = ROOT / "tests" / "data" / "dialects"
TRL = {a: DATA / f"trl_{a}.yaml" for a in ("sft", "dpo", "grpo")}
SEED002 = {m: CASES / f"dialect_seed002_{m}" / "spec.yaml" for m in ("local", "cluster")}
SEED002_MODEL = "specc:tiny-llama"


_CALL = ("class", "config_class", "config", "peft", "reward_functions")


def _trainer(path: Path) -> dict[str, Any]:
    plan = build_plan(str(path), preview=1)
    assert plan is not None, path
    trainer = plan.trials[0].trainer
    assert trainer is not None
    low = trainer.to_dict()
    return {k: low[k] for k in _CALL}


def _plan_json(capsys: pytest.CaptureFixture[str], path: Path) -> dict[str, Any]:
    """The trainer call as `specc plan --format json` prints it."""
    from specc.cli import main

    assert main(["plan", str(path), "--format", "json"]) == 0
    plan = json.loads(capsys.readouterr().out)
    trainer: dict[str, Any] = plan["trials"][0]["trainer"]
    return {k: trainer[k] for k in _CALL}


@pytest.mark.parametrize("algo", sorted(TRL))
def test_trl_cli_config_validates_clean(algo: str) -> None:
    result = validate_files([str(TRL[algo])])
    codes = [(d.code, d.severity) for d in result.diagnostics]
    assert codes == [("R035", Severity.INFO)], codes
    assert f"`trl {algo}`" in result.diagnostics[0].message


@pytest.mark.parametrize("algo", sorted(TRL))
def test_trl_cli_config_lowers_to_the_hand_written_specs_trainer_call(
        algo: str, capsys: pytest.CaptureFixture[str]) -> None:
    mine = _plan_json(capsys, TRL[algo])
    theirs = _plan_json(capsys, DATA / f"spec_{algo}.yaml")
    assert mine == theirs
    assert mine["class"] == f"trl.{algo.upper()}Trainer"
    assert mine["config_class"] == f"trl.{algo.upper()}Config"


def test_trl_cli_configs_set_what_trl_would() -> None:
    sft = _trainer(TRL["sft"])
    assert sft["peft"] is not None and sft["peft"]["r"] == 8
    assert sft["peft"]["target_modules"] == ["q_proj", "v_proj"]
    assert sft["config"]["gradient_accumulation_steps"] == 2
    assert sft["config"]["max_length"] == 256
    dpo = _trainer(TRL["dpo"])["config"]
    assert dpo["lr_scheduler_type"] == "linear"  # TRL's default, not specc's constant
    assert dpo["loss_type"] == ["sigmoid"] and dpo["beta"] == 0.1
    assert dpo["eval_strategy"] == "steps" and dpo["eval_steps"] == 2
    grpo = _trainer(TRL["grpo"])
    assert grpo["config"]["generation_batch_size"] == 8
    assert grpo["config"]["num_generations"] == 4 and grpo["config"]["beta"] == 0.04
    assert [f["name"] for f in grpo["reward_functions"]] == [
        "specc.rewards:exact_match", "specc.rewards:format_reward"]
    assert grpo["config"]["reward_weights"] == [1.0, 0.5]


def _lowered(path: Path) -> dict[str, Any]:
    """The trainer call straight from the loaded spec (no rules: the hand-written twin of
    seed 002's local config breaks specc's own GRPO group rule, B003, which TRL 1.16 does
    not have)."""
    from specc.compiler.derive import derive
    from specc.compiler.lowering import lower
    from specc.spec.models import Spec

    spec = Spec.model_validate(_expanded(path))
    low = lower(spec, derive(spec), "out").to_dict()
    return {k: low[k] for k in ("class", "config_class", "config", "peft", "reward_functions")}


@pytest.mark.parametrize("mode", sorted(SEED002))
def test_seed002_lowers_like_a_hand_written_spec(mode: str) -> None:
    result = validate_files([str(SEED002[mode])])
    assert [d.code for d in result.diagnostics] == ["R035"], result.diagnostics
    mine, theirs = _lowered(SEED002[mode]), _lowered(DATA / f"spec_seed002_{mode}.yaml")
    assert mine == theirs
    config = mine["config"]
    assert config["num_generations"] == 8 and config["beta"] == 0.01
    assert config["generation_batch_size"] == (8 if mode == "local" else 256)
    assert config["per_device_train_batch_size"] == (1 if mode == "local" else 8)
    assert config["gradient_accumulation_steps"] == (1 if mode == "local" else 4)


def _expanded(path: Path, overrides: list[str] | None = None) -> dict[str, Any]:
    loaded = load(str(path), Collector(), overrides=overrides)
    assert loaded.data is not None
    return loaded.data


def test_plan_show_spec_prints_the_rewrite() -> None:
    out = subprocess.run([sys.executable, "-m", "specc", "plan", str(TRL["dpo"]),
                          "--show-spec"], capture_output=True, text=True, check=True).stdout
    shown = YAML(typ="safe", pure=True).load(out)
    assert shown["algorithm"] == "dpo"
    assert shown["policy"]["train_global_batch_size"] == 8
    assert shown["dpo"]["reference_policy_kl_penalty"] == 0.1
    assert "model_name_or_path" not in out


def test_positions_point_into_the_users_file() -> None:
    text = TRL["grpo"].read_text().replace("temperature: 0.9", "temperature: -1.0")
    diags = Collector()
    from specc.spec.check import check_file

    check_file(str(TRL["grpo"]), diags, text=text)
    bad = [d for d in diags if d.code == "S003"]
    assert len(bad) == 1 and bad[0].path == "policy.generation.temperature"
    assert bad[0].line == text.splitlines().index("temperature: -1.0") + 1


def test_overrides_use_specc_paths_after_the_rewrite() -> None:
    data = _expanded(TRL["sft"], ["policy.lora.r=32", "sft.max_num_steps=2"])
    assert data["policy"]["lora"]["r"] == 32 and data["sft"]["max_num_steps"] == 2
    picked = _expanded(CASES / "dialect_trl_ambiguous" / "spec.yaml", ["algorithm=rloo"])
    assert picked["algorithm"] == "rloo"
    assert picked["rloo"]["num_generations_per_prompt"] == 4
    assert dialects.override_algorithm(["a=1", "algorithm=dpo"]) == "dpo"


def test_seed_hpo_dialects_still_take_overrides_into_the_block(tmp_path: Path) -> None:
    src = (CASES / "dialect_seed000_grid" / "spec.yaml").read_text()
    (tmp_path / "spec.yaml").write_text(src)
    data = _expanded(tmp_path / "spec.yaml", ["optimization.method=random"])
    assert data["hpo"]["sampler"] == {"type": "random"}


# --- the JSON Schema ---------------------------------------------------------------------

def _validator() -> jsonschema.Draft202012Validator:
    schema = json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


DIALECT_FILES = [*TRL.values(), *SEED002.values(), DATA / "trl_dpo_study.yaml"]


@pytest.mark.parametrize("path", DIALECT_FILES, ids=lambda p: p.parent.name + "/" + p.name)
def test_schema_accepts_the_dialect_files(path: Path) -> None:
    data = YAML(typ="safe", pure=True).load(path.read_text())
    assert [e.message for e in _validator().iter_errors(data)] == []


@pytest.mark.parametrize("text", [
    "model_name_or_path: m\nlearning_rte: 1.0e-5\n",        # a typo
    "model_name_or_path: m\ntemperature: hot\n",            # TRL's type
    "mode: local\ntraining: {learning_rte: 1.0e-5}\n",      # a typo under `training`
    "policy: {model_name: m}\nlearning_rate: 1.0e-5\n",     # layouts mixed
])
def test_schema_rejects_what_validate_rejects(text: str) -> None:
    data = YAML(typ="safe", pure=True).load(text)
    assert list(_validator().iter_errors(data))


# --- a TRL CLI config plus `hpo` is a study `specc run` executes -------------------------

@pytest.mark.slow
def test_trl_cli_config_with_hpo_runs_as_a_study(tmp_path: Path) -> None:
    import os

    out = tmp_path / "out"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1",
           "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false",
           "SPECC_CACHE": str(tmp_path / "cache")}
    proc = subprocess.run([sys.executable, "-m", "specc", "run", str(DATA / "trl_dpo_study.yaml"),
                           "--output", str(out)], env=env, capture_output=True, text=True,
                          timeout=600, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data = json.loads((out / "results.json").read_text())
    assert data["study"] == "trl-dpo-study" and data["n_trials"] == 2
    assert [t["state"] for t in data["trials"]] == ["COMPLETE", "COMPLETE"]
    for t in data["trials"]:
        assert set(t["params"]) == {"policy.optimizer.kwargs.lr",
                                    "dpo.reference_policy_kl_penalty"}
        assert len(t["values"]) == 1
    best = YAML(typ="safe", pure=True).load((out / "best.yaml").read_text())
    assert best["algorithm"] == "dpo" and "hpo" not in best
    assert best["policy"]["lora"]["r"] == 4  # the TRL fields, as specc keys


def test_a_seed002_study_checks_every_point_by_trls_rules(tmp_path: Path) -> None:
    """specc's GRPO group rule (B003: the global batch holds whole groups) is stricter
    than TRL 1.16, which only needs whole groups in the generation batch: a file read from
    TRL's layout is held to TRL's rules, at every point of its search space too."""
    text = SEED002["local"].read_text().replace(
        'data: {train: {path: "specc:arith-prompts"}}',
        'data: {train: {path: "specc:arith-prompts"}, '
        'validation: {path: "specc:arith-prompts", split: validation}}')
    text += ("hpo:\n  n_trials: 2\n  objectives: [{metric: reward, direction: maximize}]\n"
             "  search_space:\n"
             "    learning_rate: {type: float, low: 1.0e-5, high: 1.0e-4, log: true}\n")
    (tmp_path / "spec.yaml").write_text(text)
    result = validate_files([str(tmp_path / "spec.yaml")])
    assert [d.code for d in result.diagnostics] == ["R035"], result.diagnostics
    # the same numbers written as a specc spec break B003
    spec = tmp_path / "own.yaml"
    spec.write_text((DATA / "spec_seed002_local.yaml").read_text())
    assert "B003" in [d.code for d in validate_files([str(spec)]).diagnostics]
