"""What both report.html and summary.md say about a study: its settings, counts, the
reasons trials were pruned or failed, values as printed."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from optuna.trial import FrozenTrial

    from specc.runtime.report.data import StudyData


def describe_distribution(d: Any) -> str:
    """A search dimension as the report prints it."""
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    if isinstance(d, CategoricalDistribution):
        return "categorical " + ", ".join(map(str, d.choices))
    if isinstance(d, FloatDistribution | IntDistribution):
        kind = "int" if isinstance(d, IntDistribution) else "float"
        extra = " log" if d.log else (f" step {d.step}" if d.step not in (None, 1) else "")
        return f"{kind} [{d.low:g}, {d.high:g}]{extra}"
    return type(d).__name__


def search_space(trials: list[FrozenTrial]) -> dict[str, str]:
    out: dict[str, str] = {}
    for t in trials:
        for k, d in t.distributions.items():
            out.setdefault(k, describe_distribution(d))
    return out


def relpath(path: Path, start: Path) -> str:
    try:
        return os.path.relpath(path, start)
    except ValueError:
        return str(path)


def fmt(v: Any) -> str:
    """A value as the report prints it (floats to 6 significant digits)."""
    if isinstance(v, float):
        return f"{v:.6g}"
    return str(v)


def _flow(block: Any) -> str:
    if not isinstance(block, dict):
        return fmt(block)
    kind = block.get("type")
    rest = ", ".join(f"{k} {fmt(v)}" for k, v in block.items() if k != "type" and v is not None)
    return f"{kind}" + (f" ({rest})" if rest else "") if kind else rest


def settings(data: StudyData) -> list[tuple[str, str]]:
    """The study's settings, as (label, text) rows."""
    rows = [("study", data.name), ("storage", data.url),
            ("objectives", ", ".join(f"{m} ({d})" for m, d in
                                     zip(data.objectives, data.directions, strict=True)))]
    meta = data.spec_meta
    if meta:
        rows.append(("spec", ", ".join(f"{k} {v}" for k, v in meta.items())))
    if data.hpo.get("sampler") is not None:
        rows.append(("sampler", _flow(data.hpo["sampler"])))
    if data.hpo.get("pruner") is not None:
        rows.append(("pruner", _flow(data.hpo["pruner"])))
    versions = data.spec_versions()
    if len(versions) > 1:  # `--allow-changed`: trials of different specs, kept apart
        rows.append(("spec versions", "; ".join(
            f"{h}: trial{'s' if len(ns) > 1 else ''} {', '.join(map(str, ns))}"
            for h, ns in versions.items())))
    finished = len(data.ledger.finished())
    rows.append(("trials", f"{finished} finished" + (f" of a budget of {data.budget}"
                                                     if data.budget else "")))
    if data.hpo.get("timeout"):
        rows.append(("timeout", fmt(data.hpo["timeout"])))
    return rows


def status(data: StudyData) -> tuple[str, str]:
    """The study's state in a word (``running``, ``finished``, ``stopped``, ``idle``: none
    running, no budget known) and a line: how far its budget got and why it stopped."""
    c = data.ledger.counts()
    finished = len(data.ledger.finished())
    of = f" of {data.budget}" if data.budget else ""
    if c.get("RUNNING"):
        return "running", f"{finished}{of} trials finished, {c['RUNNING']} running"
    if data.budget and finished >= data.budget:
        return "finished", f"all {data.budget} trials finished"
    if data.budget:
        line = f"{finished}{of} trials finished"
        if data.stop_reason and data.stop_reason != "interrupted":
            return "stopped", f"{line} ({data.stop_reason})"
        return "stopped", f"{line}: the same `specc run` command resumes it"
    return "idle", f"{finished} trials finished, none running (no `specc run` budget known)"


def counts_text(data: StudyData) -> str:
    c = data.ledger.counts()
    names = {"COMPLETE": "complete", "PRUNED": "pruned", "FAIL": "failed",
             "RUNNING": "running", "WAITING": "waiting"}
    text = ", ".join(f"{c.get(s, 0)} {n}" for s, n in names.items()
                     if c.get(s, 0) or s in ("COMPLETE", "PRUNED", "FAIL"))
    retried = len(data.trials) - len(data.ledger.latest())
    if retried:
        text += f"; plus {retried} earlier attempt(s) whose worker died or was interrupted, " \
                "retried with the same parameters"
    return text


def reasons(data: StudyData) -> list[tuple[str, str, list[int]]]:
    """(state, reason, trial numbers) for every pruned or failed trial, grouped."""
    groups: dict[tuple[str, str], list[int]] = {}
    for t in data.trials:
        why = data.reason(t)
        if t.state.name in ("PRUNED", "FAIL"):
            state = "pruned" if t.state.name == "PRUNED" else "failed"
            groups.setdefault((state, why or "no reason recorded"), []).append(t.number)
    return [(s, r, ns) for (s, r), ns in sorted(groups.items(), key=lambda kv: kv[1][0])]


def values_text(data: StudyData, t: FrozenTrial) -> str:
    return ", ".join(f"{m} = {fmt(v)}" for m, v in zip(data.objectives, t.values or [],
                                                        strict=False))


def duration(t: FrozenTrial) -> str:
    if t.datetime_start and t.datetime_complete:
        return f"{(t.datetime_complete - t.datetime_start).total_seconds():.1f} s"
    return ""
