"""Issue 13's lowering tables against the installed transformers, PEFT, TRL and Accelerate,
and what a spec's parallel / quantisation / vLLM keys lower to."""

from __future__ import annotations

import dataclasses
import inspect
from typing import Any

import pytest

from specc.compiler.derive import derive
from specc.compiler.lowering import lower
from specc.compiler.lowering_parallel import (
    ACCELERATE_KEYS,
    ACCELERATE_OPTIONS,
    BNB_FIELDS,
    DISTRIBUTED_FIELDS,
    KBIT_FIELDS,
    PARALLEL_CONFIG_FIELDS,
    VLLM_FIELDS,
)
from specc.spec.models import Spec


def _params(fn: Any) -> set[str]:
    return set(inspect.signature(fn).parameters)


def test_bitsandbytes_config_fields_exist() -> None:
    from transformers import BitsAndBytesConfig

    assert set(BNB_FIELDS) - _params(BitsAndBytesConfig.__init__) == set()


def test_kbit_training_kwargs_exist() -> None:
    from peft import prepare_model_for_kbit_training

    assert set(KBIT_FIELDS) - _params(prepare_model_for_kbit_training) == set()


def test_distributed_config_fields_exist() -> None:
    from transformers.distributed import DistributedConfig  # type: ignore[attr-defined]

    assert set(DISTRIBUTED_FIELDS) - _params(DistributedConfig.__init__) == set()


def test_training_arguments_and_vllm_fields_exist() -> None:
    from transformers import TrainingArguments
    from trl import GRPOConfig, RLOOConfig  # type: ignore[attr-defined]

    assert set(PARALLEL_CONFIG_FIELDS) - {f.name for f in dataclasses.fields(TrainingArguments)} \
        == set()
    for cls in (GRPOConfig, RLOOConfig):
        assert set(VLLM_FIELDS) - {f.name for f in dataclasses.fields(cls)} == set()


def test_accelerate_config_keys_are_launch_options() -> None:
    from accelerate.commands.config.config_args import (  # type: ignore[import-untyped]
        ClusterConfig,
    )
    from accelerate.commands.launch import launch_command_parser  # type: ignore[import-untyped]

    options = {o.lstrip("-") for a in launch_command_parser()._actions for o in a.option_strings}
    assert set(ACCELERATE_OPTIONS) - options == set()
    assert set(ACCELERATE_KEYS) - {f.name for f in dataclasses.fields(ClusterConfig)} == set()


def _spec(**policy: Any) -> Spec:
    hardware = policy.pop("hardware", {"gpu": "A100-80GB", "gpus_per_node": 4})
    algo = policy.pop("algorithm", "sft")
    body: dict[str, Any] = {"model_name": "meta-llama/Llama-3.1-8B-Instruct",
                            "train_global_batch_size": 16, "train_micro_batch_size": 2,
                            **policy}
    data = {"specc": 1, "algorithm": algo, "policy": body, algo: {}, "hardware": hardware,
            "data": {"train": {"path": "specc:arith-prefs"}}}
    return Spec.model_validate(data)


def _lower(spec: Spec) -> Any:
    return lower(spec, derive(spec), "/tmp/out")


def _check_accelerate(cfg: dict[str, Any]) -> None:
    assert set(cfg) <= set(ACCELERATE_KEYS)
    for block in ("fsdp_config", "deepspeed_config"):
        assert set(cfg.get(block, {})) <= set(ACCELERATE_OPTIONS)


def test_fsdp_lowers_to_distributed_config_and_accelerate_file() -> None:
    low = _lower(_spec(parallel={"strategy": "fsdp", "cpu_offload": True}))
    assert low.processes == 4 and low.strategy == "fsdp"
    assert low.distributed == {"fsdp_size": 4, "fsdp_cpu_offload": True,
                               "fsdp_mixed_precision": False}
    assert low.job_config == {"ddp_backend": "nccl"}
    assert low.accelerate["distributed_type"] == "FSDP"
    assert low.accelerate["fsdp_config"]["fsdp_offload_params"] is True
    _check_accelerate(low.accelerate)


@pytest.mark.parametrize("stage", [1, 2, 3])
def test_zero_lowers_to_a_deepspeed_config(stage: int) -> None:
    low = _lower(_spec(parallel={"strategy": f"zero{stage}"}))
    ds = low.job_config["deepspeed"]
    assert ds["zero_optimization"]["stage"] == stage and ds["bf16"]["enabled"] is True
    assert low.accelerate["deepspeed_config"]["zero_stage"] == stage
    _check_accelerate(low.accelerate)
    from transformers import TrainingArguments

    assert "deepspeed" in {f.name for f in dataclasses.fields(TrainingArguments)}


def test_cpu_processes_use_gloo() -> None:
    low = _lower(_spec(hardware={"gpu": "CPU", "gpus_per_node": 2}, precision="float32"))
    assert low.processes == 2 and low.job_config["ddp_backend"] == "gloo"
    assert low.accelerate["distributed_type"] == "MULTI_CPU"


def test_qlora_lowers_to_bitsandbytes_and_kbit_preparation() -> None:
    low = _lower(_spec(lora={"enabled": True}, quantization={"bits": 4},
                       activation_checkpointing=True, hardware={"gpu": "RTX-4090"}))
    assert low.quantization == {"load_in_4bit": True, "bnb_4bit_quant_type": "nf4",
                                "bnb_4bit_use_double_quant": True,
                                "bnb_4bit_compute_dtype": "bfloat16"}
    assert low.kbit == {"use_gradient_checkpointing": True}
    from transformers import BitsAndBytesConfig

    BitsAndBytesConfig(**low.quantization)  # type: ignore[no-untyped-call]  # constructs with the installed transformers


def test_sharded_qlora_stores_in_the_compute_dtype_and_skips_kbit() -> None:
    low = _lower(_spec(lora={"enabled": True}, quantization={"bits": 4},
                       parallel={"strategy": "fsdp"}))
    assert low.quantization["bnb_4bit_quant_storage"] == "bfloat16" and low.kbit is None


def test_master_weights_load_in_float32() -> None:
    low = _lower(_spec(master_weights="float32", hardware={"gpu": "A100-80GB"}))
    assert low.model_dtype == "float32" and low.config["bf16"] is True


def test_vllm_colocate_lowers_to_trl_fields() -> None:
    spec = _spec(algorithm="grpo", generation={"backend": "vllm", "vllm_mode": "colocate",
                                               "gpu_memory_utilization": 0.4},
                 hardware={"gpu": "A100-80GB"})
    low = _lower(spec)
    assert low.config["use_vllm"] is True and low.config["vllm_mode"] == "colocate"
    assert low.config["vllm_gpu_memory_utilization"] == 0.4
