"""`specc plan`: the JSON contract, grids, previews, identity, feasibility."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from specc.cli import main
from specc.compiler.plan import build_plan

from conftest import CASES, EXAMPLES


def _plan_json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict:  # type: ignore[type-arg]
    assert main(["plan", "--format", "json", *argv]) == 0
    return json.loads(capsys.readouterr().out)  # type: ignore[no-any-return]


def test_contract(capsys: pytest.CaptureFixture[str]) -> None:
    plan = _plan_json(capsys, str(EXAMPLES / "quickstart.yaml"))
    assert plan["trials"]
    for t in plan["trials"]:
        assert set(t["params"]) == {"policy.optimizer.kwargs.lr",
                                    "dpo.reference_policy_kl_penalty"}
        assert {"grad_accumulation_steps", "effective_batch_size"} <= set(t["derived"])
        mem = t["memory"]
        assert {"total_bytes", "capacity_bytes", "fits", "components"} <= set(mem)
        assert mem["total_bytes"] == sum(mem["components"].values())
        assert {"class", "config", "peft"} <= set(t["trainer"])
        assert t["trainer"]["class"] == "trl.DPOTrainer"
        assert t["trainer"]["config"]["learning_rate"] == t["params"][
            "policy.optimizer.kwargs.lr"]
        assert t["trainer"]["config"]["beta"] == t["params"]["dpo.reference_policy_kl_penalty"]


def test_grid_enumerates_every_point(capsys: pytest.CaptureFixture[str]) -> None:
    plan = _plan_json(capsys, str(EXAMPLES / "hpo_grid.yaml"))
    sizes = [len(d.get("choices", [])) or None for d in plan["space"]["dimensions"].values()]
    assert plan["space"]["kind"] == "grid"
    assert all(sizes)
    expected = 1
    for s in sizes:
        expected *= s or 1
    assert len(plan["trials"]) == expected
    assert len({json.dumps(t["params"], sort_keys=True) for t in plan["trials"]}) == expected


def test_preview_is_deterministic_from_the_seed(capsys: pytest.CaptureFixture[str]) -> None:
    spec = str(EXAMPLES / "quickstart.yaml")
    a = _plan_json(capsys, spec, "--preview", "7")
    b = _plan_json(capsys, spec, "--preview", "7")
    c = _plan_json(capsys, spec, "--preview", "7", "-o", "hpo.sampler.seed=99")
    assert len(a["trials"]) == 7
    assert [t["params"] for t in a["trials"]] == [t["params"] for t in b["trials"]]
    assert [t["params"] for t in a["trials"]] != [t["params"] for t in c["trials"]]


def test_identical_trials_share_an_id(tmp_path: Path) -> None:
    base = (CASES / "valid_minimal" / "spec.yaml").read_text()
    spec = tmp_path / "s.yaml"
    spec.write_text(base + (
        "hpo:\n  sampler: {type: grid}\n  n_trials: 2\n  search_space:\n"
        "    policy.max_grad_norm: {type: categorical, choices: [0.5, 2.0]}\n"))
    plan = build_plan(str(spec))
    assert plan is not None
    ids = [t.id for t in plan.trials]
    assert len(set(ids)) == 2
    again = build_plan(str(spec))
    assert again is not None and [t.id for t in again.trials] == ids
    # the same run written without a search space is recognised as the same trial
    single = tmp_path / "single.yaml"
    single.write_text(base)
    one = build_plan(str(single), overrides=["policy.max_grad_norm=0.5"])
    half = next(t.id for t in plan.trials if t.params == {"policy.max_grad_norm": 0.5})
    assert one is not None and one.trials[0].id == half


def test_infeasible_points_are_reported_with_reasons(capsys: pytest.CaptureFixture[str],
                                                      tmp_path: Path) -> None:
    spec = tmp_path / "s.yaml"
    spec.write_text((CASES / "valid_minimal" / "spec.yaml").read_text() + (
        "hpo:\n  sampler: {type: grid}\n  n_trials: 3\n  search_space:\n"
        "    policy.train_micro_batch_size: {type: categorical, choices: [4, 5, 64]}\n"))
    plan = _plan_json(capsys, str(spec))
    by_micro = {t["params"]["policy.train_micro_batch_size"]: t for t in plan["trials"]}
    assert by_micro[4]["feasible"] is True
    assert by_micro[5]["feasible"] is False and by_micro[5]["reasons"][0].startswith("B001")
    assert by_micro[64]["reasons"][0].startswith("B004")


def test_memory_infeasible_point(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    spec = tmp_path / "s.yaml"
    spec.write_text(
        "algorithm: sft\npolicy:\n  model_name: meta-llama/Llama-3.1-8B\n"
        "  train_global_batch_size: 8\n  train_micro_batch_size: 1\n"
        "  activation_checkpointing: true\n  precision: float32\n  lora: {enabled: true}\n"
        "data: {train: {path: 'specc:arith-prefs'}, validation: {path: 'specc:arith-prefs'}}\n"
        "hardware: {gpu: A100-80GB}\n"
        "hpo:\n  sampler: {type: grid}\n  n_trials: 2\n  search_space:\n"
        "    policy.lora.enabled: {type: categorical, choices: [true, false]}\n"
        "    policy.max_total_sequence_length: {type: categorical, choices: [2048]}\n")
    plan = _plan_json(capsys, str(spec))
    by_lora = {t["params"]["policy.lora.enabled"]: t for t in plan["trials"]}
    lora, full = by_lora[True], by_lora[False]
    assert lora["feasible"] and lora["memory"]["fits"]
    assert not full["feasible"] and not full["memory"]["fits"]
    assert full["reasons"][0].startswith("M001")


def test_spec_errors_exit_1_with_diagnostics(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", str(CASES / "unknown_keys" / "spec.yaml")]) == 1
    assert "S001" in capsys.readouterr().err


def test_table_output(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", str(EXAMPLES / "hpo_grid.yaml")]) == 0
    out = capsys.readouterr().out
    assert "eff.batch" in out and "feasible" in out and "trial(s) feasible" in out


def test_yaml_output_round_trips(capsys: pytest.CaptureFixture[str]) -> None:
    from ruamel.yaml import YAML

    assert main(["plan", "--format", "yaml", str(EXAMPLES / "dpo.yaml")]) == 0
    data = YAML(typ="safe", pure=True).load(capsys.readouterr().out)
    assert data["trials"][0]["trainer"]["class"] == "trl.DPOTrainer"


def test_show_spec_prints_the_expanded_spec(capsys: pytest.CaptureFixture[str]) -> None:
    from ruamel.yaml import YAML

    assert main(["plan", "--show-spec", str(EXAMPLES / "grpo_local.yaml")]) == 0
    data = YAML(typ="safe", pure=True).load(capsys.readouterr().out)
    assert "extends" not in data and data["policy"]["model_name"]
    assert "${" not in json.dumps(data)


def test_thousand_point_grid_plans_every_point(tmp_path: Path) -> None:
    """Correctness of the benchmark's grid (its timing lives in benchmarks/plan_speed.py)."""
    import importlib.util

    from conftest import ROOT

    mod_spec = importlib.util.spec_from_file_location("plan_speed",
                                                      ROOT / "benchmarks" / "plan_speed.py")
    assert mod_spec and mod_spec.loader
    bench = importlib.util.module_from_spec(mod_spec)
    mod_spec.loader.exec_module(bench)
    spec = tmp_path / "grid.yaml"
    spec.write_text(bench.SPEC)
    plan = build_plan(str(spec))
    assert plan is not None and len(plan.trials) == 1000
    assert len({t.id for t in plan.trials}) == 1000
