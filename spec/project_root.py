"""The project root of a spec: the folder specc reads and imports from, and nothing above.

The rule: the nearest folder holding the spec (the spec's own folder first, then each
parent) that has a ``.git``, a ``pyproject.toml`` or a ``.specc`` marker; when no ancestor
has one, the spec's own folder. ``--root DIR`` widens it explicitly: the root is then the
nearest common folder of the two (``DIR`` usually holds the spec already).

Text and ``os.path`` work only: nothing is read, opened or imported.
"""

from __future__ import annotations

import os

#: Names whose presence marks a folder as a project root.
MARKERS = (".git", "pyproject.toml", ".specc")


def find_root(spec_file: str, extra: str | None = None) -> str:
    """The project root of ``spec_file`` (an absolute, symlink-resolved folder), widened to
    take in ``extra`` (``--root DIR``) when given."""
    root = walk_up(os.path.dirname(os.path.realpath(spec_file)))
    if extra:
        wide = os.path.realpath(extra)
        root = os.path.commonpath([root, wide]) if not inside(root, wide) else wide
    return root


def walk_up(folder: str) -> str:
    """The nearest of ``folder`` (resolved) and its parents that holds a marker, else
    ``folder`` itself: the one walk both the reward policy and the loader's confinement
    (:func:`specc.spec.sources.project_root`) use."""
    start = os.path.realpath(folder)
    here = start
    while True:
        if any(os.path.lexists(os.path.join(here, m)) for m in MARKERS):
            return here
        parent = os.path.dirname(here)
        if parent == here:
            return start
        here = parent


def inside(path: str, root: str) -> bool:
    """Whether ``path`` (resolved: symlinks followed) lies in ``root`` or is it."""
    real, base = os.path.realpath(path), os.path.realpath(root)
    return real == base or real.startswith(base.rstrip(os.sep) + os.sep)


def shown(path: str) -> str:
    """``path`` as a diagnostic prints it: ``./rel`` when it lies in the working folder
    (so the same message reads the same on every machine and checkout), else absolute."""
    here = os.getcwd()
    if not inside(path, here):
        return path
    rel = os.path.relpath(os.path.realpath(path), os.path.realpath(here))
    return "./" if rel == "." else "./" + rel.replace(os.sep, "/")
