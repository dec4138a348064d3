"""Resolve `reward.functions` to callables for TRL (run time only; validate never does)."""

from __future__ import annotations

import functools
import importlib
import os
import sys
from collections.abc import Callable
from typing import Any

from specc.errors import SpeccError
from specc.spec.builtins import REWARD_MODULE
from specc.spec.models.data import Reward


class RewardError(SpeccError):
    """A reward function that cannot be imported; the message is the failure reason."""


def resolve(reward: Reward | None, spec_dir: str) -> list[Callable[..., Any]]:
    """Callables in spec order; weights go to TRL's `reward_weights`."""
    if reward is None:
        return []
    return [_one(f.name, f.kwargs, spec_dir) for f in reward.functions]


def _one(name: str, kwargs: dict[str, Any], spec_dir: str) -> Callable[..., Any]:
    module_name, _, func_name = name.partition(":")
    if module_name == REWARD_MODULE:
        from specc import rewards

        fn = getattr(rewards, func_name, None)
    else:
        fn = _import_user(module_name, func_name, spec_dir)
    if not callable(fn):
        raise RewardError(f"reward {name} is not a function")
    if not kwargs:
        return fn  # type: ignore[no-any-return]
    bound = functools.partial(fn, **kwargs)

    def with_kwargs(*args: Any, **kw: Any) -> Any:
        return bound(*args, **kw)

    with_kwargs.__name__ = func_name
    return with_kwargs


def _import_user(module_name: str, func_name: str, spec_dir: str) -> Any:
    """Import `module:function` from the working directory, the spec's folder, or an
    installed package."""
    added = [p for p in (os.getcwd(), spec_dir) if p and p not in sys.path]
    sys.path[:0] = added
    try:
        module = importlib.import_module(module_name)
    except Exception as e:
        raise RewardError(f"cannot import reward module {module_name}: "
                          f"{type(e).__name__}: {e}") from e
    finally:
        for p in added:
            if p in sys.path:
                sys.path.remove(p)
    if not hasattr(module, func_name):
        raise RewardError(f"{module_name} has no function {func_name}")
    return getattr(module, func_name)
