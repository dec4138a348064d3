"""Assemble a scaffold: the header, then the blocks in reading order (`hpo` last)."""

from __future__ import annotations

import re
import textwrap

from specc.spec import presets
from specc.spec.facts import GENERATES
from specc.spec.scaffold.blocks import (
    algorithm_block,
    data_block,
    hardware_block,
    loss_fn_block,
    policy_block,
    reward_block,
)
from specc.spec.scaffold.hardware import HardwareName
from specc.spec.scaffold.search import hpo_block, search_space
from specc.spec.scaffold.tables import (
    ALGORITHMS_INFO,
    RUNNABLE,
    Choice,
    ModeName,
    choose,
)
from specc.spec.scaffold.text import Block, Entry, Key, Note, dump

SCHEMA_FILE = "spec.schema.json"


def scaffold(algorithm: str, hardware: HardwareName = "cpu", mode: ModeName = "local", *,
             model: str | None = None, hpo: bool = True, file: str | None = None) -> str:
    """The commented spec text; ``file`` is the path the header's commands name."""
    c = choose(algorithm, hardware, mode, model=model, hpo=hpo)
    entries: list[Entry] = [
        Key("specc", 1, "spec format version"),
        Key("name", c.name, "names the output folder runs/<name>/ and the Optuna study"),
        Key("description", f"{_abbr(algorithm)} on {c.hw.title}, {mode} mode",
            "free text"),
        Key("algorithm", algorithm, _algorithm_why(algorithm)),
        Note(""),
        Key("policy", Block.of(policy_block(c)), "the model being trained (NeMo RL layout)"),
        Note(""),
        Key(algorithm, Block.of(algorithm_block(c)),
            f"{ALGORITHMS_INFO[algorithm].title} settings"),
    ]
    if algorithm == "grpo":
        entries += [Note(""), Key("loss_fn", Block.of(loss_fn_block()),
                                  "GRPO's KL penalty and clipping (NeMo RL layout)")]
    entries += [Note(""), Key("data", Block.of(data_block(c)), "training and validation data")]
    if algorithm in GENERATES:
        entries += [Note(""), Key("reward", Block.of(reward_block(algorithm)),
                                  "scores the generated completions")]
    entries += [Note(""), Key("hardware", Block.of(hardware_block(c)), "what every trial must fit")]
    if mode == "cluster":
        entries += [Note(""), Key("logger", Block.of([
            Key("tensorboard_enabled", True,
                "seed 002 logs every run; TensorBoard works offline (runs/<name>/trials/<n>/)"),
            Key("wandb_enabled", False, "set true to log to Weights & Biases as seed 002 does"),
        ]), "experiment logging")]
    if hpo:
        entries += [Note(""), Key("hpo", Block.of(hpo_block(c)),
                                  "the search: an Optuna study whose trials are runs")]
    return _header(c, file or f"{c.name}.yaml") + dump(entries)


def _header(c: Choice, file: str) -> str:
    algo = ALGORITHMS_INFO[c.algorithm]
    lines = [f"{algo.title} on {c.hw.title}, {c.mode} mode: a scaffold by `specc init`.",
             "", c.hw.about, c.md.about + (f", and {c.md.search}." if c.hpo else ".")]
    lines.append(_shape(c) + ("." if c.hpo else " (`specc init --hpo` adds a search)."))
    lines += ["", "Try:", "", f"    specc validate {file}   # every problem at once, with "
              "file:line:col", f"    specc plan {file}       # trials, batch numbers, memory "
              "per GPU, trainer calls", f"    specc run {file}        # "
              + ("the study: results.json and best.yaml under runs/" if c.hpo else
                 "the training run, under runs/")]
    if c.algorithm not in RUNNABLE:
        lines += ["", f"`specc run` cannot train {c.algorithm} yet (validate and plan can): "
                  "use sft, dpo, orpo, kto, grpo or rloo to run."]
    lines += ["", "Every key's comment says why it has its value (seed guides 002 GRPO "
              "configs, 003 Web4 hyperparameters, 004 HPO). For completion and docs in your "
              "editor, write the schema the next line names beside this file:", "",
              f"    specc schema --output {SCHEMA_FILE}", ""]
    out: list[str] = []
    for line in lines:
        if not line or line.startswith("    "):
            out.append(f"# {line}".rstrip())
        else:
            # spaces inside `code` do not break
            kept = re.sub(r"`[^`]*`", lambda m: m.group(0).replace(" ", "\0"), line)
            out += [f"# {p}".replace("\0", " ") for p in textwrap.wrap(kept, 96)]
    out.append(f"# yaml-language-server: $schema=./{SCHEMA_FILE}")
    return "\n".join(out) + "\n"


def _shape(c: Choice) -> str:
    if c.hpo:
        return (f"A search over {len(search_space(c))} parameters: "
                f"{presets.PROFILES[c.md.profile]['n_trials']} trials of {c.steps} steps")
    return f"One training run of {c.steps} steps"


def describe(algorithm: str, hardware: HardwareName = "cpu", mode: ModeName = "local", *,
             model: str | None = None, hpo: bool = True) -> str:
    """One line about a scaffold, for `specc init`'s report."""
    c = choose(algorithm, hardware, mode, model=model, hpo=hpo)
    return (f"{algorithm} on {c.hw.title} ({mode} mode), model {c.model}; "
            + _shape(c)[0].lower() + _shape(c)[1:])


def _abbr(algorithm: str) -> str:
    """`DPO` from "Direct Preference Optimization (DPO)"."""
    return ALGORITHMS_INFO[algorithm].title.rsplit("(", 1)[-1].rstrip(")")


def _algorithm_why(algorithm: str) -> str:
    trainer = ALGORITHMS_INFO[algorithm].trainer
    if trainer:
        return f"trained by TRL's {trainer}"
    return "planned and validated by specc; `specc run` cannot train it yet"


