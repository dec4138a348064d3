"""What `specc plan` shows is what `specc run` trains.

For a TPE, a random and a grid study of the built-in tiny model, the parameters of
``specc plan --preview N --format json`` equal those of the trials `specc run` trains, in
order and to full precision (TPE: its startup points; the later one is marked
model-based), and each trial's ``trials/<n>/trainer.json`` equals the plan's trainer call
for its point.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from specc.cli import main
from specc.runtime.study import run_study

pytestmark = pytest.mark.slow

SPEC = """\
specc: 1
name: seam-{sampler}
output_dir: {out}
algorithm: dpo
policy:
  model_name: specc:tiny-llama
  precision: float32
  max_total_sequence_length: 40
  train_global_batch_size: 2
  train_micro_batch_size: 2
  optimizer: {{name: torch.optim.AdamW, kwargs: {{lr: 1.0e-4}}}}
  lora: {{enabled: true, r: 4, alpha: 8}}
dpo:
  reference_policy_kl_penalty: 0.1
  max_num_steps: 1
  seed: 1
data:
  train: {{path: specc:arith-prefs, split: train, max_samples: 8}}
hardware: {{gpu: CPU}}
hpo:
  sampler: {{type: {sampler}, seed: 7{sampler_extra}}}
  pruner: {{type: none}}
  objectives: [{{metric: train_loss, direction: minimize}}]
  n_trials: 3
  search_space:
{space}
"""
CONTINUOUS = """\
    policy.optimizer.kwargs.lr: {type: float, low: 1.0e-5, high: 1.0e-3, log: true}
    policy.max_grad_norm: {type: float, low: 0.1, high: 2.0}
    policy.lora.r: {type: categorical, choices: [2, 4, 8]}"""
GRID = """\
    policy.optimizer.kwargs.lr: {type: categorical, choices: [1.0e-5, 3.0e-4]}
    policy.max_grad_norm: {type: categorical, choices: [0.5, 1.0]}"""

CASES = {
    "tpe": (", n_startup_trials: 2", CONTINUOUS, 2),
    "random": ("", CONTINUOUS, 3),
    "grid": ("", GRID, 3),
}


@pytest.fixture(autouse=True)
def specc_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    cache = os.environ.get("SPECC_TEST_CACHE") or str(tmp_path_factory.mktemp("cache"))
    old = os.environ.get("SPECC_CACHE")
    os.environ["SPECC_CACHE"] = cache
    yield
    if old is None:
        os.environ.pop("SPECC_CACHE", None)
    else:
        os.environ["SPECC_CACHE"] = old


def plan_json(spec: Path, n: int) -> dict[str, Any]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["plan", str(spec), "--format", "json", "--preview", str(n)]) == 0
    data: dict[str, Any] = json.loads(out.getvalue())
    return data


@pytest.mark.parametrize("sampler", sorted(CASES))
def test_plan_previews_the_points_run_trains(tmp_path: Path, sampler: str) -> None:
    extra, space, exact = CASES[sampler]
    out = tmp_path / "out"
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC.format(sampler=sampler, out=out, sampler_extra=extra, space=space))
    plan = plan_json(spec, 3)
    planned = [t["params"] for t in plan["trials"]]
    assert len(planned) == 3
    assert [t["model_based"] for t in plan["trials"]] == [i >= exact for i in range(3)]

    summary = run_study(str(spec), progress=False)
    ran = sorted(summary.trials, key=lambda t: int(t["number"]))
    assert [t["state"] for t in ran] == ["COMPLETE"] * 3
    trained = [t["params"] for t in ran]
    # same points, same order, same floats (json round-trips a float exactly)
    assert trained[:exact] == planned[:exact]
    for got, want in zip(trained[:exact], planned[:exact], strict=True):
        assert list(got) == list(want)  # dimension order too

    for t in plan["trials"][:exact]:
        recorded = json.loads((out / "trials" / str(t["number"]) / "trainer.json")
                              .read_text())
        call = t["trainer"]
        assert recorded["trainer_class"] == call["class"]
        assert recorded["config_class"] == call["config_class"]
        assert recorded["config"] == call["config"]
        assert recorded["peft"] == call["peft"]
