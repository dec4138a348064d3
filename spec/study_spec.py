"""What a study was made from: the resolved spec outside its searched dimensions, its hash,
and the keys two such specs differ in (T006 when a study is resumed with another spec).

A study's trials are comparable only when everything but their parameters is the same.
`specc run` records the hashed tree in the study (user attrs) when it creates it, and a
later run of another spec against the same study is refused, naming the changed keys.
What cannot change a trial's result is left out: the study's budget and bookkeeping
(`hpo.n_trials`, `timeout`, `storage`, `parallel`, sampler and pruner, ...), names, the
output folder, tracking (`logger`) and checkpointing.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import Any

from specc.spec.diagnostics import Collector, Diagnostic
from specc.spec.locations import Locations

#: Root keys that do not change what a trial trains.
_IGNORED_ROOT = frozenset({"name", "description", "output_dir", "extends", "defaults",
                           "logger", "checkpointing", "specc", "layout"})
#: The `hpo` keys that do (the others are budget and bookkeeping).
_HPO_KEPT = ("preset", "objectives", "evaluation", "health", "search_space")


def flatten(tree: Any, prefix: str = "") -> dict[str, Any]:
    """Dotted paths to leaf values (list items by index; empty containers kept)."""
    if isinstance(tree, dict) and tree:
        out: dict[str, Any] = {}
        for k, v in tree.items():
            out.update(flatten(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    if isinstance(tree, list) and tree and any(isinstance(v, dict | list) for v in tree):
        out = {}
        for i, v in enumerate(tree):
            out.update(flatten(v, f"{prefix}.{i}" if prefix else str(i)))
        return out
    return {prefix: tree}


def study_keys(raw: dict[str, Any], searched: Iterable[str]) -> dict[str, Any]:
    """The flattened spec a study stands for: ``raw`` (the merged tree, before any point is
    applied) without the searched paths and what cannot change a trial's result."""
    body = {k: v for k, v in raw.items() if k not in _IGNORED_ROOT and k != "hpo"}
    hpo = raw.get("hpo")
    if isinstance(hpo, dict):
        kept = {k: hpo[k] for k in _HPO_KEPT if k in hpo}
        if kept:
            body["hpo"] = kept
    flat = flatten(body)
    dims = list(searched)
    return {k: _plain(v) for k, v in sorted(flat.items())
            if not any(k == d or k.startswith(d + ".") for d in dims)}


def _plain(v: Any) -> Any:
    """A JSON value (what a study's user attr stores)."""
    return json.loads(json.dumps(v, default=str))


def spec_hash(keys: dict[str, Any]) -> str:
    text = json.dumps(keys, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def changed(old: dict[str, Any], new: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    """(key, value in ``old``, value in ``new``) for every key that differs (a missing key
    is None)."""
    out = []
    for k in sorted(set(old) | set(new)):
        a, b = old.get(k), new.get(k)
        if a != b:
            out.append((k, a, b))
    return out


def _shown(v: Any) -> str:
    return "(unset)" if v is None else json.dumps(v, default=str)


def refusal(study: str, diffs: list[tuple[str, Any, Any]], file: str,
            locations: Locations | None, *, new_name: str) -> list[Diagnostic]:
    """T006 at the first changed key: the study was made from another spec."""
    diags = Collector(locations=locations, default_file=file)
    shown = ", ".join(f"`{k}` {_shown(a)} -> {_shown(b)}" for k, a, b in diffs[:6])
    more = f" and {len(diffs) - 6} more" if len(diffs) > 6 else ""
    at = next((tuple(k.split(".")) for k, _, b in diffs if b is not None), ())
    path = tuple(int(p) if p.isdigit() else p for p in at)
    diags.add("T006", f"study {study!r} was made from another spec: {shown}{more}; its "
              "trials would not be comparable with the new ones", path=path, on_key=True,
              line=None if path else 1, column=None if path else 1,
              hint=f"--new-study starts a fresh study ({new_name}) beside it; "
              "--allow-changed adds the new trials to this study, each recording its spec "
              "hash so results.json keeps them apart; or undo the change")
    return diags.items
