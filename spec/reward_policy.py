"""Which code a reward function name may import: the policy `validate` reports and `run`
enforces.

A reward function is one of

* ``specc.rewards:NAME``: a built-in;
* ``MODULE:NAME``: a module installed in the environment (found on ``sys.path`` without the
  working directory or the spec's folder), never a standard-library or built-in module;
* ``./FILE.py:NAME`` (or ``sub/FILE.py:NAME``): a Python file inside the project root
  (:mod:`specc.spec.project_root`), named relative to the spec, loaded by its path.

Nothing here imports or runs the code it judges: modules are located with
:class:`importlib.machinery.PathFinder`, which reads folders only.
"""

from __future__ import annotations

import os
import re
import sys
import sysconfig
from importlib.machinery import PathFinder
from typing import Literal

from specc.spec.builtins import REWARD_MODULE
from specc.spec.project_root import inside
from specc.spec.records import record

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_DOTTED = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*\Z")

Kind = Literal["builtin", "file", "module"]


@record(frozen=True)
class RewardRef:
    """A reward function name, read."""

    kind: Kind
    #: the module name (builtin, module) or the file as written (file)
    target: str
    function: str


def is_file_ref(name: str) -> bool:
    """Whether ``name`` names a file (``./rewards.py:score``) rather than a module."""
    target = name.rpartition(":")[0]
    return target.endswith(".py") or "/" in target or "\\" in target


def parse_ref(name: str) -> RewardRef | None:
    """The reference ``name`` makes, or None when it is not ``module:function`` or
    ``path/file.py:function``."""
    if "\x00" in name:
        return None
    if is_file_ref(name):
        target, sep, func = name.rpartition(":")
        if not sep or not target.endswith(".py") or not _IDENT.match(func):
            return None
        return RewardRef("file", target, func)
    target, sep, func = name.partition(":")
    if not sep or not _DOTTED.match(target) or not _IDENT.match(func):
        return None
    return RewardRef("builtin" if target == REWARD_MODULE else "module", target, func)


def stdlib_module(module: str) -> bool:
    """Whether ``module`` (dotted) belongs to the standard library or is built in."""
    top = module.split(".", 1)[0]
    return top in sys.stdlib_module_names or top in sys.builtin_module_names


def file_path(ref: RewardRef, spec_dir: str) -> str:
    """The absolute path a file reference names (relative to the spec's folder)."""
    return os.path.normpath(os.path.join(spec_dir, os.path.expanduser(ref.target)))


def untrusted_dirs(spec_dir: str) -> list[str]:
    """Folders a module is never imported from: the working directory, the spec's."""
    return [os.path.realpath(p) for p in (os.getcwd(), spec_dir)]


def installed_path(spec_dir: str) -> list[str]:
    """``sys.path`` without the working directory, the spec's folder and ``''``."""
    bad = set(untrusted_dirs(spec_dir))
    return [p for p in sys.path if p not in ("", ".") and os.path.realpath(p) not in bad]


def _stdlib_dirs() -> list[str]:
    paths = sysconfig.get_paths()
    return [os.path.realpath(paths[k]) for k in ("stdlib", "platstdlib") if k in paths]


def _site_dirs() -> list[str]:
    paths = sysconfig.get_paths()
    return [os.path.realpath(paths[k]) for k in ("purelib", "platlib") if k in paths]


def in_stdlib_dir(origin: str) -> bool:
    """Whether the file ``origin`` lies in the standard library's folders (and not in
    site-packages, which sits inside them on some layouts)."""
    if any(inside(origin, d) for d in _site_dirs()):
        return False
    return any(inside(origin, d) for d in _stdlib_dirs())


def locate_module(module: str, spec_dir: str) -> str | None:
    """Where the top-level package of ``module`` would be imported from (its file or
    folder), searching only the installed path and the finders of editable installs;
    None when it is not installed. Nothing is imported."""
    top = module.split(".", 1)[0]
    found = PathFinder.find_spec(top, installed_path(spec_dir))
    if found is None:  # an editable install's finder (`pip install -e .`) maps names itself
        for finder in sys.meta_path:
            if finder is PathFinder or not hasattr(finder, "find_spec"):
                continue
            try:
                found = finder.find_spec(top, None)
            except Exception:
                continue
            if found is not None:
                break
    if found is None:
        return None
    if found.origin and found.origin not in ("built-in", "frozen", "namespace"):
        return found.origin
    locations = list(found.submodule_search_locations or [])
    return locations[0] if locations else None


def shadowing_file(module: str, spec_dir: str) -> str | None:
    """A file or package in the working directory or the spec's folder that a plain
    import of ``module`` would have found (and that specc never imports)."""
    top = module.split(".", 1)[0]
    for d in untrusted_dirs(spec_dir):
        for cand in (os.path.join(d, f"{top}.py"), os.path.join(d, top)):
            if os.path.exists(cand):
                return cand
    return None
