"""What a study leaves in its output folder.

* ``results.json``: every trial of the study (one entry per budgeted trial: a trial whose
  worker died and was retried appears once, as its last attempt, with the earlier attempts
  listed under ``attempts``), the best trial or the Pareto front; rewritten atomically
  after every trial;
* ``best.yaml``: the complete spec with the best parameters applied and no ``hpo`` block,
  runnable as is;
* ``trials/<number>/``: ``spec.yaml`` (the resolved spec the trial ran), and the trial
  body's ``log.txt``, ``metrics.jsonl`` and, when kept, ``adapter/`` or ``model/``.
"""

from __future__ import annotations

import json
import math
import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from specc.runtime.storage import FAILED_TRIAL, RETRY_HISTORY, RETRY_REASON, WORKER
from specc.spec import keypath
from specc.spec.atomic import write_atomic

if TYPE_CHECKING:
    from optuna.trial import FrozenTrial

#: User attrs a trial carries.
REASON = "reason"
SURPLUS = "specc_surplus"
INFEASIBLE = "specc_infeasible"
REPORT_STEPS = "specc_report_steps"
#: A retried trial that resumed from a checkpoint of an earlier attempt: {step, checkpoint}.
RESUMED_FROM = "specc_resumed_from"
#: The hash of the trial's resolved spec (`specc plan`'s trial id).
TRIAL_ID = "specc_trial_id"
#: A trial whose resolved spec equals an earlier complete trial's: its number (the
#: values were copied, nothing was trained).
SAME_AS = "specc_same_as"

#: A trial a health rule stopped (PRUNED): the rule's reason; and the warnings it logged.
HEALTH, HEALTH_WARNINGS = "specc_health", "specc_health_warnings"
#: The spec hash a trial ran with (:mod:`specc.spec.study_spec`).
TRIAL_SPEC_HASH = "specc_spec_hash"
#: Study user attrs: what the study was made from.
SPEC_HASH, SPEC_KEYS, SPEC_HASHES = "specc_spec_hash", "specc_spec_keys", "specc_spec_hashes"
SPEC_NAME, ALGORITHM = "specc_spec_name", "specc_algorithm"

FINISHED = ("COMPLETE", "PRUNED", "FAIL")


def trial_dir(output: Path, number: int) -> Path:
    return output / "trials" / str(number)


def prepare(output: Path) -> None:
    """Before a study starts: temporary files of interrupted writes removed (T004 note on
    stderr) and the output paths checked (a directory where ``results.json`` or
    ``best.yaml`` goes: :class:`StorageProblem` with T005)."""
    from specc.runtime.storage_safety import StorageProblem, show
    from specc.spec.atomic import check_targets, clean_leftovers
    from specc.spec.diagnostics import Collector

    diags = Collector()
    trials = output / "trials"
    folders = [output, output / "report",
               *(sorted(p for p in trials.iterdir() if p.is_dir()) if trials.is_dir() else [])]
    clean_leftovers(folders, diags)
    if not check_targets([output / "results.json", output / "best.yaml"], diags):
        raise StorageProblem([d for d in diags if d.severity.value == "error"])
    show(diags.items)


def atomic_write(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so readers never see half a file (folders made)."""
    write_atomic(path, text, make_dirs=True)


def dump_yaml(data: Any) -> str:
    from specc.compiler.report import dump_yaml as dump

    return dump(data)


# --- the study's ledger: budgeted trials, retries, surplus ---------------------------------------

@dataclass
class Ledger:
    """The trials of a study grouped into budget slots.

    A slot is one unit of ``n_trials``: an original trial plus the retries of it (a retry
    carries ``failed_trial``, the original's number). Trials marked surplus (created by a
    worker after the budget was full) belong to no slot, nor (``infeasible_in_budget``
    False) do infeasible points: recorded, never trained, not charged to the budget."""

    slots: dict[int, list[FrozenTrial]] = field(default_factory=dict)
    surplus: list[FrozenTrial] = field(default_factory=list)
    infeasible: list[FrozenTrial] = field(default_factory=list)

    @classmethod
    def of(cls, trials: Sequence[FrozenTrial], *, infeasible_in_budget: bool = True) -> Ledger:
        led = cls()
        for t in sorted(trials, key=lambda t: t.number):
            if t.user_attrs.get(SURPLUS):
                led.surplus.append(t)
                continue
            if not infeasible_in_budget and t.user_attrs.get(INFEASIBLE):
                led.infeasible.append(t)
                continue
            root = int(t.system_attrs.get(FAILED_TRIAL, t.number))
            led.slots.setdefault(root, []).append(t)
        return led

    @property
    def used(self) -> int:
        return len(self.slots)

    def latest(self) -> list[FrozenTrial]:
        """The last attempt of every slot (may be WAITING or RUNNING)."""
        return [attempts[-1] for attempts in self.slots.values()]

    def shown(self) -> list[FrozenTrial]:
        """The attempt that stands for each slot: the last one that started."""
        out = []
        for attempts in self.slots.values():
            started = [a for a in attempts if a.state.name != "WAITING"]
            if started:
                out.append(started[-1])
        return out

    def finished(self) -> list[FrozenTrial]:
        return [t for t in self.latest() if t.state.name in FINISHED]

    def waiting(self) -> int:
        return sum(t.state.name == "WAITING" for t in self.latest())

    def complete(self) -> list[FrozenTrial]:
        return [t for t in self.latest() if t.state.name == "COMPLETE" and t.values]

    def attempts(self, trial: FrozenTrial) -> list[FrozenTrial]:
        root = int(trial.system_attrs.get(FAILED_TRIAL, trial.number))
        return [a for a in self.slots.get(root, []) if a.number != trial.number
                and a.number < trial.number]

    def counts(self) -> dict[str, int]:
        out = {"COMPLETE": 0, "PRUNED": 0, "FAIL": 0, "RUNNING": 0, "WAITING": 0}
        for t in self.latest():
            out[t.state.name] = out.get(t.state.name, 0) + 1
        return out


def reason(t: FrozenTrial, ledger: Ledger | None = None) -> str | None:
    why = t.user_attrs.get(REASON)
    if why:
        return str(why)
    if t.state.name != "FAIL":
        return None
    if ledger is not None:  # failed by a heartbeat: the retry says why
        for attempts in ledger.slots.values():
            for a in attempts:
                hist = a.system_attrs.get(RETRY_HISTORY) or []
                if hist and hist[-1] == t.number and a.system_attrs.get(RETRY_REASON):
                    return str(a.system_attrs[RETRY_REASON])
    return "worker died"


def _num(v: Any) -> float | None:
    if v is None:
        return None
    f = float(v)
    return f if math.isfinite(f) else None


def _params(t: FrozenTrial) -> dict[str, Any]:
    return dict(t.params)


def intermediate(t: FrozenTrial) -> dict[int, float]:
    """A trial's reported values by training step (studies of specc before 0.x reported
    them by index, with the steps in a user attr)."""
    steps = t.user_attrs.get(REPORT_STEPS)
    out = {}
    for i, v in sorted(t.intermediate_values.items()):
        key = steps[i] if isinstance(steps, list) and i < len(steps) else i
        out[int(key)] = float(v)
    return out


def trial_entry(t: FrozenTrial, output: Path, ledger: Ledger) -> dict[str, Any]:
    state = t.state.name
    intermediate_values = {str(k): _num(v) for k, v in intermediate(t).items()}
    duration = None
    if t.datetime_start and t.datetime_complete:
        duration = round((t.datetime_complete - t.datetime_start).total_seconds(), 3)
    entry: dict[str, Any] = {
        "number": t.number,
        "state": state,
        "params": _params(t),
        "values": [_num(v) for v in t.values] if state == "COMPLETE" and t.values else None,
        "reason": reason(t, ledger) if state in ("PRUNED", "FAIL") else None,
        "intermediate": intermediate_values,
        "duration_s": duration,
        "trial_dir": str(trial_dir(output, t.number)),
    }
    if t.user_attrs.get(INFEASIBLE):
        entry["infeasible"] = True
    if t.user_attrs.get(HEALTH_WARNINGS):
        entry["health_warnings"] = list(t.user_attrs[HEALTH_WARNINGS])
    if isinstance(t.user_attrs.get(TRIAL_SPEC_HASH), str):
        entry["spec_hash"] = t.user_attrs[TRIAL_SPEC_HASH]
    if isinstance(t.user_attrs.get(RESUMED_FROM), dict):
        entry["resumed_from_step"] = t.user_attrs[RESUMED_FROM].get("step")
    if isinstance(t.user_attrs.get("specc_pbt"), list):  # population-based training
        entry["pbt"] = list(t.user_attrs["specc_pbt"])
    if isinstance(t.user_attrs.get(SAME_AS), int):
        entry["same_as"] = t.user_attrs[SAME_AS]
    worker = t.user_attrs.get(WORKER)
    if isinstance(worker, dict) and worker.get("host"):
        entry["host"] = worker["host"]
    earlier = ledger.attempts(t)
    if earlier:
        entry["attempts"] = [{"number": a.number, "state": a.state.name,
                              "reason": reason(a, ledger)} for a in earlier]
    latest = ledger.slots.get(int(t.system_attrs.get(FAILED_TRIAL, t.number)), [t])[-1]
    if latest.state.name == "WAITING" and latest.number != t.number:
        entry["retry"] = "queued: runs on the next `specc run` of this study"
    return entry


def dominates(a: Sequence[float], b: Sequence[float], signs: Sequence[float]) -> bool:
    """Whether ``a`` is at least as good as ``b`` everywhere and better somewhere
    (``signs``: +1 minimize, -1 maximize)."""
    better = False
    for x, y, s in zip(a, b, signs, strict=True):
        if s * x > s * y:
            return False
        if s * x < s * y:
            better = True
    return better


def signs(directions: Sequence[str]) -> list[float]:
    return [1.0 if d == "minimize" else -1.0 for d in directions]


def ranked(trials: Sequence[FrozenTrial], directions: Sequence[str]) -> list[FrozenTrial]:
    """COMPLETE trials best first: by value (one objective) or by Pareto rank, then the
    first objective (several)."""
    sg = signs(directions)
    done = [t for t in trials if t.state.name == "COMPLETE" and t.values
            and all(math.isfinite(v) for v in t.values)]
    if len(directions) == 1:
        return sorted(done, key=lambda t: (sg[0] * t.values[0], t.number))
    rest, order = list(done), []
    while rest:
        front = [t for t in rest if not any(dominates(o.values, t.values, sg) for o in rest)]
        order.extend(sorted(front, key=lambda t: (sg[0] * t.values[0], t.number)))
        rest = [t for t in rest if t not in front]
    return order


def pareto(trials: Sequence[FrozenTrial], directions: Sequence[str]) -> list[FrozenTrial]:
    sg = signs(directions)
    done = ranked(trials, directions)
    return [t for t in done if not any(dominates(o.values, t.values, sg) for o in done)]


# --- results.json and best.yaml ------------------------------------------------------------------

@dataclass
class StudyInfo:
    """What the outputs need to know about the study."""

    name: str
    storage: str
    directions: list[str]
    objectives: list[str]
    budget: int
    output: Path
    single_run: bool
    #: The hash of the spec this run resumed the study with (None: not known).
    spec_hash: str | None = None
    #: Whether infeasible points take places of the budget (a grid: each point once).
    infeasible_in_budget: bool = True


def results(trials: Sequence[FrozenTrial], info: StudyInfo,
            stop_reason: str | None = None) -> dict[str, Any]:
    ledger = Ledger.of(trials, infeasible_in_budget=info.infeasible_in_budget)
    shown = sorted([*ledger.shown(), *ledger.infeasible], key=lambda t: t.number)
    entries = [trial_entry(t, info.output, ledger) for t in shown]
    counts = ledger.counts()
    if ledger.infeasible:
        counts["infeasible"] = len(ledger.infeasible)  # recorded, outside the budget
    out: dict[str, Any] = {
        "study": info.name,
        "storage": info.storage,
        "directions": list(info.directions),
        "objectives": list(info.objectives),
        "n_trials": info.budget,
        "finished": len(ledger.finished()),
        "counts": counts,
        "trials": entries,
    }
    if stop_reason:
        out["stop_reason"] = stop_reason
    by_number = {e["number"]: e for e in entries}
    complete = ledger.complete()
    if info.spec_hash is not None:
        out["spec_hash"] = info.spec_hash
        groups: dict[str, list[int]] = {}
        for e in entries:
            groups.setdefault(e.get("spec_hash") or "unknown", []).append(e["number"])
        if len(groups) > 1:  # resumed with --allow-changed: the best is the current spec's
            out["spec_hashes"] = groups
            complete = [t for t in complete
                        if t.user_attrs.get(TRIAL_SPEC_HASH) in (None, info.spec_hash)]
    best = ranked(complete, info.directions)
    if len(info.directions) == 1:
        out["best"] = _best_entry(by_number[best[0].number]) if best else None
    else:
        out["pareto"] = [_best_entry(by_number[t.number])
                         for t in pareto(complete, info.directions)]
    return out


def _best_entry(e: dict[str, Any]) -> dict[str, Any]:
    values = e["values"] or []
    return {"number": e["number"], "params": e["params"], "values": values,
            "value": values[0] if len(values) == 1 else None, "trial_dir": e["trial_dir"]}


def write_results(info: StudyInfo, data: dict[str, Any]) -> Path:
    path = info.output / "results.json"
    atomic_write(path, json.dumps(data, indent=2, default=str) + "\n")
    return path


#: Spec keys that name local files, relative to the spec's folder.
_PATH_KEYS: tuple[tuple[str, ...], ...] = (
    ("policy", "model_name"), ("policy", "tokenizer", "name"),
    *(("data", split, key) for split in ("train", "validation", "default")
       for key in ("path", "data_path")),
)


def best_spec(data: dict[str, Any], *, spec_dir: str, output: Path,
              hpo: bool) -> dict[str, Any]:
    """``data`` (a trial's resolved spec) made a standalone single run: no ``hpo``, merged
    (no ``extends``), local paths relative to ``output`` (where best.yaml lives), and for a
    search a name and output folder of its own (so running it does not resume the study)."""
    from specc.compiler.space import copy_tree

    out = {k: copy_tree(v) for k, v in data.items() if k not in ("hpo", "extends", "defaults")}
    hpo_block = data.get("hpo")
    if hpo and isinstance(hpo_block, dict) and isinstance(hpo_block.get("health"), dict):
        out["health"] = copy_tree(hpo_block["health"])  # the thresholds the trial ran with
    for keys in _PATH_KEYS:
        node = keypath.value_at(out, keys[:-1])
        if not isinstance(node, dict):
            continue
        value = node.get(keys[-1])
        if not isinstance(value, str) or value.startswith("specc:") or os.path.isabs(value):
            continue
        near = os.path.join(spec_dir, value)
        if os.path.exists(near):
            node[keys[-1]] = os.path.relpath(os.path.abspath(near), os.path.abspath(output))
    if hpo:
        out["name"] = f"{out.get('name', 'experiment')}-best"
        if out.get("output_dir"):
            out["output_dir"] = f"{out['output_dir']}/best"
    return out


def write_best(info: StudyInfo, data: dict[str, Any], number: int,
               value: Sequence[float] | None) -> Path:
    shown = ", ".join(f"{m}={v:.6g}" for m, v in zip(info.objectives, value or [],
                                                       strict=False))
    which = "The best trial" if len(info.directions) == 1 else \
        f"A Pareto-optimal trial (the best {info.objectives[0]} on the front)"
    header = (f"# {which} ({number}) of study {info.name!r}"
              + (f": {shown}" if shown else "") + ".\n"
              "# A complete spec without `hpo`: `specc run` trains it as one run.\n")
    path = info.output / "best.yaml"
    atomic_write(path, header + dump_yaml(data))
    return path


def keep_best(trials: Sequence[FrozenTrial], info: StudyInfo, n: int | None) -> list[int]:
    """Delete the saved adapters/models (``n`` set) and checkpoints of all but the best
    ``n`` trials (in this output folder; ``n`` None: checkpoints of every COMPLETE trial
    are kept); returns the numbers kept. The checkpoints of every attempt of a trial that
    is still running or waiting for a retry stay: the retry resumes from them."""
    from specc.runtime.checkpoints import remove_all

    ledger = Ledger.of(trials)
    best = ranked(ledger.complete(), info.directions)
    keep = [t.number for t in (best[:n] if n is not None else best)]
    root = info.output / "trials"
    if not root.is_dir():
        return keep
    active = {a.number for attempts in ledger.slots.values()
              if attempts[-1].state.name in ("RUNNING", "WAITING") for a in attempts}
    active |= {t.number for t in trials if t.state.name in ("RUNNING", "WAITING")}
    for d in root.iterdir():
        if not d.name.isdigit() or int(d.name) in keep or int(d.name) in active:
            continue
        remove_all(d / "hf")
        for sub in ("adapter", "model") if n is not None else ():
            if (d / sub).exists():
                shutil.rmtree(d / sub, ignore_errors=True)
    return keep

