"""The `hpo` block of a scaffold: the mode's profile and the algorithm's preset
(:mod:`specc.spec.presets`), written out, with ranges kept inside the seed guides' advice
ranges (:mod:`specc.spec.rules.advice`)."""

from __future__ import annotations

from typing import Any

from specc.spec import presets
from specc.spec.dialects import KL_PATHS
from specc.spec.rules.advice import LR_RANGES, RANGES
from specc.spec.scaffold.tables import OBJECTIVES, Choice
from specc.spec.scaffold.text import Block, Entry, Key, Note


def search_space(c: Choice) -> dict[str, tuple[dict[str, Any], str]]:
    """Search-space path -> (distribution, why): the preset, clipped to the advice ranges."""
    a = c.algorithm
    own = presets.OWN.get(a)
    name = (own or "optimizer") if c.md.preset == "own" else "full"
    source = f"preset `{name}`"
    entries = presets.search_space(name, a, lora=not c.tiny) or {}
    out: dict[str, tuple[dict[str, Any], str]] = {}
    for path, dim in entries.items():
        out[path] = _clip(a, path, dim, source)
    if own is None:
        for r in RANGES:
            path = f"{r.algorithm}.{r.key}"
            if r.algorithm == a and path not in out and isinstance(r.low, float):
                dim = {"type": "float", "low": r.low, "high": r.high}
                if r.high / r.low >= 10:
                    dim["log"] = True
                out[path] = (dim, r.why)
    return out


_WHY: dict[str, str] = {
    "policy.optimizer.kwargs.lr": "the knob seed 000 calls critical; log scale",
    "policy.optimizer.kwargs.weight_decay": "seed 003: 0.01, 0.05 when overfitting",
    "policy.max_grad_norm": "seed 004: clipping 0.5-2.0",
    "policy.lora.r": "seed 003: try 8, 16, 32 (alpha follows as 2 x r)",
    "policy.lora.dropout": "seed 003: 0.05-0.1",
    "policy.generation.temperature": "seed 004: 0.7-1.5",
    "policy.generation.top_p": "seed 004: 0.8-0.99",
    "dpo.sft_loss_weight": "NeMo RL guide: 0-0.5",
}


def _clip(algorithm: str, path: str, dim: dict[str, Any], source: str
          ) -> tuple[dict[str, Any], str]:
    dim = dict(dim)
    why = _WHY.get(path, "")
    if path == "policy.optimizer.kwargs.lr":
        hi = LR_RANGES[algorithm][1]
        if dim["high"] > hi:
            dim["high"] = hi
            why += f"; capped at {hi:g}, seed 003's ceiling for {algorithm}"
    elif path == KL_PATHS.get(algorithm):
        why = "the KL/beta coefficient" + {
            "dpo": "; seed 003: 0.05-0.5", "grpo": "; seed 002: 0.001-0.1",
            "rloo": "; as GRPO's"}.get(algorithm, "")
        for r in RANGES:
            if f"{r.algorithm}.{r.key}" == path and dim.get("type") == "float":
                dim["low"], dim["high"] = max(dim["low"], r.low), min(dim["high"], r.high)
                why = f"seed 003: {r.low:g}-{r.high:g}"
    elif path.endswith(".num_generations_per_prompt"):
        why = "seed 004's group sizes; seed 002: 4-16"
    return dim, f"{source}: {why}" if why else source


def hpo_block(c: Choice) -> list[Entry]:
    profile = presets.PROFILES[c.md.profile]
    sampler = {"type": "tpe", "seed": 42, **{k: v for k, v in profile["sampler"].items()
                                             if k != "type"}}
    metric, direction, metric_why = OBJECTIVES[c.algorithm]
    src = f"profile `{c.md.profile}`"
    out: list[Entry] = [
        Key("sampler", sampler, f"{src}: TPE (Bayesian) after random startup trials; the "
            "seed makes suggestions reproducible"
            + ("; constant_liar keeps parallel workers apart" if
               sampler.get("constant_liar") else "")),
        Key("pruner", profile["pruner"], f"{src}: stop trials whose validation lags the "
            "median, after warm-up reports"),
        Key("objectives", [{"metric": metric, "direction": direction}], metric_why),
        Key("n_trials", profile["n_trials"],
            f"{src} (seed 004: 10-20 to prototype)" if c.mode == "local" else
            f"{src} (seed 004: 200+ for a shared study); the total across machines and "
            "restarts"),
    ]
    if c.mode == "cluster":
        out += [
            Key("study_name", c.name, "every machine joins the study by this name"),
            Note("One study, many machines: give every machine the same storage, e.g."),
            Note("  storage: postgresql://USER:PASSWORD@HOST:5432/specc"),
            Note("or `specc run FILE --storage URL`; without it the study is a SQLite file in "
                 "runs/<name>/ on this machine."),
            Key("parallel", 1, "one trial at a time per machine: a trial holds all its "
                "GPUs (profile `distributed` runs 4 workers on one machine)"),
            Key("keep_best_n", 3, "checkpointing: keep the adapters of the best 3 trials "
                "(seed 003 save_total_limit 3)"),
            Key("max_failed_trials", 10, "a broken node or setting stops the study instead "
                "of burning the budget"),
        ]
    space = search_space(c)
    out.append(Key("search_space", Block.of(Key(p, d, why) for p, (d, why) in space.items()),
                   "dotted paths into this spec"))
    return out

