"""Rules over a validated spec. Each rule adds diagnostics to the context's collector."""

from __future__ import annotations

from collections.abc import Callable

from specc.spec.rules import (
    advice,
    algorithm,
    backend,
    batch,
    effects,
    hardware,
    honoured,
    names,
    optim,
    parallel,
    rewards,
    runs,
)
from specc.spec.rules.context import Context

Rule = Callable[[Context], None]

#: Every rule, in the order they run. Point-sensitive rules check search-space points too.
RULES: tuple[Rule, ...] = (
    algorithm.check,
    names.check,
    rewards.check,
    batch.check,
    hardware.check,
    parallel.check,
    optim.check,
    effects.check,
    runs.check,
    honoured.check,
    backend.check,
    advice.check,
)


def run_rules(ctx: Context) -> None:
    for rule in RULES:
        rule(ctx)


__all__ = ["RULES", "Context", "Rule", "run_rules"]
