"""`specc run` trains RS-SFT, AWR and PPO: each example, shrunk with `-o`, finishes with a
complete trial, a finite objective, a metric history and a `best.yaml` that validates;
and a two-point grid over each algorithm's main knob completes as a study."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
import yaml
from test_run_study import specc_cache  # noqa: F401  (the shared tiny-model cache)

from specc.cli import main

from conftest import EXAMPLES

pytestmark = pytest.mark.slow

#: Shrinks every example to seconds on the CPU: 4 training and 4 evaluation prompts,
#: 8-token completions.
SMALL = ["data.train.max_samples=4", "data.validation.max_samples=4",
         "policy.generation.max_new_tokens=8"]
SHRINK: dict[str, list[str]] = {
    "rs_sft": [*SMALL, "rs_sft.num_samples_per_prompt=2", "rs_sft.num_rounds=2",
               "rs_sft.reward_threshold=-1.0", "rs_sft.max_num_epochs=1"],
    "awr": [*SMALL, "awr.num_samples_per_prompt=2", "awr.num_rounds=2",
            "awr.max_num_epochs=1"],
    "ppo": [*SMALL, "ppo.max_num_steps=3", "ppo.val_period=2", "ppo.ppo_epochs=1",
            "policy.train_global_batch_size=4"],
}
#: Each algorithm's main knob and two values for a grid study.
KNOB: dict[str, tuple[str, list[float]]] = {
    "rs_sft": ("rs_sft.reward_threshold", [-1.0, 0.5]),
    "awr": ("awr.advantage_beta", [1.0, 5.0]),
    "ppo": ("ppo.clip_range", [0.1, 0.3]),
}


def _run(spec: Path, out: Path, algo: str) -> dict[str, Any]:
    args = ["run", str(spec), "--output", str(out), "--quiet"]
    for o in SHRINK[algo]:
        args += ["-o", o]
    assert main(args) == 0
    data: dict[str, Any] = json.loads((out / "results.json").read_text())
    return data


def _history(trial_dir: Path) -> list[dict[str, Any]]:
    lines = (trial_dir / "metrics.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines]


@pytest.mark.parametrize("algo", ["rs_sft", "awr", "ppo"])
def test_example_runs_to_a_complete_trial(algo: str, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    data = _run(EXAMPLES / f"{algo}.yaml", out, algo)
    assert data["objectives"] == ["eval_reward"] and data["directions"] == ["maximize"]
    (trial,) = data["trials"]
    assert trial["state"] == "COMPLETE", trial["reason"]
    assert math.isfinite(trial["values"][0])
    history = _history(Path(trial["trial_dir"]))
    evals = [h for h in history if h["kind"] == "eval"]
    assert evals and all(math.isfinite(h["eval_reward"]) for h in evals)
    assert evals[-1]["eval_reward"] == trial["values"][0]
    logs = [h for h in history if h["kind"] == "log"]
    if algo == "ppo":
        updates = [h for h in logs if "policy_loss" in h]
        assert [h["step"] for h in updates] == [1, 2, 3]
        assert [h["step"] for h in evals] == [2, 3]  # every val_period, and at the end
        for key in ("value_loss", "clipfrac", "kl", "kl_coef", "reward", "entropy"):
            assert all(math.isfinite(h[key]) for h in updates), key
    else:
        rounds = [h for h in logs if "round" in h]
        assert [h["round"] for h in rounds] == [1.0, 2.0]
        for h in rounds:  # 4 prompts x 2 samples generated each round
            assert h["generated"] == 8 and 0 <= h["kept"] <= 8
            assert h["reward_min"] <= h["reward_mean"] <= h["reward_max"]
        assert len(evals) == 2  # one evaluation per round
        assert any("loss" in h and "round" not in h for h in logs)  # the SFT steps
        if algo == "rs_sft":  # a threshold below every reward keeps everything
            assert all(h["kept"] == 8 for h in rounds)
        else:
            assert all("weight_mean" in h and h["weight_max"] <= 10.0 for h in rounds)
        steps = [h["step"] for h in logs if "loss" in h and "round" not in h]
        assert steps == sorted(steps) and len(set(steps)) == len(steps)  # cumulative
    saved = Path(trial["trial_dir"]) / "adapter" / "adapter_config.json"
    assert saved.exists()
    call = json.loads((Path(trial["trial_dir"]) / "trainer.json").read_text())
    assert call["trainer_class"].startswith("specc.runtime.algorithms.trainers.")
    assert main(["validate", str(out / "best.yaml")]) == 0
    capsys.readouterr()


@pytest.mark.parametrize("algo", ["rs_sft", "awr", "ppo"])
def test_a_search_over_the_main_knob_completes(algo: str, tmp_path: Path) -> None:
    spec = yaml.safe_load((EXAMPLES / f"{algo}.yaml").read_text())
    knob, values = KNOB[algo]
    spec["hpo"] = {"sampler": {"type": "grid"}, "pruner": {"type": "none"},
                   "objectives": [{"metric": "eval_reward", "direction": "maximize"}],
                   "n_trials": 2,
                   "search_space": {knob: {"type": "categorical", "choices": values}}}
    path = tmp_path / f"{algo}.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    data = _run(path, tmp_path / "out", algo)
    assert [t["state"] for t in data["trials"]] == ["COMPLETE", "COMPLETE"]
    assert sorted(t["params"][knob] for t in data["trials"]) == values
    assert all(math.isfinite(t["values"][0]) for t in data["trials"])
    assert data["best"]["number"] in (0, 1)
    assert main(["validate", str(tmp_path / "out" / "best.yaml")]) == 0


@pytest.mark.parametrize("algo", ["rs_sft", "ppo"])
def test_health_rules_stop_the_new_trainers(algo: str, tmp_path: Path) -> None:
    """The seed guide's warning signs stop an RS-SFT round's fine-tune or a PPO update like
    any TRL trainer's, as PRUNED with the reason: for PPO (policy-gradient RL) entropy below
    `hpo.health.min_entropy`; for RS-SFT (a fine-tune, where entropy means nothing) the
    gradient norm, which every algorithm watches."""
    spec = yaml.safe_load((EXAMPLES / f"{algo}.yaml").read_text())
    knob, values = KNOB[algo]
    health: dict[str, float] = {"patience": 1}
    health.update({"min_entropy": 100.0} if algo == "ppo" else {"max_grad_norm": 1e-9})
    spec["hpo"] = {"sampler": {"type": "grid"}, "pruner": {"type": "none"},
                   "objectives": [{"metric": "eval_reward", "direction": "maximize"}],
                   "n_trials": 1, "health": health,
                   "search_space": {knob: {"type": "categorical", "choices": values[:1]}}}
    path = tmp_path / f"{algo}.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    data = _run(path, tmp_path / "out", algo)
    (trial,) = data["trials"]
    assert trial["state"] == "PRUNED"
    rule = "entropy" if algo == "ppo" else "grad_norm"
    assert trial["reason"].startswith(f"health: {rule}"), trial["reason"]
    history = _history(Path(trial["trial_dir"]))
    assert not [h for h in history if h["kind"] == "eval"]  # stopped before evaluating


def test_a_nemo_scheduler_list_drives_each_rounds_fine_tune(tmp_path: Path) -> None:
    """A scheduler list with no `lr_scheduler_type` equivalent is built with SequentialLR
    for RS-SFT's per-round SFTTrainer too (not silently constant)."""
    out = tmp_path / "out"
    args = ["run", str(EXAMPLES / "rs_sft.yaml"), "--output", str(out), "--quiet",
            "-o", "policy.scheduler=[{name: torch.optim.lr_scheduler.ExponentialLR, "
            "kwargs: {gamma: 0.5}}]", "-o", "policy.train_global_batch_size=2"]
    for o in SHRINK["rs_sft"]:
        args += ["-o", o]
    assert main(args) == 0
    data = json.loads((out / "results.json").read_text())
    (trial,) = data["trials"]
    assert trial["state"] == "COMPLETE", trial["reason"]
    rates = [h["learning_rate"] for h in _history(Path(trial["trial_dir"]))
             if "learning_rate" in h]
    lr = 3.0e-5  # examples/rs_sft.yaml; each round starts the schedule again
    assert rates[:4] == pytest.approx([lr, lr / 2, lr / 4, lr / 8])
    assert rates[4:8] == pytest.approx([lr, lr / 2, lr / 4, lr / 8])
