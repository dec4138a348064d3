"""Do the RS-SFT, AWR and PPO cores learn? A sign check on the built-in tiny model.

Each algorithm starts from the same random `specc:tiny-llama` and is rewarded for the
share of digits in an 8-token completion of `specc:arith-prompts` prompts, an easy
target whose direction a wrong sign in a loss would reverse. Prints, per algorithm, the
mean reward of the samples it generated in its first and last round/update and the
wall time. Usage:

    .venv/bin/python benchmarks/algorithm_learning.py [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def digits(completions: list[Any], **kwargs: Any) -> list[float]:
    return [sum(ch.isdigit() for ch in str(c)) / 8 for c in completions]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    opts = parser.parse_args()

    import torch
    from trl.trainer.sft_config import SFTConfig

    from specc.compiler.builtin_data import rows
    from specc.runtime.algorithms.awr import run_awr
    from specc.runtime.algorithms.ppo import run_ppo
    from specc.runtime.algorithms.rs_sft import run_rs_sft
    from specc.runtime.algorithms.sampling import WeightedRewards
    from specc.runtime.tiny_model import build_model, build_tokenizer
    from specc.spec.models.algorithms import AWR, PPO, RSSFT
    from specc.spec.models.policy import Generation

    torch.set_num_threads(2)
    data = rows("specc:arith-prompts", "train")
    held_out = rows("specc:arith-prompts", "validation")[:16]
    gen = Generation(max_new_tokens=8)
    rewards = WeightedRewards([digits], [1.0])
    out: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        args = SFTConfig(output_dir=tmp, max_steps=8, per_device_train_batch_size=8,
                         learning_rate=3e-3, report_to=[], save_strategy="no",
                         use_cpu=True, disable_tqdm=True, seed=0)
        for name in ("rs_sft", "awr", "ppo"):
            torch.manual_seed(0)
            model, tok = build_model(), build_tokenizer()
            start = time.perf_counter()
            if name == "ppo":
                res = run_ppo(model, tok, data, held_out, block=PPO(
                    ppo_epochs=4, mini_batch_size=8, init_kl_coef=0.01),
                    generation=gen, rewards=rewards, learning_rate=3e-3, batch_size=16,
                    updates=25)
                first, last = res.history[0]["reward_mean"], res.history[-1]["reward_mean"]
                evaluated = res.eval_reward
            else:
                run = run_rs_sft if name == "rs_sft" else run_awr
                block: Any = (RSSFT(num_samples_per_prompt=4, reward_threshold=0.25)
                              if name == "rs_sft" else
                              AWR(num_samples_per_prompt=4, advantage_beta=1.0))
                res2 = run(model, tok, data[:32], held_out, block=block, generation=gen,
                           rewards=rewards, args=args, rounds=4)
                first, last = res2.rounds[0].reward_mean, res2.rounds[-1].reward_mean
                evaluated = res2.eval_reward
            out[name] = {"first_reward": first, "last_reward": last,
                         "eval_reward": evaluated,
                         "seconds": time.perf_counter() - start}
    if opts.json:
        json.dump(out, sys.stdout, indent=2)
        print()
    else:
        for name, m in out.items():
            print(f"{name:7s} sampled reward {m['first_reward']:.3f} -> "
                  f"{m['last_reward']:.3f}  eval (greedy) {m['eval_reward']:.3f}  "
                  f"{m['seconds']:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
