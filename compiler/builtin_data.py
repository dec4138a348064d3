"""The built-in datasets, generated deterministically with the standard library.

`specc:arith-prefs` holds preference pairs (prompt, chosen, rejected) plus the SFT
`completion` and KTO `label` views; `specc:arith-prompts` holds prompts with verifiable
answers for GRPO/RLOO. Both are small arithmetic problems a tiny model can learn on a
CPU in minutes, so the objective visibly improves in a short study.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

from specc.spec.builtins import DATASET_SIZES

_SEEDS = {"train": 1234, "validation": 4321}


def _problem(rng: random.Random) -> tuple[str, int]:
    a, b = rng.randint(0, 49), rng.randint(0, 49)
    op = rng.choice("+-")
    return f"{a}{op}{b}=", a + b if op == "+" else a - b


def _wrong(rng: random.Random, answer: int) -> str:
    """A dispreferred answer: a near miss, the digits reversed, or a stray extra digit.
    The last two are patterns a tiny model can learn to avoid within a few dozen steps,
    so a short study shows the objective moving."""
    kind = rng.random()
    if kind < 0.3:
        return str(answer + rng.choice([-10, -2, -1, 1, 2, 10]))
    if kind < 0.6 and abs(answer) >= 10:
        sign = "-" if answer < 0 else ""
        return sign + str(abs(answer))[::-1] + "0"
    return f"{answer}{rng.randint(0, 9)}{rng.randint(0, 9)}"


def arith_prefs(split: str = "train") -> list[dict[str, Any]]:
    """Preference pairs: the correct sum is chosen, a near miss rejected."""
    n = DATASET_SIZES[("specc:arith-prefs", split)]
    rng = random.Random(_SEEDS[split])
    rows = []
    for i in range(n):
        prompt, answer = _problem(rng)
        wrong = _wrong(rng, answer)
        rows.append({
            "prompt": prompt,
            "chosen": f"{answer}",
            "rejected": wrong,
            "completion": f"{answer}",
            "label": i % 2 == 0,
            "answer": str(answer),
        })
    return rows


def arith_prompts(split: str = "train") -> list[dict[str, Any]]:
    """Prompts with verifiable answers, for reward functions."""
    n = DATASET_SIZES[("specc:arith-prompts", split)]
    rng = random.Random(_SEEDS[split] + 1)
    rows = []
    for _ in range(n):
        prompt, answer = _problem(rng)
        rows.append({"prompt": prompt, "answer": str(answer)})
    return rows


GENERATORS = {"specc:arith-prefs": arith_prefs, "specc:arith-prompts": arith_prompts}


def rows(name: str, split: str = "train") -> list[dict[str, Any]]:
    return GENERATORS[name](split)


def kto_view(rows_: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Unpaired examples for KTO: alternate the chosen (desirable) and rejected ones."""
    return [{"prompt": r["prompt"],
             "completion": r["chosen"] if r["label"] else r["rejected"],
             "label": bool(r["label"])} for r in rows_]


def write_jsonl(name: str, split: str, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as f:
        for row in rows(name, split):
            f.write(json.dumps(row) + "\n")
    return path
