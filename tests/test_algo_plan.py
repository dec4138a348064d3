"""RS-SFT, AWR and PPO in the compiler: lowering to specc's configs (subclasses of TRL's),
per-round steps, memory terms (generation KV cache, PPO's minibatch and reference copy)
and the TUI plan view's trainer line."""

from __future__ import annotations

import pytest

from specc.compiler.plan import Trial, build_plan
from specc.tui.screens.plan import trainer_line, trial_detail

from conftest import EXAMPLES


def _trial(algo: str, *overrides: str) -> Trial:
    plan = build_plan(str(EXAMPLES / f"{algo}.yaml"), overrides=list(overrides), preview=0)
    assert plan is not None
    return plan.trials[0]


def test_configs_extend_trl_configs() -> None:
    from transformers import TrainingArguments
    from trl.trainer.sft_config import SFTConfig

    from specc.runtime.algorithms.configs import AWRConfig, PPOConfig, RSSFTConfig

    assert issubclass(RSSFTConfig, SFTConfig) and issubclass(AWRConfig, SFTConfig)
    assert issubclass(PPOConfig, TrainingArguments)


def test_rounds_lower_per_round_and_count_all_rounds() -> None:
    t = _trial("rs_sft", "rs_sft.num_rounds=3", "data.train.max_samples=16",
               "rs_sft.max_samples=40")
    assert t.trainer is not None and t.derived is not None
    cfg = t.trainer.config
    assert cfg["num_rounds"] == 3 and cfg["reward_threshold"] == 0.6
    assert cfg["num_train_epochs"] == 2.0 and cfg["max_steps"] == -1  # per round
    assert cfg["eval_strategy"] == "no"  # the driver evaluates after each round
    # at most 40 of 16 x 4 samples per round, batch 16: 3 steps x 2 epochs x 3 rounds
    assert t.derived.total_steps == 18
    assert cfg["reward_weights"] == [1.0, 0.5] and cfg["normalize_rewards"] is True


def test_ppo_lowers_its_knobs() -> None:
    t = _trial("ppo", "ppo.clip_range=0.15", "ppo.target_kl=null")
    assert t.trainer is not None and t.derived is not None
    cfg = t.trainer.config
    assert cfg["clip_range"] == 0.15 and cfg["target_kl"] is None
    assert cfg["max_steps"] == 150 and cfg["mini_batch_size"] == 4
    assert cfg["eval_strategy"] == "steps"


def _kv(t: Trial) -> int:
    assert t.memory is not None
    return int(t.memory["components"]["kv_cache"])


def test_memory_counts_generation_and_ppo_terms() -> None:
    four = _kv(_trial("rs_sft", "rs_sft.num_samples_per_prompt=4"))
    eight = _kv(_trial("rs_sft", "rs_sft.num_samples_per_prompt=8"))
    assert four > 0 and eight == 2 * four  # one call generates prompts x samples
    full, lora = _trial("ppo", "policy.lora.enabled=false"), _trial("ppo")
    small = _trial("ppo", "ppo.mini_batch_size=2")
    assert full.memory is not None and lora.memory is not None and small.memory is not None
    assert full.memory["components"]["reference_model"] > 0
    assert lora.memory["components"]["reference_model"] == 0
    assert small.memory["components"]["logits"] < \
        lora.memory["components"]["logits"]


@pytest.mark.parametrize(("algo", "shown"), [
    ("rs_sft", "RSSFTTrainer (specc): num_rounds=1, num_samples_per_prompt=4, "
               "reward_threshold=0.6"),
    ("awr", "AWRTrainer (specc): num_rounds=1, num_samples_per_prompt=8, "
            "advantage_beta=5"),
    ("ppo", "PPOTrainer (specc): ppo_epochs=4, clip_range=0.2"),
])
def test_plan_view_shows_the_trainer_and_its_knobs(algo: str, shown: str) -> None:
    t = _trial(algo)
    assert trainer_line(t).startswith(shown)
    assert shown in trial_detail(t).plain


def test_plan_view_leaves_trl_trainers_alone() -> None:
    assert trainer_line(_trial("dpo")) == ""


@pytest.mark.parametrize("algo", ["rs_sft", "awr", "ppo"])
def test_objectives_are_what_the_trainers_report(algo: str) -> None:
    """`eval_reward` is their evaluation; an `eval_loss` objective would never be
    reported, so validate says so (H007) instead of every trial failing."""
    from specc.compiler.validate import validate_files

    hpo = ("hpo={objectives: [{metric: %s, direction: maximize}], search_space: "
           "{policy.optimizer.kwargs.lr: {type: float, low: 1.0e-6, high: 1.0e-5}}}")
    ok = validate_files([str(EXAMPLES / f"{algo}.yaml")], overrides=[hpo % "eval_reward"])
    assert not [d for d in ok.diagnostics if d.code == "H007"]
    bad = validate_files([str(EXAMPLES / f"{algo}.yaml")], overrides=[hpo % "eval_loss"])
    assert [d.code for d in bad.diagnostics if d.code == "H007"] == ["H007"]


def test_ppo_counts_its_value_head() -> None:
    from dataclasses import replace

    from specc.compiler.fit import memory_inputs
    from specc.compiler.memory import value_head_params, weights_bytes
    from specc.spec.check import check_file
    from specc.spec.diagnostics import Collector

    checked = check_file(str(EXAMPLES / "ppo.yaml"), Collector())
    assert checked.spec is not None
    inputs = memory_inputs(checked.spec, str(EXAMPLES / "ppo.yaml"))
    assert inputs is not None
    head = inputs.arch.hidden_size + 1
    assert value_head_params(inputs) == head
    as_grpo = replace(inputs, algorithm="grpo")
    assert value_head_params(as_grpo) == 0
    assert weights_bytes(inputs) - weights_bytes(as_grpo) == head * 4  # fp32 weights
