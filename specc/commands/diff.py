"""`specc diff A B`: the semantic difference of two resolved specs (see
:mod:`specc.spec.semdiff`)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from specc.spec.semdiff import Change, SemDiff

DESCRIPTION = """\
Compare two specs after resolving both (extends/defaults, `${...}`, presets and profiles,
seed dialects) and filling every default from the schema. Only values count: key order,
comments, formatting, quoting, `1e-4` vs `0.0001`, and a default written out vs left out
are not differences. Changed, added and removed key paths are listed with the old and new
value and the file:line each side writes them at; the `hpo` block (the search) is listed
apart from the training settings.

A and B may each be:
  FILE                  a spec file (YAML), e.g. examples/dpo.yaml or runs/x/best.yaml
  RUNDIR/trials/<n>     a trial of a `specc run` output folder (its spec.yaml)
  RUNDIR#<n>            the same trial, shorter
  RUNDIR                a run folder: its best.yaml

Exit 0: no semantic difference; 1: the specs differ (like diff(1)); 2: usage error, or a
side cannot be read or resolved into a spec (its YAML, extends, interpolation or schema
errors are printed). Rule findings (batch arithmetic, memory, ...) do not stop a diff:
`specc validate` judges them."""


def register(sub: Any) -> None:
    p = sub.add_parser("diff", help="semantic difference of two specs, trials or runs",
                       description=DESCRIPTION,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("a", metavar="A", help="spec file, RUNDIR/trials/<n>, RUNDIR#<n> or RUNDIR")
    p.add_argument("b", metavar="B", help="the same forms as A")
    p.add_argument("--format", choices=("text", "json"), default="text",
                   help="output format (default: text)")
    p.add_argument("--all", action="store_true",
                   help="also list the paths that are equal, and every `hpo` key when only "
                   "one side has a search")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from specc.spec.diagnostics import Collector, ExitCode
    from specc.spec.render import render
    from specc.spec.semdiff import resolve_side, semantic_diff

    diags = Collector()
    a = resolve_side(args.a, diags)
    b = resolve_side(args.b, diags)
    if a is None or b is None:
        texts = {**(a.loaded.texts if a else {}), **(b.loaded.texts if b else {})}
        if not texts:
            from specc.spec.loader import source_texts
            from specc.spec.semdiff import spec_file

            for arg in (args.a, args.b):
                f = spec_file(arg, Collector())
                if f is not None:
                    texts.update(source_texts(f))
        render("text", diags.sorted(), texts, [args.a, args.b], sys.stderr)
        return int(ExitCode.USAGE)
    result = semantic_diff(a, b, include_same=args.all)
    if args.format == "json":
        sys.stdout.write(json.dumps(_as_json(result), indent=2, default=str) + "\n")
    else:
        sys.stdout.write(_as_text(result, show_all=args.all))
    return int(ExitCode.OK if result.identical else ExitCode.ERRORS)


def _as_json(d: SemDiff) -> dict[str, Any]:
    return {"a": d.a.file, "b": d.b.file, "identical": d.identical, "counts": d.counts(),
            "settings": [c.to_dict() for c in d.settings],
            "hpo": {"only_in": d.hpo_only_in, "changes": [c.to_dict() for c in d.hpo]}}


def _fmt(v: Any) -> str:
    from specc.commands.explain import fmt

    text = fmt(v)
    return text if len(text) <= 60 else text[:57] + "..."


_MARK = {"changed": "~", "added": "+", "removed": "-", "same": "="}


def _line(c: Change) -> str:
    from specc.spec.diagnostics import dotted

    if c.kind == "changed":
        body = f"{_fmt(c.old)} -> {_fmt(c.new)}"
    elif c.kind == "added":
        body = _fmt(c.new)
    else:
        body = _fmt(c.old)
    where = [f"{side}: {w}" for side, w in (("a", c.a), ("b", c.b)) if w is not None]
    tail = f"  ({', '.join(where)})" if where else ""
    return f"  {_MARK[c.kind]} {dotted(c.path)}: {body}{tail}"


def _as_text(d: SemDiff, *, show_all: bool) -> str:
    out = [f"--- a: {d.a.label}" + (f" ({d.a.file})" if d.a.file != d.a.label else ""),
           f"+++ b: {d.b.label}" + (f" ({d.b.file})" if d.b.file != d.b.label else "")]
    if d.identical:
        out.append("no semantic difference")
        if show_all:
            out += [_line(c) for c in [*d.settings, *d.hpo]]
        return "\n".join(out) + "\n"
    if d.settings:
        out.append("training settings:")
        out += [_line(c) for c in d.settings]
    if d.hpo_only_in is not None and not show_all:
        keys = sum(c.kind != "same" for c in d.hpo)
        other = "b" if d.hpo_only_in == "a" else "a"
        out.append(f"hpo (the search): only {d.hpo_only_in} has an `hpo` block ({keys} "
                   f"settings; {other} is a single run); --all lists them")
    elif d.hpo:
        out.append("hpo (the search):")
        out += [_line(c) for c in d.hpo]
    counts = d.counts()
    out.append(", ".join(f"{n} {k}" for k, n in counts.items()))
    return "\n".join(out) + "\n"
