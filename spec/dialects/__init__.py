"""Configs written in other layouts, read as ordinary spec text before the schema sees them.

* seed 000/001's search blocks (`optimization:`, `hyperparameter_optimization:`) become
  `hpo` (:mod:`.seed_hpo`, R031);
* seed 002's GRPO layout (`mode`, `output_dir`, `training:`, `grpo:` with TRL names) and
  TRL CLI configs (flat `ScriptArguments` + `ModelConfig` + trainer-config fields) become
  a whole spec (:mod:`.seed002`, :mod:`.trl_cli`, R035), their fields checked against the
  installed TRL's declarations recorded in `spec/catalog/trl_fields.py`.

Every rewritten key keeps the location the user wrote it at. `-o` overrides of a
whole-file layout use specc's paths and apply after the rewrite (see
:func:`rewrites_whole_file`); `specc plan --show-spec` prints the rewrite.
"""

from __future__ import annotations

from typing import Any

from specc.spec.diagnostics import Collector
from specc.spec.dialects.seed_hpo import (
    DIALECTS,
    KL_PATHS,
    NAMES,
    SAMPLERS,
    UNMAPPABLE,
    algorithm_of,
    normalise_hpo,
    spec_path,
)
from specc.spec.locations import Locations, Path

__all__ = ["DIALECTS", "KL_PATHS", "NAMES", "SAMPLERS", "UNMAPPABLE", "algorithm_of",
           "layout", "normalise", "override_algorithm", "rewrites_whole_file", "spec_path"]


def layout(data: dict[str, Any]) -> str | None:
    """`seed002`, `trl_cli`, or None (specc's own layout)."""
    if "policy" in data:  # specc's own: neither layout has one (their tables load lazily)
        return None
    from specc.spec.dialects import seed002, trl_cli

    if seed002.detect(data):
        return "seed002"
    if trl_cli.detect(data):
        return "trl_cli"
    return None


def rewrites_whole_file(data: dict[str, Any]) -> bool:
    """Whether ``data`` is in a layout rewritten as a whole (overrides apply after)."""
    return layout(data) is not None


def override_algorithm(overrides: list[str] | None) -> str | None:
    """The last `-o algorithm=...` value, which picks a TRL config's trainer."""
    found = None
    for ov in overrides or []:
        key, sep, value = ov.partition("=")
        if sep and key.strip() == "algorithm" and value.strip():
            found = value.strip().strip("'\"")
    return found


def normalise(data: dict[str, Any], locs: Locations, diags: Collector, file: str = "", *,
              algorithm: str | None = None) -> set[Path]:
    """Rewrite every other layout in ``data`` into spec text, in place. ``algorithm``
    (from `-o algorithm=...`) picks the trainer of a TRL CLI config. Returns the spec
    paths whose problems the rewrite already reported in the user's terms."""
    kind = layout(data)
    reported: set[Path] = set()
    if kind == "seed002":
        from specc.spec.dialects import seed002

        reported = seed002.normalise(data, locs, diags, file, algorithm)
    elif kind == "trl_cli":
        from specc.spec.dialects import trl_cli

        reported = trl_cli.normalise(data, locs, diags, file, algorithm)
    normalise_hpo(data, locs, diags, file)
    return reported
