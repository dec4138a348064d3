"""Resolve `reward.functions` to callables for TRL (run time only; validate never does).

The import policy is :mod:`specc.spec.reward_policy`'s: built-ins, installed modules (never
from the working directory or the spec's folder: those are taken off ``sys.path`` while
importing), or a ``./file.py`` inside the project root, loaded by its path. Standard-library
and built-in callables are refused, also when an allowed module merely re-exports one.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import importlib.util
import inspect
import os
import sys
import types
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from specc.errors import SpeccError
from specc.spec.models.data import Reward
from specc.spec.project_root import find_root, inside
from specc.spec.reward_policy import (
    RewardRef,
    file_path,
    in_stdlib_dir,
    installed_path,
    locate_module,
    parse_ref,
    stdlib_module,
)


class RewardError(SpeccError):
    """A reward function that cannot be imported; the message is the failure reason."""


def resolve(reward: Reward | None, spec_dir: str, *,
            root: str | None = None) -> list[Callable[..., Any]]:
    """Callables in spec order; weights go to TRL's `reward_weights`. ``root`` is the
    project root (default: the one of a spec in ``spec_dir``)."""
    if reward is None:
        return []
    base = root or find_root(os.path.join(spec_dir, "spec.yaml"))
    return [_one(f.name, f.kwargs, spec_dir, base) for f in reward.functions]


def _one(name: str, kwargs: dict[str, Any], spec_dir: str, root: str) -> Callable[..., Any]:
    ref = parse_ref(name)
    if ref is None:
        raise RewardError(f"reward {name} is not `module:function` or `./file.py:function`")
    if ref.kind == "builtin":
        from specc import rewards

        fn = getattr(rewards, ref.function, None)
    else:
        module = _load_file(ref, spec_dir, root) if ref.kind == "file" \
            else _import_installed(ref, spec_dir)
        if not hasattr(module, ref.function):
            raise RewardError(f"{ref.target} has no function {ref.function}")
        fn = getattr(module, ref.function)
        _refuse_stdlib_callable(name, fn)
    if not callable(fn):
        raise RewardError(f"reward {name} is not a function")
    if not kwargs:
        return fn  # type: ignore[no-any-return]
    bound = functools.partial(fn, **kwargs)

    def with_kwargs(*args: Any, **kw: Any) -> Any:
        return bound(*args, **kw)

    with_kwargs.__name__ = ref.function
    return with_kwargs


def _load_file(ref: RewardRef, spec_dir: str, root: str) -> types.ModuleType:
    """Load ``./file.py`` by its path (no folder goes on ``sys.path``)."""
    path = file_path(ref, spec_dir)
    if not inside(path, root):
        raise RewardError(f"reward file {ref.target} is outside the project root {root}")
    if not os.path.isfile(path):
        raise RewardError(f"reward file {path} does not exist")
    digest = hashlib.sha256(os.path.realpath(path).encode()).hexdigest()[:12]
    mod_name = f"specc_reward_{os.path.splitext(os.path.basename(path))[0]}_{digest}"
    if mod_name in sys.modules:
        return sys.modules[mod_name]
    spec = importlib.util.spec_from_file_location(mod_name, path)
    if spec is None or spec.loader is None:
        raise RewardError(f"cannot load reward file {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[mod_name] = module
    try:
        with _installed_only(spec_dir):
            spec.loader.exec_module(module)
    except Exception as e:
        sys.modules.pop(mod_name, None)
        raise RewardError(f"cannot load reward file {path}: {type(e).__name__}: {e}") from e
    return module


def _import_installed(ref: RewardRef, spec_dir: str) -> types.ModuleType:
    if stdlib_module(ref.target):
        raise RewardError(f"reward module {ref.target} is in the standard library")
    origin = locate_module(ref.target, spec_dir)
    if origin is None:
        raise RewardError(f"reward module {ref.target} is not installed (specc never "
                          "imports from the working directory or the spec's folder; name a "
                          "file as `./file.py:function`)")
    if in_stdlib_dir(origin):
        raise RewardError(f"reward module {ref.target} is in the standard library ({origin})")
    try:
        with _installed_only(spec_dir):
            return importlib.import_module(ref.target)
    except Exception as e:
        raise RewardError(f"cannot import reward module {ref.target}: "
                          f"{type(e).__name__}: {e}") from e


@contextmanager
def _installed_only(spec_dir: str) -> Iterator[None]:
    """``sys.path`` without the working directory and the spec's folder while user code
    is imported (its own imports included)."""
    saved = list(sys.path)
    sys.path[:] = installed_path(spec_dir)
    try:
        yield
    finally:
        sys.path[:] = saved


def _refuse_stdlib_callable(name: str, fn: Any) -> None:
    """A standard-library or built-in function re-exported under an allowed name
    (``from os import system as score``) is refused too."""
    target = inspect.unwrap(fn) if callable(fn) else fn
    if isinstance(target, functools.partial):
        target = target.func
    module = getattr(target, "__module__", None)
    if isinstance(target, (types.BuiltinFunctionType, types.BuiltinMethodType)) and not module:
        raise RewardError(f"reward {name} is a built-in function ({target!r}), not reward code")
    if module and stdlib_module(module):
        raise RewardError(f"reward {name} resolves to {module}.{getattr(target, '__name__', '?')}"
                          ", a standard-library function")
