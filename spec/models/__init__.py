"""The spec language as pydantic models, one module per block."""

import os
import sys
import types
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

_LOADER = "pydantic.plugin._loader"


class _NoPlugins(types.ModuleType):
    """Stands in for pydantic's plugin loader while specc's models are built: no plugins.
    The real loader imports ``importlib.metadata`` (a tenth of a cold ``specc validate``)
    and scans every installed distribution's entry points; no plugin has business with the
    spec's models. Anything else asked of it comes from the real module."""

    @staticmethod
    def get_plugins() -> tuple[()]:
        return ()

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):  # the import system's questions (`__path__`, ...)
            raise AttributeError(name)
        import importlib

        sys.modules.pop(_LOADER, None)
        try:
            return getattr(importlib.import_module(_LOADER), name)
        finally:
            sys.modules[_LOADER] = self


@contextmanager
def _without_pydantic_plugins() -> Iterator[None]:
    """Build specc's own models without pydantic plugins. The environment and the real
    loader are left as they were, so the user's own models still see their plugins."""
    key = "PYDANTIC_DISABLE_PLUGINS"
    before = os.environ.get(key)
    stub = _LOADER not in sys.modules
    if before is None:
        os.environ[key] = "__all__"
    if stub:
        sys.modules[_LOADER] = _NoPlugins(_LOADER)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(key, None)
        if stub and isinstance(sys.modules.get(_LOADER), _NoPlugins):
            del sys.modules[_LOADER]


with _without_pydantic_plugins():
    from specc.spec.models.algorithms import ALGORITHM_BLOCKS, Algorithm
    from specc.spec.models.root import Spec

__all__ = ["ALGORITHM_BLOCKS", "Algorithm", "Spec"]
