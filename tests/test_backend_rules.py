"""The validate side of `hpo.backend` / `hpo.scheduler` (spec/rules/backend.py) beyond the
cases under tests/cases/ray_*: what must stay quiet, defaults that decide a diagnostic,
and spec.mutable's answers. Each test varies one of the Ray examples by overrides."""

from __future__ import annotations

import pytest

from specc.compiler.validate import validate_files
from specc.spec.mutable import default_mutations, why_fixed

from conftest import EXAMPLES

ASHA = str(EXAMPLES / "ray_asha.yaml")
PBT = str(EXAMPLES / "ray_pbt.yaml")


def _found(spec: str, *overrides: str) -> set[tuple[str, str]]:
    result = validate_files([spec], overrides=list(overrides))
    found = {(d.code, d.path) for d in result.diagnostics}
    assert not [f for f in found if f[0][0] in "YRS"], found  # the overrides themselves fit
    return found


def _codes(spec: str, *overrides: str) -> set[str]:
    return {code for code, _ in _found(spec, *overrides)}


def test_the_examples_are_clean_and_the_optuna_backend_ignores_nothing() -> None:
    assert _codes(ASHA) == set()
    assert _codes(PBT) == set()
    # the quickstart's pruner under the Optuna backend: no Ray diagnostics at all
    assert not {c for c in _codes(str(EXAMPLES / "quickstart.yaml"))
                if c.startswith(("W022", "H019", "H020"))}


def test_a_pruner_under_ray_names_the_closest_scheduler() -> None:
    result = validate_files([ASHA], overrides=["hpo.pruner.type=hyperband",
                                               "hpo.scheduler=null"])
    (w,) = [d for d in result.diagnostics if d.code == "W022"]
    assert w.path == "hpo.pruner.type" and "type: hyperband" in w.hint
    result = validate_files([ASHA], overrides=["hpo.pruner.type=median"])
    (w,) = [d for d in result.diagnostics if d.code == "W022"]
    assert "type: asha" in w.hint
    # a profile's pruner is not used either; the warning points at the profile
    assert ("W022", "hpo.pruner.type") in _found(ASHA, "hpo.profile=quick")


def test_multi_objective_under_ray_is_the_scheduler_s_error_not_the_pruner_s() -> None:
    two = "hpo.objectives=[{metric: eval_loss}, {metric: eval_rewards/accuracies, " \
          "direction: maximize}]"
    codes = _codes(ASHA, two, "hpo.pruner.type=median")
    assert "H026" in codes and "H005" not in codes
    assert "H026" not in _codes(ASHA, two, "hpo.scheduler=null")  # Optuna's searcher copes


def test_report_counts_come_from_the_trial_and_stay_quiet_when_searched() -> None:
    assert "W024" not in _codes(ASHA, "hpo.scheduler.max_t=4")  # 40 steps / 10: 4 reports
    assert ("W024", "hpo.scheduler.max_t") in _found(ASHA, "hpo.scheduler.max_t=5")
    # hpo.evaluation overrides the block: 40 steps every 5 makes 8 reports
    assert "W024" not in _codes(ASHA, "hpo.scheduler.max_t=8", "hpo.evaluation.val_period=5")
    # a step count that does not divide: 45 steps every 10 is 5 reports (the last at 45)
    assert "W024" not in _codes(ASHA, "hpo.scheduler.max_t=5", "dpo.max_num_steps=45")
    searched = 'hpo.search_space["dpo.max_num_steps"]={type: int, low: 20, high: 40}'
    assert "W024" not in _codes(ASHA, "hpo.scheduler.max_t=50", searched)
    # PBT's default interval is one report: only a one-report trial has no exploit step
    assert "W024" not in _codes(PBT, "hpo.scheduler.perturbation_interval=null")
    assert ("W024", "hpo.scheduler.type") in _found(
        PBT, "hpo.scheduler.perturbation_interval=null", "dpo.val_period=40")


def test_pbt_mutates_the_mutable_searched_keys_by_default() -> None:
    assert _codes(PBT, "hpo.scheduler.mutations=null") == set()
    # PB2 without `mutations` would perturb a categorical: said at the dimension's key
    cat = 'hpo.search_space["dpo.reference_policy_kl_penalty"]={type: categorical, ' \
          "choices: [0.05, 0.1]}"
    found = _found(PBT, "hpo.scheduler.type=pb2", "hpo.scheduler.mutations=null", cat)
    assert ("H024", 'hpo.search_space["dpo.reference_policy_kl_penalty"]') in found
    assert "H024" not in _codes(PBT, "hpo.scheduler.mutations=null", cat)  # PBT shifts it


def test_checkpointing_is_refused_off_only_when_written_off() -> None:
    assert "H027" in _codes(PBT, "checkpointing.enabled=false")
    assert "H027" not in _codes(PBT, "checkpointing.save_period=10")  # enabled by the run
    assert "H027" not in _codes(ASHA, "checkpointing.enabled=false")  # ASHA copies nothing


def test_a_population_of_one_warns_at_parallel() -> None:
    assert ("W026", "hpo.parallel") in _found(PBT, "hpo.parallel=1")
    assert "W026" in _codes(PBT, "hpo.n_trials=1")


@pytest.mark.parametrize(("key", "reason"), [
    ("policy.optimizer.kwargs.lr", None),
    ("policy.optimizer.kwargs.weight_decay", None),
    ("dpo.reference_policy_kl_penalty", None),
    ("loss_fn.reference_policy_kl_penalty", None),
    ("policy.generation.temperature", None),
    ("policy.lora.r", "adapter's shape"),
    ("policy.model_name", "the model"),
    ("policy.train_global_batch_size", "batch shapes"),
    ("grpo.num_generations_per_prompt", "batch shapes"),
    ("policy.scheduler.warmup_steps", "step count"),
    ("dpo.max_num_steps", "step count"),
    ("policy.optimizer.kwargs.betas", "does not know"),
])
def test_why_fixed(key: str, reason: str | None) -> None:
    got = why_fixed(key)
    assert (got is None) if reason is None else (got is not None and reason in got), got


def test_default_mutations_keeps_order_and_drops_fixed_keys() -> None:
    keys = ["policy.lora.r", "dpo.reference_policy_kl_penalty", "policy.optimizer.kwargs.lr"]
    assert default_mutations(keys) == keys[1:]


#: A valid value of each Scheduler key (the W025 sweep below sets one at a time).
_VALUES = {"grace_period": 1, "max_t": 4, "reduction_factor": 2, "brackets": 1,
           "perturbation_interval": 1, "mutations": "[policy.optimizer.kwargs.lr]",
           "quantile_fraction": 0.25, "resample_probability": 0.25,
           "perturbation_factors": "[1.2, 0.8]", "synch": "true"}


def test_every_scheduler_key_is_read_by_some_type() -> None:
    from specc.spec.models.hpo import Scheduler
    from specc.spec.rules.backend import APPLIES

    keys = set(Scheduler.model_fields) - {"type"}
    assert keys == set(_VALUES)
    assert set().union(*APPLIES.values()) == keys


_OTHERS = [(t, k) for t in ("asha", "hyperband", "pbt", "pb2") for k in _VALUES]


@pytest.mark.parametrize(("kind", "key"), _OTHERS, ids=[f"{t}.{k}" for t, k in _OTHERS])
def test_a_key_its_type_does_not_read_is_named(kind: str, key: str) -> None:
    from specc.spec.rules.backend import APPLIES

    found = _found(PBT, "hpo.scheduler.mutations=null", f"hpo.scheduler.type={kind}",
                   f"hpo.scheduler.{key}={_VALUES[key]}")
    named = ("W025", f"hpo.scheduler.{key}") in found
    assert named == (key not in APPLIES[kind]), found


def test_pbt_reads_the_samplers_seed_and_warns_only_on_its_other_settings() -> None:
    assert "W023" not in _codes(PBT, "hpo.sampler={seed: 7}")  # seeds the first draws
    assert ("W023", "hpo.sampler.type") in _found(PBT, "hpo.sampler={type: tpe, seed: 7}")
    assert ("W023", "hpo.sampler.n_startup_trials") in _found(
        PBT, "hpo.sampler={n_startup_trials: 3}")
    (w,) = [d for d in validate_files([PBT], overrides=["hpo.sampler={type: tpe, seed: 7}"]
                                      ).diagnostics if d.code == "W023"]
    assert "`sampler: {seed: 7}`" in w.hint
