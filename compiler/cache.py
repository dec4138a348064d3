"""Where specc keeps materialised built-ins (the tiny model) on this machine."""

from __future__ import annotations

import os
from pathlib import Path

from specc.spec.builtins import BUILTIN_PREFIX


def cache_dir() -> Path:
    """`$SPECC_CACHE`, else `$XDG_CACHE_HOME/specc`, else `~/.cache/specc`."""
    if os.environ.get("SPECC_CACHE"):
        return Path(os.environ["SPECC_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "specc"


def builtin_model_dir(name: str) -> Path:
    """The folder a built-in model is materialised into (`specc:tiny-llama` ->
    `<cache>/models/tiny-llama`)."""
    return cache_dir() / "models" / name.removeprefix(BUILTIN_PREFIX)
