"""`hpo.evaluation.cross_validation`: each trial trains once per fold, from the base
weights, on the training split minus one held-out fold, and is scored by the mean of the
folds' objective values (real TRL trainer on the tiny model, real Optuna storage)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from specc.runtime.trial import Fold

SPEC = """\
specc: 1
name: cv
algorithm: dpo
policy:
  model_name: specc:tiny-llama
  tokenizer: {name: "${policy.model_name}"}
  precision: float32
  max_total_sequence_length: 40
  train_global_batch_size: 4
  train_micro_batch_size: 2
  optimizer: {name: torch.optim.AdamW, kwargs: {lr: 1.0e-4}}
  lora: {enabled: false}
dpo: {reference_policy_kl_penalty: 0.1, max_num_steps: 4, val_period: 2, seed: 1}
data:
  train: {path: specc:arith-prefs, split: train, max_samples: 24}
hardware: {gpu: CPU}
hpo:
  sampler: {type: random, seed: 0}
  objectives: [{metric: eval_loss, direction: minimize}]
  n_trials: 2
  evaluation: {cross_validation: {n_folds: 3}}
  search_space:
    policy.optimizer.kwargs.lr: {type: float, low: 1.0e-5, high: 1.0e-3, log: true}
"""


@pytest.mark.parametrize("n,k", [(24, 3), (10, 3), (7, 7), (5, 2)])
def test_folds_partition_the_rows(n: int, k: int) -> None:
    held = []
    for i in range(k):
        train, out = Fold(i, k).rows(n)
        assert sorted(train + out) == list(range(n)) and not set(train) & set(out)
        assert out and n // k <= len(out) <= n // k + 1
        held += out
    assert held == list(range(n))  # every row held out exactly once, in order


def _evals(path: Path) -> list[dict[str, Any]]:
    lines = [json.loads(x) for x in path.read_text().splitlines()]
    return [x for x in lines if x["kind"] == "eval"]


@pytest.mark.slow
def test_each_trial_trains_every_fold_and_scores_their_mean(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import specc

    monkeypatch.setenv("SPECC_CACHE", os.environ.get("SPECC_TEST_CACHE") or str(tmp_path / "c"))
    spec = tmp_path / "cv.yaml"
    spec.write_text(SPEC)
    summary = specc.run(str(spec), output=str(tmp_path / "out"), progress=False)
    assert [t["state"] for t in summary.trials] == ["COMPLETE", "COMPLETE"]
    for trial in summary.trials:
        evals = _evals(tmp_path / "out" / "trials" / str(trial["number"]) / "metrics.jsonl")
        # 3 folds x evaluations at steps 2 and 4, each line tagged with its fold
        assert [(e["fold"], e["step"]) for e in evals] == [
            (f, s) for f in range(3) for s in (2, 4)]
        last = [e["eval_loss"] for e in evals if e["step"] == 4]
        assert len(set(last)) == 3  # three different held-out folds
        assert trial["values"][0] == pytest.approx(sum(last) / 3, rel=1e-6)
        # the pruner saw one curve: the folds' reports one after another
        assert len(trial["intermediate"]) == 6


def test_validate_explains_the_unused_validation_split(tmp_path: Path) -> None:
    from specc.compiler.validate import validate_files

    spec = tmp_path / "cv.yaml"
    spec.write_text(SPEC.replace(
        "  train: {path: specc:arith-prefs, split: train, max_samples: 24}\n",
        "  train: {path: specc:arith-prefs, split: train, max_samples: 24}\n"
        "  validation: {path: specc:arith-prefs, split: validation}\n"))
    codes = [(d.code, d.path) for d in validate_files([str(spec)]).diagnostics]
    assert codes == [("W005", "data.validation")]
    spec.write_text(SPEC)  # without validation data: no H017, the folds are held out
    assert validate_files([str(spec)]).diagnostics == []
