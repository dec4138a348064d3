"""What `specc report` reads: a study, read-only, and the run folder beside it.

A study is found from a `specc run` output folder (its ``study.journal`` or ``study.db``,
else the database ``results.json`` names) or from a storage URL. Storages are opened
read-only: SQLite with ``mode=ro``, no tables created, a missing file reported rather than
created. The trials are copied once into an in-memory Optuna study (a consistent snapshot
of a study that may still be running, with intermediate values keyed by training step),
which the charts are drawn from.
"""

from __future__ import annotations

import contextlib
import copy
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from specc.errors import SpeccError
from specc.runtime.outputs import (
    REPORT_STEPS,
    SURPLUS,
    TRIAL_SPEC_HASH,
    Ledger,
    pareto,
    ranked,
    reason,
)
from specc.runtime.storage import StorageError, check_url, display, quiet_optuna
from specc.spec import storage_url
from specc.spec.storage_url import local_file

if TYPE_CHECKING:
    import optuna
    from optuna.trial import FrozenTrial


class ReportError(SpeccError, ValueError):
    """The study cannot be reported as asked (missing folder, no such study, no trials)."""


@dataclass(frozen=True)
class Source:
    """Where the study is: its storage URL, its name (None: the only one), the run folder."""

    url: str
    study: str | None
    run_dir: Path | None


@dataclass
class StudyData:
    """One study as read at one moment, with what the report shows about it."""

    name: str
    url: str
    directions: list[str]
    objectives: list[str]
    trials: list[FrozenTrial]  # every attempt, surplus trials excluded
    snapshot: optuna.Study  # in-memory copy the charts draw from
    ledger: Ledger
    run_dir: Path | None
    hpo: dict[str, Any] = field(default_factory=dict)
    spec_meta: dict[str, Any] = field(default_factory=dict)
    budget: int | None = None
    stop_reason: str | None = None  # results.json's: why the last `specc run` stopped

    @property
    def multi(self) -> bool:
        return len(self.directions) > 1

    def best(self) -> list[FrozenTrial]:
        """The best complete trial, or the Pareto set (several objectives)."""
        done = self.ledger.complete()
        if self.multi:
            return pareto(done, self.directions)
        return ranked(done, self.directions)[:1]

    def reason(self, t: FrozenTrial) -> str | None:
        return reason(t, self.ledger) if t.state.name in ("PRUNED", "FAIL") else None

    def spec_versions(self) -> dict[str, list[int]]:
        """Trial numbers by the hash of the spec each trained under (``specc run
        --allow-changed`` adds trials of a changed spec to a study), in order of first use;
        trials from before hashes were recorded are under ``unknown``."""
        groups: dict[str, list[int]] = {}
        for t in sorted(self.trials, key=lambda t: t.number):
            h = t.user_attrs.get(TRIAL_SPEC_HASH)
            groups.setdefault(str(h)[:12] if h else "unknown", []).append(t.number)
        return groups

    def spec_version(self, t: FrozenTrial) -> str:
        h = t.user_attrs.get(TRIAL_SPEC_HASH)
        return str(h)[:12] if h else "unknown"

    def spec_of(self, number: int) -> tuple[Path, str] | None:
        """The spec trial ``number`` ran: ``best.yaml`` when it is that trial's (runnable as
        is), else ``trials/<n>/spec.yaml``; None when neither is there."""
        if self.run_dir is None:
            return None
        best = self.run_dir / "best.yaml"
        with contextlib.suppress(OSError, UnicodeDecodeError):
            text = best.read_text(encoding="utf-8")
            m = re.search(r"\((\d+)\) of study '([^']*)'", text.splitlines()[0] if text else "")
            if m and int(m.group(1)) == number and m.group(2) == self.name:
                return best, text
        path = self.run_dir / "trials" / str(number) / "spec.yaml"
        with contextlib.suppress(OSError, UnicodeDecodeError):
            return path, path.read_text(encoding="utf-8")
        return None


# --- finding the study ---------------------------------------------------------------------------

def _results(run_dir: Path) -> dict[str, Any]:
    try:
        data = json.loads((run_dir / "results.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _reachable(url: str) -> bool:
    """A database URL, or a study file that is there (a relative path in results.json is
    relative to where `specc run` ran)."""
    local = local_file(url)
    return local is None or local.is_file()


def resolve(run_dir: str | None, storage: str | None, study: str | None) -> Source:
    """The study to report: from a run folder, a storage URL, or both (a folder whose study
    lives in a database)."""
    folder: Path | None = None
    if run_dir is not None:
        folder = Path(run_dir)
        if not folder.is_dir():
            raise ReportError(f"no such folder: {run_dir}")
    if storage is None:
        if folder is None:
            raise ReportError("give a `specc run` output folder, or --storage URL")
        results = _results(folder)
        if (folder / "study.journal").exists():
            storage = str(folder / "study.journal")
        elif (folder / "study.db").exists():
            storage = f"sqlite:///{folder / 'study.db'}"
        elif isinstance(results.get("storage"), str) and "***" not in results["storage"] \
                and _reachable(results["storage"]):
            storage = results["storage"]  # a study in a database or elsewhere, outputs here
        else:
            raise ReportError(
                f"no study in {run_dir}: it has no study.db or study.journal (`specc run` "
                "writes them); for a study kept in a database, pass --storage URL")
        study = study or results.get("study")
    else:
        try:
            check_url(storage, 1)
        except StorageError as e:
            raise ReportError(str(e)) from None
        local = local_file(storage)
        if folder is None and local is not None and (local.parent / "results.json").exists():
            folder = local.parent  # the run folder the storage file lives in
    return Source(storage, study, folder)


# --- reading it ----------------------------------------------------------------------------------

def open_read_only(url: str) -> optuna.storages.BaseStorage:
    """An Optuna storage for ``url`` that never creates or changes anything."""
    try:
        storage: optuna.storages.BaseStorage = storage_url.open_read_only(url, timeout=10)
        return storage
    except FileNotFoundError as e:
        raise ReportError(f"no study storage at {e}") from None
    except ImportError as e:
        raise ReportError(f"cannot open {display(url)}: {e}") from None
    except Exception as e:  # unreachable database, bad URL, not a database
        raise ReportError(f"cannot open storage {display(url)}: {_first_line(e)}") from None


def _first_line(e: BaseException) -> str:
    """The first line of the innermost cause (Optuna wraps SQLAlchemy's errors in its
    own, which say only that a commit failed)."""
    while e.__cause__ is not None:
        e = e.__cause__
    text = str(e).strip()
    return text.splitlines()[0] if text else type(e).__name__


def _study_name(storage: Any, source: Source) -> str:
    try:
        names = [s.study_name for s in storage.get_all_studies()]
    except Exception as e:
        if "no such table" in str(e):
            names = []
        else:
            raise ReportError(f"cannot read {display(source.url)}: {_first_line(e)}") from None
    where = display(source.url)
    if not names:
        raise ReportError(f"no study in {where}")
    if source.study is None:
        if len(names) > 1:
            raise ReportError(f"{where} holds {len(names)} studies: pick one with --study "
                              f"NAME ({', '.join(sorted(names))})")
        return str(names[0])
    if source.study not in names:
        raise ReportError(f"no study named {source.study!r} in {where} "
                          f"(it has: {', '.join(sorted(names))})")
    return source.study


def _spec_settings(run_dir: Path | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """The ``hpo`` block and a few identifying keys of the spec the trials ran (from the
    first ``trials/<n>/spec.yaml``; written by specc, read with a safe loader)."""
    if run_dir is None or not (run_dir / "trials").is_dir():
        return {}, {}
    from ruamel.yaml import YAML

    specs = sorted((p for p in (run_dir / "trials").glob("*/spec.yaml")
                    if p.parent.name.isdigit()), key=lambda p: int(p.parent.name))
    for path in specs:
        try:
            data = YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8"))
        except Exception:
            continue
        if isinstance(data, dict):
            hpo: dict[str, Any] = data["hpo"] if isinstance(data.get("hpo"), dict) else {}
            policy: dict[str, Any] = data["policy"] if isinstance(data.get("policy"),
                                                                   dict) else {}
            meta = {"name": data.get("name"), "algorithm": data.get("algorithm"),
                    "model": policy.get("model_name")}
            return hpo, {k: v for k, v in meta.items() if v is not None}
    return {}, {}


def _objectives(storage: Any, sid: int, results: dict[str, Any], hpo: dict[str, Any],
                n: int) -> list[str]:
    names = storage.get_study_system_attrs(sid).get("study:metric_names")
    if not names and isinstance(results.get("objectives"), list):
        names = results["objectives"]
    if not names and isinstance(hpo.get("objectives"), list):
        names = [o.get("metric") for o in hpo["objectives"] if isinstance(o, dict)]
    if not isinstance(names, list) or len(names) != n or not all(names):
        names = ["objective"] if n == 1 else [f"objective {i}" for i in range(n)]
    return [str(x) for x in names]


def snapshot(trials: list[FrozenTrial], directions: list[str],
             objectives: list[str]) -> optuna.Study:
    """An in-memory study holding copies of ``trials`` (same numbers), intermediate values
    keyed by the training step they were reported at."""
    import optuna

    study = optuna.create_study(directions=[
        optuna.study.StudyDirection.MINIMIZE if d == "minimize"
        else optuna.study.StudyDirection.MAXIMIZE for d in directions])
    study.set_metric_names(objectives)
    for t in trials:
        c = copy.deepcopy(t)
        steps = t.user_attrs.get(REPORT_STEPS)
        if isinstance(steps, list) and len(steps) >= len(c.intermediate_values):
            c.intermediate_values = {int(steps[i]) if 0 <= i < len(steps) else i: v
                                     for i, v in sorted(c.intermediate_values.items())}
        study.add_trial(c)
    return study


def load(source: Source, say: Callable[[str], None] | None = None) -> StudyData:
    """Read the study of ``source``; :class:`ReportError` when it is not there or empty."""
    with quiet_optuna():
        storage = open_read_only(source.url)
        try:
            name = _study_name(storage, source)
            if say:
                say(f"reading study {name!r} from {display(source.url)}")
            sid = storage.get_study_id_from_name(name)
            directions = [d.name.lower() for d in storage.get_study_directions(sid)]
            every = storage.get_all_trials(sid, deepcopy=False)
            results = _results(source.run_dir) if source.run_dir else {}
            # a folder whose results.json is another study's says nothing about this one
            own = results.get("study") in (None, name)
            run_dir, results = (source.run_dir, results) if own else (None, {})
            hpo, meta = _spec_settings(run_dir)
            objectives = _objectives(storage, sid, results, hpo, len(directions))
        except ReportError:
            raise
        except Exception as e:
            raise ReportError(f"cannot read {display(source.url)}: {_first_line(e)}") from None
        finally:
            engine = getattr(storage, "engine", None)
            if engine is not None:
                engine.dispose()
        if not every:
            raise ReportError(f"study {name!r} in {display(source.url)} has no trials yet")
        # surplus trials never ran; keep them in the snapshot only so numbers stay the same
        study = snapshot(list(every), directions, objectives)
    trials = [t for t in every if not t.user_attrs.get(SURPLUS)]
    budget = results.get("n_trials") if isinstance(results.get("n_trials"), int) else \
        hpo.get("n_trials") if isinstance(hpo.get("n_trials"), int) else None
    return StudyData(name=name, url=display(source.url), directions=directions,
                     objectives=objectives, trials=trials, snapshot=study,
                     ledger=Ledger.of(trials), run_dir=run_dir, hpo=hpo,
                     spec_meta=meta, budget=budget,
                     stop_reason=results.get("stop_reason") if isinstance(
                         results.get("stop_reason"), str) else None)
