"""NeMo RL specifics in validate and plan: the data-parallel size under model parallelism,
`${oc.env:...}` accepted without reading the environment, `val_period <= 0`, a null
optimizer with Megatron, and `specc run` refusing generation backends it does not run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from specc.compiler.plan import build_plan
from specc.compiler.validate import validate_files
from specc.spec.diagnostics import Collector, Diagnostic, Severity
from specc.spec.models import Spec
from specc.spec.parallel import data_parallel_size, parallel

BASE = """\
grpo: {{num_prompts_per_step: 4, num_generations_per_prompt: 4, val_period: {val}}}
policy:
  model_name: specc:tiny-llama
  train_global_batch_size: 16
  train_micro_batch_size: 1
  optimizer: {optimizer}
  generation: {{backend: {backend}, max_new_tokens: 16}}
  megatron_cfg: {{enabled: {megatron}, tensor_model_parallel_size: 2,
                 pipeline_model_parallel_size: 1, context_parallel_size: 2}}
data:
  train: {{path: "specc:arith-prompts"}}
  validation: {{path: "specc:arith-prompts", split: validation}}
reward: {{functions: [{{name: "specc.rewards:exact_match"}}]}}
cluster: {{gpus_per_node: 8, num_nodes: 1}}
hardware: {{gpu: CPU}}
"""


def _spec(tmp_path: Path, **kw: object) -> Path:
    values = {"val": 5, "optimizer": "{name: torch.optim.AdamW, kwargs: {lr: 1.0e-5}}",
              "backend": "hf", "megatron": "false", **kw}
    path = tmp_path / "spec.yaml"
    path.write_text(BASE.format(**values))
    return path


def _errors(path: Path) -> list[Diagnostic]:
    return [d for d in validate_files([str(path)]).diagnostics if d.severity is Severity.ERROR]


def test_data_parallel_size_divides_out_model_parallelism() -> None:
    data: dict[str, Any] = {"policy": {"model_name": "m", "megatron_cfg": {
        "enabled": True, "tensor_model_parallel_size": 2, "pipeline_model_parallel_size": 2,
        "context_parallel_size": 2}}, "cluster": {"gpus_per_node": 8, "num_nodes": 4}}
    spec = Spec.model_validate(data)
    assert (parallel(spec).model, data_parallel_size(spec), spec.world_size) == (8, 4, 4)
    data["policy"]["megatron_cfg"]["enabled"] = False
    data["policy"]["dtensor_cfg"] = {"enabled": True, "tensor_parallel_size": 4,
                                     "context_parallel_size": 1}
    assert data_parallel_size(Spec.model_validate(data)) == 8


def test_batch_rule_counts_replicas_not_gpus(tmp_path: Path) -> None:
    # 8 GPUs / (tensor 2 x context 2) = 2 replicas: 16 = 1 x 8 x 2 holds
    assert _errors(_spec(tmp_path, megatron="true", optimizer="null")) == []
    path = tmp_path / "spec.yaml"
    path.write_text(path.read_text().replace("train_global_batch_size: 16",
                                             "train_global_batch_size: 15"))
    (b001,) = [d for d in _errors(path) if d.code == "B001"]
    assert "2 data-parallel replicas (8 GPUs / tensor 2 x context 2 parallel)" in b001.message
    # the nearest multiples of micro 1 x 2 replicas, not of 8 GPUs (8 or 16)
    assert b001.hint.startswith("use train_global_batch_size 14 or 16"), b001.hint


def test_null_optimizer_needs_megatron(tmp_path: Path) -> None:
    (err,) = _errors(_spec(tmp_path, optimizer="null"))
    assert (err.code, err.path) == ("S006", "policy.optimizer")


def test_val_period_zero_or_negative_means_never(tmp_path: Path) -> None:
    assert _errors(_spec(tmp_path, val=-1)) == []


def test_oc_env_is_accepted_without_reading_the_environment(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPECC_TEST_DATA", str(tmp_path / "nowhere.jsonl"))
    path = _spec(tmp_path)
    path.write_text(path.read_text().replace(
        'train: {path: "specc:arith-prompts"}',
        'train: {data_path: "${oc.env:SPECC_TEST_DATA}", prompt_file: '
        '"${oc.env:SPECC_NOT_SET,prompts}/p.txt"}'))
    result = validate_files([str(path)])
    assert [d for d in result.diagnostics if d.severity is Severity.ERROR] == []
    (info,) = [d for d in result.diagnostics if d.code == "R032"]
    assert "`data.train.data_path`, `data.train.prompt_file`" in info.message
    assert not any("nowhere" in d.message for d in result.diagnostics)


@pytest.mark.parametrize("backend", ["vllm", "sglang", "trtllm", "megatron", "dynamo"])
def test_nemo_backends_validate_and_plan_but_do_not_run(tmp_path: Path, backend: str) -> None:
    path = _spec(tmp_path, backend=backend)
    assert _errors(path) == []
    assert build_plan(str(path)) is not None
    diags = Collector()
    assert build_plan(str(path), diags=diags, for_run=True) is None
    # vLLM runs where the package and a CUDA GPU are (N032 here); the others never do
    code = "N032" if backend == "vllm" else "N015"
    (refused,) = [d for d in diags if d.code == code]
    assert (refused.path, refused.line) == ("policy.generation.backend", 7)


_BASE = ("grpo: {num_prompts_per_step: 8, num_generations_per_prompt: 4, max_num_steps: 10}\n"
         "reward: {functions: [{name: specc.rewards:exact_match}]}\n"
         "policy:\n  model_name: Qwen/Qwen2.5-1.5B\n  train_global_batch_size: 32\n"
         "  train_micro_batch_size: 4\n")


@pytest.mark.parametrize(("extra", "code"), [
    # a NeMo RL config (it carries a block only NeMo RL reads): a key NeMo RL drops is W008
    ("  sequence_packing: {enabled: false, sequence_length_round: 64}\n", "W008"),
    # the same unknown-to-both key in a specc spec (nothing NeMo RL-only): still an error
    ("  sequence_length_round: 64\n", "S001"),
    # a misspelling of a NeMo RL key is an error in a NeMo RL config too
    ("  sequence_packing: {enabled: false}\n  dtensor_cfg: {enabled: true, "
     "tensor_paralel_size: 1}\n", "S001"),
])
def test_dead_keys_warn_in_nemo_configs_and_typos_stay_errors(
        tmp_path: Path, extra: str, code: str) -> None:
    spec = tmp_path / "s.yaml"
    spec.write_text(_BASE + extra)
    found = [d for d in validate_files([str(spec)]).diagnostics
             if d.code in ("W008", "S001")]
    assert [d.code for d in found] == [code], [(d.code, d.message) for d in found]
    assert found[0].line >= 7
