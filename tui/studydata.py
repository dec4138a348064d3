"""Read an Optuna study's trials from its storage, read-only, for the study screen.

Never writes: SQLite files are opened with ``mode=ro``, no tables are created, and a
missing file or journal is reported instead of being created. Optuna is imported here
lazily, in the thread that reads, so the app starts without it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from specc.spec.storage_url import is_journal, open_read_only, public_url

#: Names the runner writes (``specc.runtime.outputs``; not imported: the TUI never loads
#: the runtime).
REASON = "reason"
SURPLUS = "specc_surplus"
REPORT_STEPS = "specc_report_steps"
STATES = ("COMPLETE", "PRUNED", "FAIL", "RUNNING", "WAITING")


class StudyUnavailable(Exception):
    """The storage or the study is not there (yet); the message says which."""


@dataclass(frozen=True)
class TrialRow:
    """One trial as the study screen shows it."""

    number: int
    state: str
    values: tuple[float | None, ...] | None
    params: dict[str, Any]
    duration_s: float | None
    reason: str | None
    intermediate: tuple[tuple[int, float], ...]  # (training step, value)
    started: datetime | None = None


@dataclass(frozen=True)
class StudySnapshot:
    """A study as read at one moment."""

    name: str
    storage: str
    directions: tuple[str, ...]
    metrics: tuple[str, ...]
    trials: tuple[TrialRow, ...]
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def best(self) -> list[TrialRow]:
        """The best complete trial (single objective), or the Pareto front."""
        done = [t for t in self.trials if t.state == "COMPLETE" and t.values
                and all(v is not None for v in t.values)]
        if not done:
            return []
        signs = [1.0 if d == "minimize" else -1.0 for d in self.directions]
        if len(signs) == 1:
            return [min(done, key=lambda t: signs[0] * (t.values or (0.0,))[0]  # type: ignore[operator]
                        )]
        return [t for t in done if not any(_dominates(o, t, signs) for o in done if o is not t)]


def _dominates(a: TrialRow, b: TrialRow, signs: list[float]) -> bool:
    av, bv = a.values or (), b.values or ()
    pairs = [(s * x, s * y) for s, x, y in zip(signs, av, bv, strict=False)
             if x is not None and y is not None]
    return all(x <= y for x, y in pairs) and any(x < y for x, y in pairs)


def default_storage(output_dir: str) -> str:
    """Where `specc run` keeps a study by default: its journal if there is one, else the
    SQLite file."""
    journal = Path(output_dir) / "study.journal"
    if journal.exists():
        return str(journal)
    return f"sqlite:///{Path(output_dir) / 'study.db'}"


def _num(v: Any) -> float | None:
    if v is None:
        return None
    f = float(v)
    return f if math.isfinite(f) else None


def _row(t: Any) -> TrialRow:
    state = t.state.name
    steps = t.user_attrs.get(REPORT_STEPS) or []
    inter: list[tuple[int, float]] = []
    for i, v in sorted(t.intermediate_values.items()):
        value = _num(v)
        if value is None:
            continue
        step = steps[i] if isinstance(steps, list) and 0 <= i < len(steps) else i
        inter.append((int(step), value))
    reason = t.user_attrs.get(REASON)
    if state == "FAIL" and not reason:
        reason = "worker died (no reason recorded)"
    duration = None
    if t.datetime_start and t.datetime_complete:
        duration = (t.datetime_complete - t.datetime_start).total_seconds()
    values = tuple(_num(v) for v in t.values) if state == "COMPLETE" and t.values else None
    return TrialRow(t.number, state, values, dict(t.params), duration,
                    str(reason) if reason and state != "COMPLETE" else None, tuple(inter),
                    t.datetime_start)


class StudyReader:
    """Reads one study again and again; keeps the storage open between reads (a journal
    is then replayed incrementally)."""

    def __init__(self, storage: str, study: str | None, *, pick_only_study: bool = False):
        self.url = storage
        self.study = study
        self.pick_only_study = pick_only_study
        self._storage: Any = None

    def _open(self) -> Any:
        if self._storage is not None:
            return self._storage
        import optuna  # lazily, in the reading thread

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        try:  # a short wait for a writer: the screen reads again in 2 s
            self._storage = open_read_only(self.url, timeout=1.0)
        except FileNotFoundError as e:
            kind = "journal" if is_journal(self.url) else "database"
            raise StudyUnavailable(f"no study {kind} at {e} yet (`specc run FILE` creates "
                                   "it)") from None
        return self._storage

    def read(self) -> StudySnapshot:
        """The study now. Raises :class:`StudyUnavailable` when it is not there, and
        passes on storage errors ("database is locked"): the caller retries later."""
        storage = self._open()
        try:
            names = [s.study_name for s in storage.get_all_studies()]
        except Exception as e:
            if "no such table" in str(e):
                raise StudyUnavailable(f"no study in {public_url(self.url)} yet") from None
            raise
        name = self.study
        if name not in names:
            if self.pick_only_study and len(names) == 1:
                name = names[0]
            else:
                known = f" (it has: {', '.join(names)})" if names else ""
                raise StudyUnavailable(f"no study named {name!r} in {public_url(self.url)} "
                                       f"yet{known}")
        assert name is not None
        sid = storage.get_study_id_from_name(name)
        directions = tuple(d.name.lower() for d in storage.get_study_directions(sid))
        metrics = storage.get_study_system_attrs(sid).get("study:metric_names") or []
        rows = tuple(_row(t) for t in storage.get_all_trials(sid, deepcopy=False)
                     if not t.user_attrs.get(SURPLUS))
        counts = dict.fromkeys(STATES, 0)
        for r in rows:
            counts[r.state] = counts.get(r.state, 0) + 1
        return StudySnapshot(name, public_url(self.url), directions, tuple(str(m) for m in metrics),
                             rows, counts)

    def close(self) -> None:
        storage, self._storage = self._storage, None
        engine = getattr(storage, "engine", None)
        if engine is not None:
            engine.dispose()
