"""Shared machinery of the dialects: build new spec text and carry the user's locations.

Every rewritten key keeps the location of the key or value it came from, so a later
diagnostic (a schema error, a batch rule, a search-space rule) points at the line the
user wrote, not at specc's rewrite.
"""

from __future__ import annotations

import copy
from typing import Any

from specc.spec import keypath
from specc.spec.locations import Loc, Locations, Path


class Writer:
    """Builds one new block (``root``, e.g. ``hpo``) and carries locations from an old one
    (``old``, e.g. ``optimization``)."""

    def __init__(self, locs: Locations, old: Path, root: Path = ("hpo",)) -> None:
        self.locs = locs
        self.old = old
        self.root = root
        self.values: dict[Path, Loc] = {}
        self.keys: dict[Path, Loc] = {}

    def carry(self, new: Path, old: Path, *, key_from: Path | None = None) -> None:
        """``root`` + ``new`` gets the locations of ``old`` (relative to the old block)."""
        src = (*self.old, *old)
        v = self.locs.values.get(src) or self.locs.keys.get(src)
        k = self.locs.keys.get((*self.old, *key_from) if key_from is not None else src) or v
        if v is not None:
            self.values[(*self.root, *new)] = v
        if k is not None:
            self.keys[(*self.root, *new)] = k

    def subtree(self, new: Path, old: Path) -> None:
        """Carry every location under ``old`` to the same relative place under ``new``."""
        src = (*self.old, *old)
        n = len(src)
        for table, mine in ((self.locs.values, self.values), (self.locs.keys, self.keys)):
            for p, loc in table.items():
                if p[:n] == src:
                    mine[(*self.root, *new, *p[n:])] = loc


class Tree:
    """A whole new spec tree built from a file in another layout (seed 002, TRL CLI).

    ``put`` sets a value at a dotted spec path and records where it came from; ``commit``
    swaps the new tree and its locations in for the old ones.
    """

    def __init__(self, locs: Locations, file: str) -> None:
        self.locs = locs
        self.file = file
        self.data: dict[str, Any] = {}
        self.values: dict[Path, Loc] = {}
        self.keys: dict[Path, Loc] = {}

    def where(self, old: Path) -> Loc:
        """The location of an old key (its key, else its value, else the file's start)."""
        return (self.locs.keys.get(old) or self.locs.values.get(old)
                or self.locs.values.get(()) or Loc(self.file, 1, 1))

    def has(self, new: Path) -> bool:
        return keypath.has(self.data, new)

    def get(self, new: Path, default: Any = None) -> Any:
        return keypath.value_at(self.data, new, default)

    def put(self, new: Path, value: Any, old: Path | None, *, subtree: bool = False) -> None:
        """Set ``new`` to ``value``, located at ``old`` (a path in the user's file; None:
        the file's start). Mappings on the way are created and located at ``old`` too
        unless an earlier value already placed them. ``subtree`` carries the locations of
        everything under ``old`` to the same place under ``new``. Not `keypath.set_value`:
        a scalar on the way is replaced by a mapping, and each new mapping is located."""
        node = self.data
        for i, part in enumerate(new[:-1]):
            nxt = node.get(str(part))
            if not isinstance(nxt, dict):
                nxt = {}
                node[str(part)] = nxt
                self._locate(new[: i + 1], old)
            node = nxt
        node[str(new[-1])] = copy.deepcopy(value)
        self._locate(new, old, force=True)
        if subtree and old is not None:
            n = len(old)
            for table, mine in ((self.locs.values, self.values), (self.locs.keys, self.keys)):
                for p, loc in table.items():
                    if p[:n] == old and len(p) > n:
                        mine[(*new, *p[n:])] = loc

    def locate(self, new: Path, old: Path | None) -> None:
        """Give ``new`` (e.g. a list item) the location of ``old``."""
        self._locate(new, old, force=True)

    def _locate(self, new: Path, old: Path | None, *, force: bool = False) -> None:
        if not force and new in self.values:
            return
        if old is None:
            loc = self.locs.values.get(()) or Loc(self.file, 1, 1)
            self.values[new] = self.keys[new] = loc
            return
        v = self.locs.values.get(old) or self.locs.keys.get(old)
        k = self.locs.keys.get(old) or v
        if v is not None:
            self.values[new] = v
        if k is not None:
            self.keys[new] = k

    def commit(self, data: dict[str, Any], locs: Locations, order: tuple[str, ...] = ()) -> None:
        """Replace ``data`` and ``locs`` (in place) with the new tree, its top-level keys
        in ``order`` (others after, as built)."""
        root = locs.values.get(())
        rank = {k: i for i, k in enumerate(order)}
        keys = sorted(self.data, key=lambda k: rank.get(k, len(rank)))
        data.clear()
        data.update((k, self.data[k]) for k in keys)
        locs.values.clear()
        locs.keys.clear()
        if root is not None:
            locs.values[()] = root
        locs.values.update(self.values)
        locs.keys.update(self.keys)


def remove(data: dict[str, Any], locs: Locations, name: str) -> None:
    del data[name]
    forget(locs, (name,))


def forget(locs: Locations, path: Path) -> None:
    locs.drop_subtree(path)
    locs.values.pop(path, None)
    locs.keys.pop(path, None)


def replace(data: dict[str, Any], name: str, new_name: str, block: dict[str, Any]) -> None:
    """Put ``block`` as ``new_name`` where ``name`` was, keeping the order of the others."""
    items = [((new_name, block) if k == name else (k, v)) for k, v in data.items()]
    data.clear()
    data.update(items)
