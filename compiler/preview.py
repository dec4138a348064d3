"""The points `specc plan` previews: drawn by the sampler `specc run` builds, with the
same seed, in the same order, so a plan shows the trials a run trains.

A sampler that learns from results (TPE, GP, CMA-ES, NSGA-II) draws its first
``n_startup_trials`` points (NSGA-II: its first generation) without them: those match the
run exactly, later ones are marked model-based (the run's depend on its results).
Optuna is imported here lazily; without it the preview falls back to specc's own seeded
draw (marked ``"drawn_by": "specc"``).
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator
from typing import TYPE_CHECKING

from specc.compiler import space
from specc.errors import SpeccError
from specc.spec.records import record

if TYPE_CHECKING:
    from specc.spec.models.hpo import Hpo

__all__ = ["Preview", "preview_points"]


@record(frozen=True)
class Preview:
    points: list[space.Point]
    #: Points from this index on depend on results in a run (None: none do).
    model_based_from: int | None
    #: "optuna" (the run's sampler) or "specc" (a fallback draw without Optuna).
    drawn_by: str
    #: Whether the spec sets `hpo.sampler.seed` (without one a run draws other points;
    #: the preview uses seed 0).
    seeded: bool


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    import optuna

    level = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        optuna.logging.set_verbosity(level)


def preview_points(hpo: Hpo, n: int) -> Preview:
    """The first ``n`` points of the study `specc run` would start for ``hpo``."""
    from specc.compiler.sampling import startup_trials

    dims = dict(hpo.search_space)
    seed = hpo.sampler.seed
    seeded = seed is not None
    try:
        import optuna
    except ImportError:
        return Preview(space.sample_points(dims, n, seed), None, "specc", seeded)
    from specc.compiler.sampling import build_sampler, grid_space, ordered_dims, suggest

    try:
        grid = grid_space(dims) if hpo.sampler.type == "grid" else None
        # a fresh study in one local worker: the run uses the spec's seed as it is
        sampler = build_sampler(hpo, seed if seeded else 0, grid)
    except SpeccError:
        return Preview(space.sample_points(dims, n, seed), None, "specc", seeded)
    import optuna

    ordered = ordered_dims(dims)
    points: list[space.Point] = []
    with _quiet():
        study = optuna.create_study(sampler=sampler,
                                    directions=[o.direction for o in hpo.objectives])
        for _ in range(n):
            trial = study.ask()
            points.append(suggest(trial, ordered))
    startup = startup_trials(hpo)
    return Preview(points, startup if startup is not None and startup < n else None,
                   "optuna", seeded)


def preview_size(hpo: Hpo, preview: int | None, default: int) -> int:
    """How many points plan shows: ``--preview N``, else the whole budget of a grid, else
    ``default`` (at most the study's budget)."""
    grid = space.grid_size(dict(hpo.search_space)) if hpo.sampler.type == "grid" else None
    budget = min(hpo.n_trials, grid) if grid is not None else hpo.n_trials
    if preview is not None:
        return min(preview, budget) if grid is not None else preview
    return budget if grid is not None else min(budget, default)


