"""Check one spec at the spec layer: load, schema, rules. No estimates, no imports of
anything heavy; the compiler adds memory and search-space feasibility on top."""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError

from specc.spec import keypath
from specc.spec.diagnostics import Collector
from specc.spec.loader import Loaded, load, parse_override_path
from specc.spec.locations import Path
from specc.spec.models import Spec
from specc.spec.nemo.walk import Walked, walk
from specc.spec.records import record
from specc.spec.rules import Context, run_rules, search_space
from specc.spec.schema_check import data_path, validate_model
from specc.spec.yamlio import MAX_BYTES

#: Rule families whose results depend on many fields at once; after a repair they could
#: be computed from defaults that stand in for the user's invalid values, so they wait.
_WHOLE_SPEC_FAMILIES = ("B", "M", "H008", "H009")


@record
class Checked:
    """A loaded spec and, when it passed the schema, its model.

    ``repaired`` is True when the schema failed and the rules ran on a copy with the
    invalid values removed (so one run still reports every problem).
    """

    loaded: Loaded
    spec: Spec | None
    repaired: bool = False
    #: The keys checked against NeMo RL's declaration, and which algorithm it is.
    nemo: Walked | None = None


def check_file(
    file: str,
    diags: Collector,
    *,
    overrides: list[str] | None = None,
    text: str | None = None,
    max_bytes: int | None = None,
    root: str | Sequence[str] | None = None,
) -> Checked:
    """Load ``file`` and run the schema and every spec-layer rule on it."""
    loaded = load(file, diags, overrides=overrides, text=text,
                  max_bytes=MAX_BYTES if max_bytes is None else max_bytes, root=root)
    if loaded.data is None:
        return Checked(loaded, None)
    sub = diags.scoped(loaded.locations, file)
    nemo = walk(loaded.data, sub, Spec)
    if nemo.nemo_only and "policy" not in loaded.data:
        # a NeMo RL config without a policy (eval): NeMo RL's schema is all there is
        walk_only(nemo, sub)
        return Checked(loaded, None, nemo=nemo)
    broken = loaded.broken | set(nemo.env)
    model = validate_model(_without(loaded.data, nemo.hidden, nemo.ints), sub, broken=broken,
                           extra_keys=nemo.extra_keys)
    if isinstance(model, Spec):
        _rules(model, loaded.data, sub, file, nemo)
        return Checked(loaded, model, nemo=nemo)
    repaired = _repair(_without(loaded.data, nemo.hidden, nemo.ints))
    if repaired is None:
        return Checked(loaded, None, nemo=nemo)
    spec, data, removed = repaired
    scratch = Collector(locations=loaded.locations, default_file=file)
    _rules(spec, data, scratch, file, nemo)
    # Removing an unknown key changes nothing else; removing an invalid value leaves a
    # default in its place, so rules about its block (and whole-spec rules) stay quiet.
    # Rules about a removed value's siblings may have read the stand-in default.
    parents = {p[:-1] for p in removed}
    for d in scratch:
        if removed and d.code.startswith(_WHOLE_SPEC_FAMILIES):
            continue
        path = parse_override_path(d.path) if d.path else ()
        if path is not None and path[:-1] in parents:
            continue
        sub.extend([d])
    return Checked(loaded, None, repaired=True, nemo=nemo)


def _without(data: dict[str, Any], paths: list[Path], ints: list[Path]) -> dict[str, Any]:
    """``data`` without ``paths`` and with the floats at ``ints`` as ints (copied along
    those paths only; ``data`` is not changed). Not `keypath.set_value`: each mapping or
    list on the way is copied, not written in place."""
    if not paths and not ints:
        return data
    out = dict(data)
    for path, drop in [(p, True) for p in paths] + [(p, False) for p in ints]:
        node: Any = out
        for part in path[:-1]:
            child = node[part] if isinstance(node, dict) and part in node else \
                node[part] if isinstance(node, list) and isinstance(part, int) \
                and part < len(node) else None
            if not isinstance(child, dict | list):
                break
            node[part] = dict(child) if isinstance(child, dict) else list(child)
            node = node[part]
        else:
            last = path[-1]
            if drop and isinstance(node, dict):
                node.pop(last, None)
            elif not drop and isinstance(node, dict | list):
                with contextlib.suppress(KeyError, IndexError, TypeError, ValueError,
                                         OverflowError):
                    node[last] = int(node[last])  # type: ignore[index]
    return out


def walk_only(nemo: Walked, diags: Collector) -> None:
    """The info a NeMo-only document gets when specc's rules do not run on it."""
    from specc.spec.rules.effects import nemo_notes

    nemo_notes(nemo, diags)


def _rules(spec: Spec, data: dict[str, Any], diags: Collector, file: str,
           nemo: Walked | None = None) -> None:
    ctx = Context(spec=spec, data=data, diags=diags, file=file, nemo=nemo)
    run_rules(ctx)
    search_space.check(ctx)


def _repair(data: dict[str, Any], rounds: int = 4) -> tuple[Spec, dict[str, Any], set[Path]] | None:
    """Remove invalid values until the schema passes (or give up)."""
    work = copy.deepcopy(data)
    removed: set[Path] = set()
    for _ in range(rounds):
        try:
            return Spec.model_validate(work), work, removed
        except ValidationError as exc:
            progress = False
            for err in exc.errors(include_url=False):
                path = data_path(work, tuple(err["loc"]), err["type"])
                if err["type"] == "missing" or not path:
                    continue
                if keypath.delete(work, path):  # a list item becomes None: indices stay
                    if err["type"] != "extra_forbidden":
                        removed.add(path)
                    progress = True
            if not progress:
                return None
    return None
