"""Find a model's shape without loading it: built-in, local `config.json`, or the table."""

from __future__ import annotations

import functools
import json
import os

from specc.spec.catalog.architectures import (
    Architecture,
    architecture_from_config,
    lookup_architecture,
)


def architecture_for(model_name: str, spec_file: str = "") -> Architecture | None:
    """The architecture of ``model_name``, read offline; None when unknown."""
    candidates = [model_name]
    if spec_file and not os.path.isabs(os.path.expanduser(model_name)):
        candidates.insert(0, os.path.join(os.path.dirname(spec_file), model_name))
    for cand in candidates:
        cfg = os.path.join(os.path.expanduser(cand), "config.json")
        try:
            mtime = os.stat(cfg).st_mtime_ns
        except (OSError, ValueError):
            continue
        return _from_config_file(cfg, mtime)
    return lookup_architecture(model_name)


@functools.lru_cache(maxsize=64)
def _from_config_file(path: str, mtime: int) -> Architecture | None:
    """Parsed once per file version: every search-space point asks for the shape twice."""
    try:
        with open(path, encoding="utf-8") as f:
            config = json.load(f)
    except (OSError, ValueError):
        return None
    return architecture_from_config(config) if isinstance(config, dict) else None
