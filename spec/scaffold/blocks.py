"""The blocks of a scaffold before `hpo`: policy, the algorithm's block, loss_fn, data,
reward and hardware, each key with the reason for its value."""

from __future__ import annotations

from typing import Any

from specc.spec.facts import GENERATES, PREFERENCE, ROLLOUTS
from specc.spec.scaffold.tables import ALGORITHMS_INFO, Choice
from specc.spec.scaffold.text import Block, Entry, Item, Items, Key


def policy_block(c: Choice) -> list[Entry]:
    hw, algo = c.hw, ALGORITHMS_INFO[c.algorithm]
    out: list[Entry] = [
        Key("model_name", c.model, c.model_why),
        Key("tokenizer", {"name": "${policy.model_name}"}, "the model's own tokenizer"),
        Key("precision", hw.precision, hw.precision_why),
    ]
    if hw.tf32 is not None:
        out.append(Key("tf32", hw.tf32, hw.tf32_why))
    world = (f"{hw.gpus_per_node} GPUs x {c.nodes} nodes" if c.nodes > 1 else
             f"{c.world} GPUs" if c.world > 1 else "1 GPU" if hw.accelerator else "1 device")
    out += [
        Key("max_total_sequence_length", c.seq_len, c.seq_why),
        Key("train_global_batch_size", c.global_batch,
            f"= micro {c.micro} x grad accumulation {c.accum} x {world}"
            + (" (cluster: twice the local batch, steadier gradients)"
               if c.mode == "cluster" else "")),
        Key("train_micro_batch_size", c.micro, hw.batch_why),
        Key("activation_checkpointing", hw.checkpointing, hw.checkpointing_why),
        Key("max_grad_norm", 1.0, "seed 003 clips at 1.0 (0.5 when training is unstable)"),
    ]
    lr_tiny = "; the tiny model, trained in full, takes a larger rate " \
        "(examples/quickstart.yaml)" if c.tiny else ""
    kwargs: list[Entry] = [
        Key("lr", algo.lr[1 if c.tiny else 0],
            algo.lr_why + lr_tiny + ("; the search tunes it" if c.hpo else "")),
        Key("weight_decay", 0.01, "seed 003; 0.05 when overfitting"),
    ]
    if hw.fused:
        kwargs.append(Key("fused", True, "seed 003 \"adamw_torch_fused\" on Ampere and newer"))
    out.append(Key("optimizer", Block.of([
        Key("name", "torch.optim.AdamW", "seed 003 \"adamw_torch\"; allow-listed names only"),
        Key("kwargs", Block.of(kwargs), "checked against AdamW's signature"),
    ]), "the optimizer"))
    out.append(Key("scheduler", Block.of(Key(k, v, algo.schedule_why if k == "type" else
                                          _warmup_why(k, v))
                                      for k, v in algo.schedule.items()),
                   "learning-rate schedule (TRL's lr_scheduler_type)"))
    out.append(Key("lora", Block.of(_lora(c)), "PEFT LoRA adapters"))
    if c.algorithm in GENERATES:
        out.append(Key("generation", Block.of(_generation(c)), "sampling for rollouts"))
    return out


def _warmup_why(key: str, value: Any) -> str:
    if key == "warmup_steps":
        return "seed 002: warmup_steps 0"
    return f"{value:.0%} of the steps warm up linearly from 0"


def _lora(c: Choice) -> list[Entry]:
    if c.tiny:
        return [Key("enabled", False, "the tiny model trains fully, and learns far faster "
                    "that way than through adapters; enable for real models")]
    return [
        Key("enabled", True, "seed 003: LoRA in every stage; with LoRA the reference model is "
            "the adapter-free base, so no second copy"),
        Key("r", 16, "seed 003: 16; 32 if underfitting, 8 if overfitting"),
        Key("alpha", "${mul:${policy.lora.r},2}", "alpha = 2 x r is standard (seed 003), "
            "also when the search changes r"),
        Key("dropout", 0.05, "seed 003: 0.05-0.1"),
        Key("target_modules", list(c.targets) if isinstance(c.targets, tuple) else c.targets,
            "seed 003: every attention and MLP projection" if isinstance(c.targets, tuple)
            else "every linear layer: this model does not name them q_proj ... down_proj"),
    ]


def _generation(c: Choice) -> list[Entry]:
    focused = c.algorithm in ("rs_sft", "awr")  # not a fact: seed 003's cooler sampling
    return [
        Key("max_new_tokens", c.hw.max_new_tokens,
            "completion length limit, inside max_total_sequence_length"),
        Key("temperature", 0.8 if focused else 1.0,
            "seed 003 stage 2 samples at 0.8" if focused else
            "diverse groups: the advantage needs reward variance" if c.algorithm != "ppo"
            else "PPO explores by sampling the policy as it is"),
        Key("top_p", 0.9 if c.algorithm == "rs_sft" else 1.0,
            "seed 003 RS-SFT nucleus sampling" if c.algorithm == "rs_sft" else
            "no nucleus cut: keep the whole distribution"),
    ]


# --- the algorithm block --------------------------------------------------------------------

def algorithm_block(c: Choice) -> list[Entry]:
    algo, a = ALGORITHMS_INFO[c.algorithm], c.algorithm
    out: list[Entry] = []
    if a == "sft":
        out.append(Key("completion_only_loss", True, "learn the answer, not the prompt"))
    elif a == "dpo":
        out += [
            Key("reference_policy_kl_penalty", 0.1, "beta; seed 003: start at 0.1, 0.05-0.2 "
                "usual, above 0.5 risks instability"),
            Key("preference_loss_weight", 1.0, "the DPO loss itself"),
            Key("sft_loss_weight", 0.1, "a light NLL loss on the chosen answers keeps them "
                "likely (NeMo RL; 0 = pure DPO)"),
            Key("label_smoothing", 0.0, "seed 003: usually 0, try 0.1 if overfitting"),
        ]
    elif a == "orpo":
        out += [Key("beta", 0.1, "odds-ratio weight; seed 003: 0.05-0.2")]
    elif a == "kto":
        out += [
            Key("beta", 0.1, "KL penalty strength (TRL default; as DPO's beta)"),
            Key("desirable_weight", 1.0, "built-in pairs give 1 desirable per undesirable"),
            Key("undesirable_weight", 1.0, "balanced data: equal weights"),
            Key("precompute_ref_log_probs", True, "reference log-probs once up front: no "
                "reference model in memory while training"),
        ]
    elif a in ROLLOUTS:
        gens = 8 if c.hw.accelerator else 4
        prompts = c.global_batch // 4
        out += [
            Key("num_prompts_per_step", prompts,
                f"x {gens} generations = {prompts * gens} rollouts, a multiple of the global "
                f"batch {c.global_batch} for every group size the search tries (4-16)"),
            Key("num_generations_per_prompt", gens,
                "seed 002: 4-16; fewer is noisy, more is slow" + (
                    " (8 as seed 002)" if gens == 8 else " (4 keeps the CPU quick)")),
        ]
        if a == "grpo":
            out += [
                Key("normalize_rewards", True, "divide advantages by the group's reward std"),
            ]
        else:
            out += [
                Key("reference_policy_kl_penalty", 0.05,
                    "KL against the adapter-free base (seed 003: 0.05 to start)"),
                Key("normalize_rewards", False, "RLOO's own baseline centres the rewards"),
            ]
    elif a == "rs_sft":
        out += [
            Key("num_samples_per_prompt", 4, "seed 003: generate 4, keep the best"),
            Key("reward_threshold", 0.6, "seed 003: keep samples with reward > 0.6"),
            Key("max_samples", 20000 if c.hw.accelerator else 2000,
                "seed 003: cap the filtered dataset" + ("" if c.hw.accelerator else
                                                        " (smaller for the CPU)")),
        ]
    elif a == "awr":
        out += [
            Key("advantage_beta", 5.0, "seed 003: 1-10, start at 5; above 10 overfits "
                "outliers"),
            Key("normalize_advantage", True, "seed 003: normalise before weighting"),
            Key("clip_advantage", 10.0, "seed 003: maximum advantage weight"),
            Key("num_samples_per_prompt", 4, "seed 003's 8 halved: one call's KV cache "
                "holds every sample of a prompt, and 8 of 7B x 2048 tokens crowd 24 GB")
            if c.hw.gpu == "RTX-4090" else
            Key("num_samples_per_prompt", 8, "seed 003: 8 samples per prompt"),
        ]
    elif a == "ppo":
        out += [
            Key("ppo_epochs", 4, "seed 003: 4 (2-8)"),
            Key("clip_range", 0.2, "seed 003: 0.2 (0.1-0.3)"),
            Key("vf_coef", 0.5, "seed 003: value-function coefficient"),
            Key("ent_coef", 0.01, "seed 003: 0.01 (0.001-0.1)"),
            Key("init_kl_coef", 0.05, "seed 003: 0.05 (0.01-0.1)"),
            Key("target_kl", 0.1, "seed 003: keep KL under 0.1"),
            Key("adaptive_kl", True, "seed 003: adapt the KL coefficient to the target"),
            Key("gamma", 0.99, "seed 003: discount factor"),
            Key("lam", 0.95, "seed 003: GAE lambda"),
            Key("mini_batch_size", c.micro, "one micro batch per gradient update (seed 003: "
                "4 on GPUs, 1-2 on M1)"),
            Key("max_episode_length", 1, "single-answer tasks: one turn per episode "
                "(seed 003's tool episodes: 20)"),
        ]
    if algo.epochs is not None:
        out.append(Key("max_num_epochs", algo.epochs, algo.epochs_why))
    n = c.steps // c.val_period
    out += [
        Key("max_num_steps", c.steps, c.md.steps_why
            + ("; training stops at whichever of epochs/steps comes first"
               if algo.epochs is not None else "")),
        Key("val_period", c.val_period, c.md.val_why.format(n=n)) if a not in (
            "rs_sft", "awr") else Key("num_rounds", 2, "generate-score-train rounds, each "
                                      "evaluated; epochs and steps apply per round"),
        Key("seed", 42, "seed 003: 42, for reproducibility"),
    ]
    return out


def loss_fn_block() -> list[Entry]:
    return [
        Key("reference_policy_kl_penalty", 0.01,
            "seed 002's beta: 0.001-0.1; 0 drops the reference model"),
        Key("ratio_clip_min", 0.2, "seed 003 clip range 0.2 (0.1-0.3)"),
        Key("ratio_clip_max", 0.2, "symmetric; raise for DAPO-style clip-higher"),
    ]


# --- data, reward, hardware -----------------------------------------------------------------

def data_block(c: Choice) -> list[Entry]:
    path = "specc:arith-prefs" if c.algorithm in PREFERENCE or c.algorithm == "sft" \
        else "specc:arith-prompts"
    kind = "preference pairs" if path == "specc:arith-prefs" else "prompts with answers"
    out: list[Entry] = [
        Key("train", {"path": path, "split": "train"},
            f"built-in {kind}, offline; or a jsonl/json/parquet file or dataset folder"),
        Key("validation", {"path": path, "split": "validation"},
            "held-out split: the objective is computed on it"),
    ]
    if c.hw.workers is not None:
        out.append(Key("num_workers", c.hw.workers, c.hw.workers_why))
    return out


def reward_block(algorithm: str) -> list[Entry]:
    funcs = [Item({"name": "specc.rewards:exact_match", "weight": 1.0},
                  "1.0 when the final number is the answer")]
    if algorithm == "awr":
        funcs.append(Item({"name": "specc.rewards:numeric_closeness", "weight": 0.5},
                          "dense signal: closer numbers score more"))
    else:
        funcs.append(Item({"name": "specc.rewards:format_reward", "weight": 0.2},
                          "small bonus for answering with just a number"))
    out: list[Entry] = []
    if algorithm == "rs_sft":
        out.append(Key("normalize", True, "seed 003: scale the sum to [0, 1] before the "
                       "threshold"))
    out.append(Key("functions", Items(tuple(funcs)),
                   "module:function, weighted and summed; put yours here"))
    return out


def hardware_block(c: Choice) -> list[Entry]:
    hw = c.hw
    out: list[Entry] = [Key("gpu", hw.gpu, hw.gpu_why)]
    if hw.accelerator:
        out.append(Key("gpus_per_node", hw.gpus_per_node,
                       "seed 003 num_processes: one DDP process per GPU"
                       if hw.gpus_per_node > 1 else "one GPU per trial"))
        out.append(Key("num_nodes", c.nodes, "cluster: two machines double the data-parallel "
                       "batch" if c.nodes > 1 else "one machine"))
    return out


