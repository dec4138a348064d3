"""Named presets/profiles expand into plain keys; seed dialects read as `hpo`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from specc.compiler.validate import validate_files
from specc.spec import dialects, presets
from specc.spec.diagnostics import Collector, Diagnostic, Severity
from specc.spec.loader import load
from specc.spec.rules import search_space as rule

BASE = """\
specc: 1
name: t
algorithm: {algo}
policy:
  model_name: specc:tiny-llama
  train_global_batch_size: 16
  train_micro_batch_size: 4
  lora: {{enabled: true, r: 16, alpha: 32}}
"""
PREFS = ('data:\n  train: {path: "specc:arith-prefs"}\n'
         '  validation: {path: "specc:arith-prefs", split: validation}\n')
PROMPTS = ('data:\n  train: {path: "specc:arith-prompts"}\n'
           '  validation: {path: "specc:arith-prompts", split: validation}\n')
REWARD = 'reward:\n  functions: [{name: "specc.rewards:exact_match"}]\n'
GEN = "  generation: {max_new_tokens: 32}\n"

#: Minimal valid specs, one per algorithm the presets are written for.
MINIMAL: dict[str, str] = {
    "sft": BASE.format(algo="sft") + PREFS,
    "dpo": BASE.format(algo="dpo") + PREFS,
    "orpo": BASE.format(algo="orpo") + PREFS,
    "kto": BASE.format(algo="kto") + PREFS,
    "grpo": BASE.format(algo="grpo") + GEN
    + "grpo: {num_prompts_per_step: 4, num_generations_per_prompt: 4}\n" + PROMPTS + REWARD,
    "rloo": BASE.format(algo="rloo") + GEN
    + "rloo: {num_prompts_per_step: 4, num_generations_per_prompt: 4}\n" + PROMPTS + REWARD,
}


def _validate(tmp_path: Path, text: str) -> list[Diagnostic]:
    f = tmp_path / "spec.yaml"
    f.write_text(text)
    return validate_files([str(f)]).diagnostics


def _errors(diags: list[Diagnostic]) -> list[str]:
    return [f"{d.code} {d.path}: {d.message}" for d in diags if d.severity is Severity.ERROR]


def _loaded(tmp_path: Path, text: str) -> tuple[dict[str, Any], Collector]:
    f = tmp_path / "spec.yaml"
    f.write_text(text)
    diags = Collector()
    loaded = load(str(f), diags)
    assert loaded.data is not None
    return loaded.data, diags


def _fitting() -> list[tuple[str, str]]:
    return [(name, algo) for name in presets.PRESET_NAMES for algo in MINIMAL
            if presets.fits(name, algo) and presets.search_space(name, algo)]


def test_the_rule_knows_the_module_names() -> None:
    assert rule.PRESETS == presets.PRESET_NAMES
    assert rule.PROFILES == presets.PROFILE_NAMES
    assert set(presets.PRESET_NAMES) == {"grpo", "dpo", "optimizer", "lora", "generation",
                                         "full", "conservative", "aggressive"}
    assert set(presets.PROFILE_NAMES) == {"quick", "conservative", "aggressive",
                                          "distributed"}


@pytest.mark.parametrize(("name", "algo"), _fitting(), ids=[f"{n}-{a}" for n, a in _fitting()])
def test_each_preset_expands_and_validates(tmp_path: Path, name: str, algo: str) -> None:
    text = MINIMAL[algo] + f"hpo:\n  preset: {name}\n"
    data, _ = _loaded(tmp_path, text)
    expected = presets.search_space(name, algo, lora=True)
    assert expected
    assert data["hpo"]["search_space"] == expected
    assert data["hpo"]["preset"] == name  # kept: the schema and `plan` still see it
    diags = _validate(tmp_path, text)
    assert _errors(diags) == []
    # every generated entry is a real knob of this algorithm: nothing searched in vain
    assert [d for d in diags if d.code == "W003"] == []


@pytest.mark.parametrize("profile", presets.PROFILE_NAMES)
@pytest.mark.parametrize("algo", ["dpo", "grpo"])
def test_each_profile_validates(tmp_path: Path, profile: str, algo: str) -> None:
    text = MINIMAL[algo] + f"hpo:\n  preset: optimizer\n  profile: {profile}\n"
    data, _ = _loaded(tmp_path, text)
    for key, value in presets.PROFILES[profile].items():
        if key != "evaluation":
            assert data["hpo"][key] == value
    assert _errors(_validate(tmp_path, text)) == []


def test_presets_adapt_to_the_algorithm() -> None:
    kl = {a: next(iter(k for k in presets.search_space("conservative", a) or {}
                       if k != "policy.optimizer.kwargs.lr"), None) for a in MINIMAL}
    assert kl == {"sft": None, "dpo": "dpo.reference_policy_kl_penalty", "orpo": "orpo.beta",
                  "kto": "kto.beta", "grpo": "loss_fn.reference_policy_kl_penalty",
                  "rloo": "rloo.reference_policy_kl_penalty"}
    assert "rloo.num_generations_per_prompt" in (presets.search_space("grpo", "rloo") or {})
    assert "dpo.sft_loss_weight" in (presets.search_space("dpo", "dpo") or {})
    assert "dpo.sft_loss_weight" not in (presets.search_space("dpo", "orpo") or {})
    # full: the algorithm's own preset wins on shared paths (lr range of `dpo`, not `optimizer`)
    full = presets.search_space("full", "dpo") or {}
    assert full["policy.optimizer.kwargs.lr"]["high"] == 1.0e-4
    assert "policy.optimizer.kwargs.weight_decay" in full and "policy.lora.r" in full
    assert not any(k.startswith("policy.generation") for k in full)  # DPO does not generate
    assert any(k.startswith("policy.generation") for k in presets.search_space("full", "grpo")
               or {})
    assert "policy.lora.r" not in (presets.search_space("full", "dpo", lora=False) or {})


def test_full_leaves_out_lora_when_lora_is_off(tmp_path: Path) -> None:
    text = MINIMAL["dpo"].replace("enabled: true", "enabled: false") + "hpo:\n  preset: full\n"
    data, _ = _loaded(tmp_path, text)
    assert not any(k.startswith("policy.lora") for k in data["hpo"]["search_space"])
    diags = _validate(tmp_path, text)
    assert _errors(diags) == [] and not [d for d in diags if d.code == "W003"]


def test_user_search_space_entries_win(tmp_path: Path) -> None:
    text = MINIMAL["dpo"] + (
        "hpo:\n  preset: dpo\n  search_space:\n"
        "    policy.optimizer.kwargs.lr: {type: categorical, choices: [1.0e-5, 2.0e-5]}\n")
    data, _ = _loaded(tmp_path, text)
    space = data["hpo"]["search_space"]
    assert space["policy.optimizer.kwargs.lr"] == {"type": "categorical",
                                                   "choices": [1.0e-5, 2.0e-5]}
    assert "dpo.reference_policy_kl_penalty" in space and "dpo.sft_loss_weight" in space
    assert next(iter(space)) == "policy.optimizer.kwargs.lr"  # the user's entries come first


def test_profile_fills_only_unset_study_settings(tmp_path: Path) -> None:
    text = MINIMAL["dpo"] + (
        "hpo:\n  preset: dpo\n  profile: conservative\n  n_trials: 7\n"
        "  sampler: {type: random, seed: 1}\n  pruner: {n_warmup_steps: 9}\n")
    data, _ = _loaded(tmp_path, text)
    hpo = data["hpo"]
    assert hpo["n_trials"] == 7
    assert hpo["sampler"] == {"type": "random", "seed": 1}  # no TPE options on a random one
    assert hpo["pruner"] == {"n_warmup_steps": 9, "type": "median", "n_startup_trials": 5}
    assert _errors(_validate(tmp_path, text)) == []


def test_profile_sets_n_trials_when_unset(tmp_path: Path) -> None:
    data, _ = _loaded(tmp_path, MINIMAL["dpo"] + "hpo:\n  preset: dpo\n  profile: quick\n")
    assert data["hpo"]["n_trials"] == 10
    assert data["hpo"]["evaluation"] == {"max_steps": 100, "val_period": 20}


def test_quick_profile_keeps_a_shorter_run(tmp_path: Path) -> None:
    text = MINIMAL["dpo"] + "dpo: {max_num_steps: 40}\nhpo:\n  preset: dpo\n  profile: quick\n"
    data, _ = _loaded(tmp_path, text)
    assert "max_steps" not in data["hpo"]["evaluation"]


def test_generated_entries_point_at_the_preset_line(tmp_path: Path) -> None:
    # LoRA is off, so searching it has no effect: the warning lands on `preset: lora`
    text = MINIMAL["dpo"].replace("enabled: true", "enabled: false") + "hpo:\n  preset: lora\n"
    line = text.splitlines().index("  preset: lora") + 1
    w003 = [d for d in _validate(tmp_path, text) if d.code == "W003"]
    assert {d.path for d in w003} == {'hpo.search_space["policy.lora.r"]',
                                      'hpo.search_space["policy.lora.dropout"]'}
    assert {d.line for d in w003} == {line}


def test_grpo_preset_infeasible_batches_are_reported(tmp_path: Path) -> None:
    # 16 generations per prompt do not divide a global batch of 8: part of the space breaks
    text = MINIMAL["grpo"].replace("train_global_batch_size: 16", "train_global_batch_size: 8") \
        .replace("num_prompts_per_step: 4", "num_prompts_per_step: 2") + "hpo:\n  preset: grpo\n"
    diags = _validate(tmp_path, text)
    assert _errors(diags) == []
    assert [d.code for d in diags if d.code == "H008"] == ["H008"]


def test_preset_for_another_algorithm_adds_nothing(tmp_path: Path) -> None:
    text = MINIMAL["dpo"] + "hpo:\n  preset: grpo\n"
    data, _ = _loaded(tmp_path, text)
    assert data["hpo"].get("search_space", {}) == {}
    w003 = [d for d in _validate(tmp_path, text) if d.code == "W003"]
    assert len(w003) == 1 and w003[0].path == "hpo.preset" and "preset: dpo" in w003[0].hint


def test_unknown_names_are_left_for_h014(tmp_path: Path) -> None:
    text = MINIMAL["dpo"] + "hpo:\n  preset: dpoo\n  profile: fast\n"
    data, _ = _loaded(tmp_path, text)
    assert "search_space" not in data["hpo"] and "n_trials" not in data["hpo"]
    codes = [(d.code, d.path) for d in _validate(tmp_path, text) if d.code == "H014"]
    assert codes == [("H014", "hpo.preset"), ("H014", "hpo.profile")]


def test_expanded_yaml_round_trips(tmp_path: Path) -> None:
    data, _ = _loaded(tmp_path, MINIMAL["grpo"] + "hpo:\n  preset: full\n  profile: quick\n")
    text = presets.expanded_yaml(data)
    assert YAML(typ="safe", pure=True).load(text) == data
    lines = text.splitlines()
    assert lines[0] == "specc: 1"
    assert [ln for ln in lines if not ln.startswith(" ")][-1] == "hpo:"  # `hpo` comes last
    assert "low: 1.0e-06" in text  # floats a YAML 1.1 reader also reads as floats
    assert "choices: [4, 8, 16]" in text


# --- dialects -----------------------------------------------------------------------------

DPO = MINIMAL["dpo"]


def test_seed000_grid_becomes_hpo(tmp_path: Path) -> None:
    text = DPO + """\
optimization:
  method: "grid_search"
  hyperparameters:
    learning_rate: [1e-6, 5e-6]
    dpo_beta: [0.05, 0.1, 0.2]
  evaluation:
    max_steps: 500
    val_period: 50
    metric: "validation_loss"
"""
    data, diags = _loaded(tmp_path, text)
    assert "optimization" not in data
    assert data["hpo"] == {
        "sampler": {"type": "grid"},
        "objectives": [{"metric": "eval_loss", "direction": "minimize"}],
        "n_trials": 6,
        "evaluation": {"max_steps": 500, "val_period": 50},
        "search_space": {
            "policy.optimizer.kwargs.lr": {"type": "categorical", "choices": [1e-6, 5e-6]},
            "dpo.reference_policy_kl_penalty": {"type": "categorical",
                                                "choices": [0.05, 0.1, 0.2]},
        },
    }
    r031 = [d for d in diags if d.code == "R031"]
    assert len(r031) == 1 and r031[0].line == text.splitlines().index("optimization:") + 1
    assert r031[0].severity is Severity.INFO
    assert validate_files([str(tmp_path / "spec.yaml")]).exit_code == 0


@pytest.mark.parametrize(("method", "sampler"), [
    ("grid_search", "grid"), ("grid", "grid"), ("random_search", "random"),
    ("random", "random"), ("bayesian", "tpe"), ("tpe", "tpe"), ("cmaes", "cmaes"),
    ("nsga2", "nsga2"), ("multi_objective", "nsga2")])
def test_methods_map_to_samplers(tmp_path: Path, method: str, sampler: str) -> None:
    text = DPO + f"hyperparameter_optimization:\n  algorithm: {method}\n  n_trials: 4\n" \
        "  search_space: {learning_rate: [1.0e-5, 2.0e-5]}\n"
    data, _ = _loaded(tmp_path, text)
    assert data["hpo"]["sampler"] == {"type": sampler}


def test_short_names_map_to_spec_paths() -> None:
    expect = {
        "learning_rate": "policy.optimizer.kwargs.lr",
        "dpo_beta": "dpo.reference_policy_kl_penalty",
        "batch_size": "policy.train_global_batch_size",
        "preference_weight": "dpo.preference_loss_weight",
        "sft_weight": "dpo.sft_loss_weight",
        "weight_decay": "policy.optimizer.kwargs.weight_decay",
        "max_grad_norm": "policy.max_grad_norm",
        "warmup_steps": "policy.scheduler.warmup_steps",
        "dropout_rate": "policy.lora.dropout",
        "lora_dropout": "policy.lora.dropout",
        "lora_r": "policy.lora.r",
        "rank": "policy.lora.r",
        "temperature": "policy.generation.temperature",
        "top_p": "policy.generation.top_p",
        "kl_penalty_coef": "loss_fn.reference_policy_kl_penalty",
        "num_generations": "grpo.num_generations_per_prompt",
        "group_size": "grpo.num_generations_per_prompt",
        "beta": "loss_fn.reference_policy_kl_penalty",
        "policy.lora.alpha": "policy.lora.alpha",
    }
    assert {k: dialects.spec_path(k, "grpo") for k in expect} == expect
    assert dialects.spec_path("beta", "dpo") == "dpo.reference_policy_kl_penalty"
    assert dialects.spec_path("beta", "orpo") == "orpo.beta"
    assert dialects.spec_path("group_size", "rloo") == "rloo.num_generations_per_prompt"
    assert dialects.spec_path("hidden_size", "dpo") is None


def test_seed001_ranges_evaluation_and_timeout(tmp_path: Path) -> None:
    text = DPO + """\
hyperparameter_optimization:
  algorithm: "bayesian"
  n_trials: 100
  timeout_hours: 24
  search_space:
    learning_rate: {type: "float", min: 1e-5, max: 1e-3, log: true}
    lora_r: {type: "int", min: 8, max: 32, step: 8}
    top_p: {type: loguniform, min: 0.8, max: 0.99}
  evaluation:
    primary_metric: "val_reward"
    secondary_metrics: ["training_time", "memory_usage"]
    directions: [maximize, minimize, minimize]
    cross_validation: true
    n_folds: 3
    early_stopping: true
    patience: 10
"""
    data, _ = _loaded(tmp_path, text)
    hpo = data["hpo"]
    assert hpo["timeout"] == "24h" and hpo["n_trials"] == 100
    assert hpo["search_space"]["policy.optimizer.kwargs.lr"] == {
        "type": "float", "low": 1e-5, "high": 1e-3, "log": True}
    assert hpo["search_space"]["policy.lora.r"] == {"type": "int", "low": 8, "high": 32,
                                                     "step": 8}
    assert hpo["search_space"]["policy.generation.top_p"]["log"] is True
    assert hpo["objectives"] == [{"metric": "eval_reward", "direction": "maximize"},
                                 {"metric": "training_time", "direction": "minimize"},
                                 {"metric": "peak_memory_gb", "direction": "minimize"}]
    assert hpo["evaluation"] == {"cross_validation": {"n_folds": 3}}
    assert hpo["early_stopping_patience"] == 10


def test_secondary_metrics_without_directions_are_ignored_with_a_note(tmp_path: Path) -> None:
    text = DPO + """\
hyperparameter_optimization:
  algorithm: bayesian
  search_space: {learning_rate: {type: float, min: 1e-5, max: 1e-3, log: true}}
  evaluation:
    primary_metric: validation_loss
    secondary_metrics: [training_time]
    direction: minimize
"""
    data, diags = _loaded(tmp_path, text)
    assert data["hpo"]["objectives"] == [{"metric": "eval_loss", "direction": "minimize"}]
    (r031,) = [d for d in diags if d.code == "R031"]
    assert "`training_time` ignored" in r031.message


def test_later_diagnostics_land_on_the_dialect_lines(tmp_path: Path) -> None:
    text = DPO + """\
hyperparameter_optimization:
  algorithm: bayesian
  search_space:
    learning_rate:
      type: float
      min: 0
      max: 1e-3
      log: true
    hidden_size: [512, 768]
"""
    lines = text.splitlines()
    diags = _validate(tmp_path, text)
    h003 = [d for d in diags if d.code == "H003"]
    assert [d.line for d in h003] == [lines.index("      min: 0") + 1]
    h001 = [d for d in diags if d.code == "H001"]
    assert [(d.line, d.column) for d in h001] == [(lines.index("    hidden_size: [512, 768]")
                                                   + 1, 5)]


def test_dialect_and_hpo_together_is_an_error(tmp_path: Path) -> None:
    text = DPO + "hpo:\n  preset: dpo\noptimization:\n  method: random\n"
    data, diags = _loaded(tmp_path, text)
    assert "optimization" not in data and "sampler" not in data["hpo"]
    (s006,) = [d for d in diags if d.code == "S006"]
    assert s006.path == "optimization"
    assert s006.line == text.splitlines().index("optimization:") + 1


def test_unknown_dialect_keys_are_reported_where_written(tmp_path: Path) -> None:
    text = DPO + "optimization:\n  method: random\n  search_alg: bayesopt\n" \
        "  hyperparameters: {learning_rate: [1.0e-5, 2.0e-5]}\n"
    diags = _validate(tmp_path, text)
    (s001,) = [d for d in diags if d.code == "S001"]
    assert s001.line == text.splitlines().index("  search_alg: bayesopt") + 1
    # `backend` is an `hpo` key: carried over, seed 004's `ray_tune` read as `ray` (H020)
    text = text.replace("search_alg: bayesopt", "backend: ray_tune")
    diags = _validate(tmp_path, text)
    assert not [d for d in diags if d.code == "S001"]
    (h020,) = [d for d in diags if d.code == "H020"]
    assert h020.line == text.splitlines().index("  backend: ray_tune") + 1


def test_a_dialect_can_name_a_preset(tmp_path: Path) -> None:
    text = DPO + "hyperparameter_optimization:\n  search_space_name: dpo\n  n_trials: 5\n"
    data, _ = _loaded(tmp_path, text)
    assert data["hpo"]["preset"] == "dpo"
    assert "dpo.reference_policy_kl_penalty" in data["hpo"]["search_space"]
