"""Find a model's shape without loading it: built-in, local `config.json`, or the table."""

from __future__ import annotations

import functools
import json
import os
import stat

from specc.spec.catalog.architectures import (
    Architecture,
    architecture_from_config,
    lookup_architecture,
)
from specc.spec.sources import allowed_roots, inside
from specc.spec.stages import resolve_model


def _configs(model_name: str, spec_file: str) -> list[str]:
    candidates = [model_name]
    if spec_file and not os.path.isabs(os.path.expanduser(model_name)):
        candidates.insert(0, os.path.join(os.path.dirname(spec_file), model_name))
    return [os.path.join(os.path.expanduser(c), "config.json") for c in candidates]


def architecture_for(model_name: str, spec_file: str = "") -> Architecture | None:
    """The architecture of ``model_name``, read offline; None when unknown.

    A local ``config.json`` is read only inside the spec's project root (or a ``--root``
    folder): one elsewhere is never opened (:func:`outside_root` says so)."""
    roots = allowed_roots(spec_file or ".")
    ref = resolve_model(model_name, os.path.dirname(spec_file) if spec_file else ".")
    if ref.kind == "adapter" and ref.base is not None and ref.base != model_name:
        return architecture_for(ref.base, spec_file)  # a previous stage's adapter: its base
    if ref.model_dir is not None and ref.run is not None:
        model_name = ref.model_dir  # a previous run's best saved model
    for cfg in _configs(model_name, spec_file):
        try:
            st = os.stat(cfg)
        except (OSError, ValueError):
            continue
        if not stat.S_ISREG(st.st_mode) or not inside(cfg, roots):
            break
        return _from_config_file(cfg, st.st_mtime_ns)
    return lookup_architecture(model_name)


def outside_root(model_name: str, spec_file: str = "") -> str | None:
    """The local model folder whose ``config.json`` validate did not read because it is
    outside the project root, or None."""
    roots = allowed_roots(spec_file or ".")
    for cfg in _configs(model_name, spec_file):
        if os.path.lexists(cfg):
            return None if inside(cfg, roots) else os.path.dirname(cfg)
    return None


@functools.lru_cache(maxsize=64)
def _from_config_file(path: str, mtime: int) -> Architecture | None:
    """Parsed once per file version: every search-space point asks for the shape twice."""
    try:
        if os.path.getsize(path) > 4 * 1024 * 1024:  # a config.json is a few KB
            return None
        with open(path, encoding="utf-8") as f:
            config = json.load(f)
    except (OSError, ValueError):
        return None
    return architecture_from_config(config) if isinstance(config, dict) else None
