"""`specc explain FILE PATH`: where the resolved value at PATH came from.

The spec layer (:mod:`specc.spec.provenance`) says where: the file and line, the
`extends` chain, overrides, presets, dialects, `${...}` sources, schema defaults. The
compiler (:mod:`specc.compiler.downstream`) says what it becomes in the trainer call.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from specc.spec.provenance import Explanation, Origin, Site

DESCRIPTION = """\
Show where the value at PATH of the resolved spec came from: the file, line and source
line that wrote it; for a value inherited through `extends`/`defaults`, the chain of files
and every parent value it replaced; a command-line override (`<override N>`); an entry
added by `hpo.preset`/`hpo.profile`; a seed-dialect block rewritten into `hpo` (R031);
a `${...}` interpolation with the source of each reference, recursively; or the schema
default with the key's documentation. It also says whether `hpo.search_space` searches the
key, and which TRL/PEFT fields it becomes in the trainer call. For a mapping, each leaf is
listed with its origin.

FILE may also be a trial of a run (`RUNDIR/trials/<n>` or `RUNDIR#<n>`) or a run folder
(its best.yaml), as for `specc diff`. PATH is dotted: `policy.optimizer.kwargs.lr`,
`policy.scheduler[0].kwargs.start_factor` (or `.0.`),
`hpo.search_space["policy.optimizer.kwargs.lr"].low`.

Exit 0: explained; 1: no such key (S001, with "did you mean"); 2: usage error, or the file
cannot be read or parsed."""

#: Mappings with more leaves than this skip the "becomes" lookup (one lowering per leaf).
MAX_LOWERED_LEAVES = 80


def register(sub: Any) -> None:
    p = sub.add_parser("explain", help="show where a spec value came from",
                       description=DESCRIPTION,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("file", metavar="FILE", help="spec file (YAML), RUNDIR/trials/<n>, "
                   "RUNDIR#<n> or RUNDIR")
    p.add_argument("path", metavar="PATH", help="dotted key path, e.g. policy.optimizer.kwargs.lr")
    p.add_argument("-o", "--override", action="append", default=[], metavar="PATH=VALUE",
                   help="apply a command-line override first (as `specc validate -o`); "
                   "repeatable")
    p.add_argument("--format", choices=("text", "json"), default="text",
                   help="output format (default: text)")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from specc.compiler.downstream import lowered_fields
    from specc.spec.diagnostics import Collector, ExitCode
    from specc.spec.loader import load
    from specc.spec.models import Spec
    from specc.spec.provenance import Provenance, parse_path
    from specc.spec.render import render
    from specc.spec.schema_check import validate_model
    from specc.spec.semdiff import spec_file

    diags = Collector()
    file = spec_file(args.file, diags)
    if file is None:
        render("text", diags.sorted(), {}, [args.file], sys.stderr)
        return int(ExitCode.USAGE)
    loaded = load(file, diags, overrides=list(args.override))
    if loaded.data is None:
        render("text", diags.sorted(), loaded.texts, [args.file], sys.stderr)
        return int(ExitCode.USAGE)
    path = parse_path(args.path, loaded.data)
    if path is None:
        print(f"specc explain: error: `{args.path}` is not a key path "
              "(write it like policy.optimizer.kwargs.lr)", file=sys.stderr)
        return int(ExitCode.USAGE)
    model = validate_model(loaded.data, Collector(locations=loaded.locations,
                                                  default_file=file))
    spec = model if isinstance(model, Spec) else None
    prov = Provenance(loaded, spec)
    found = prov.explain(path)
    if found is None:
        unknown = Collector()
        prov.unknown(path, unknown, file)
        render("text", unknown.sorted(), loaded.texts, [args.file], sys.stderr)
        return int(ExitCode.ERRORS)
    lowered: dict[int, list[str] | None] = {}
    if loaded.raw is not None and len(found.leaves) <= MAX_LOWERED_LEAVES:
        for i, leaf in enumerate(found.leaves):
            lowered_key = leaf.path[:1] != ("hpo",) or \
                leaf.path[:3] == ("hpo", "evaluation", "val_period")
            if leaf.kind != "absent" and lowered_key:
                lowered[i] = lowered_fields(loaded.raw, leaf.path, leaf.value)
    if args.format == "json":
        sys.stdout.write(json.dumps(_as_json(found, lowered), indent=2, default=str) + "\n")
    else:
        sys.stdout.write(_as_text(found, lowered))
    if spec is None:
        print(f"note: {file} does not pass the schema; `specc validate {file}` "
              "lists the problems (defaults shown are the schema's)", file=sys.stderr)
    return int(ExitCode.OK)


# --- rendering --------------------------------------------------------------------------

def _as_json(e: Explanation, lowered: dict[int, list[str] | None]) -> dict[str, Any]:
    from specc.spec.diagnostics import dotted

    leaves = []
    for i, leaf in enumerate(e.leaves):
        d = leaf.to_dict()
        if i in lowered:
            d["lowered"] = lowered[i]
        leaves.append(d)
    return {"path": dotted(e.path), "value": e.value, "mapping": e.mapping,
            "sites": [s.to_dict() for s in e.sites], "leaves": leaves}


def fmt(v: Any) -> str:
    """A value as it would read in YAML flow style."""
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, list):
        return "[" + ", ".join(fmt(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k}: {fmt(x)}" for k, x in v.items()) + "}"
    return str(v)


def _snippet(site: Site, pad: str) -> list[str]:
    if not site.line or not site.source:
        return []
    return [f"{pad}  {site.line:>4} | {site.source}"]


def _how(o: Origin) -> str:
    site = o.site.where() if o.site else "(no recorded position)"
    if o.kind == "file":
        return f"written in {site}" + (" (position of an enclosing key)" if o.approximate
                                       else "")
    if o.kind == "inherited":
        hops = o.chain[0]
        for via, f in zip(o.via, o.chain[1:], strict=False):
            hops += f" -({via})-> {f}"
        return f"inherited from {site}, through {hops}"
    if o.kind == "override":
        return f"set by command-line {o.site.file if o.site else 'override'}: -o {o.detail}"
    if o.kind in ("preset", "profile"):
        return f"added by `hpo.{o.kind}: {o.detail}` at {site}"
    if o.kind == "dialect":
        return f"rewritten from `{o.detail}` (seed dialect read as `hpo`, R031) at {site}"
    if o.kind == "default":
        return f"not written: {o.detail}'s default" if o.detail else \
            "not written: the schema's default"
    would = f" (were it written, the default would be {fmt(o.default)})" \
        if o.has_default else ""
    return f"not set: `{o.detail}` is not written, so this key does not apply{would}"


def _origin_lines(o: Origin, pad: str, *, detail: bool) -> list[str]:
    from specc.spec.diagnostics import dotted

    value = "(unset)" if o.kind == "absent" else fmt(o.value)
    out = [f"{pad}{dotted(o.path)} = {value}", f"{pad}  {_how(o)}"]
    if o.site is not None and o.kind != "override":
        out += _snippet(o.site, pad)
    for r in o.replaced:
        out.append(f"{pad}  replaces {fmt(r.value)} from {r.site.where()}")
        out += _snippet(r.site, pad)
    if o.template is not None:
        out.append(f"{pad}  interpolated from {json.dumps(o.template)}:")
        for ref in o.references:
            out += _origin_lines(ref, pad + "    ", detail=False)
    if detail and o.doc:
        doc = " ".join(o.doc.split())
        out.append(f"{pad}  doc: {doc}")
    return out


def _searched(o: Origin, pad: str) -> list[str]:
    s = o.searched
    if s is None:
        return []
    where = s.origin.site.where() if s.origin.site else "hpo.search_space"
    how = f", added by `hpo.preset: {s.origin.detail}`" if s.origin.kind == "preset" else (
        f", rewritten from `{s.origin.detail}`" if s.origin.kind == "dialect" else "")
    return [f"{pad}  searched: {s.describe()} (hpo.search_space at {where}{how}); each trial "
            "sets its own value, the one above is the starting point outside the search"]


def _becomes(fields: list[str] | None) -> str:
    if fields is None:
        return ""
    return ", ".join(fields) if fields else "no trainer argument changes with it"


def _as_text(e: Explanation, lowered: dict[int, list[str] | None]) -> str:
    from specc.spec.diagnostics import dotted

    out: list[str] = []
    if not e.mapping:
        o = e.leaves[0]
        out += _origin_lines(o, "", detail=True)
        out += _searched(o, "")
        if lowered.get(0) is not None:
            out.append(f"  becomes: {_becomes(lowered[0])}")
        return "\n".join(out) + "\n"
    head = dotted(e.path)
    out.append(f"{head}: {len(e.leaves)} value(s)" + (
        " written at " + ", ".join(s.where() for s in e.sites) if e.sites else ""))
    rows = []
    unset: list[str] = []
    for i, o in enumerate(e.leaves):
        key = dotted(o.path[len(e.path):]) or dotted(o.path)
        if o.kind == "default" and o.value is None and not o.detail:
            unset.append(key)
            continue
        value = "(unset)" if o.kind == "absent" else fmt(o.value)
        if len(value) > 24:
            value = value[:21] + "..."
        where = _short(o)
        extra = ""
        if o.searched is not None:
            extra += f"  [searched: {o.searched.describe()}]"
        if lowered.get(i):
            extra += f"  -> {_becomes(lowered[i])}"
        rows.append((key, value, where + extra))
    kw = max(len(r[0]) for r in rows) if rows else 0
    vw = min(max(len(r[1]) for r in rows), 24) if rows else 0
    out += [f"  {k:<{kw}} = {v:<{vw}}  {w}" for k, v, w in rows]
    if unset:
        out.append(f"  not written, null by default: {', '.join(unset)}")
    return "\n".join(out) + "\n"


def _short(o: Origin) -> str:
    site = o.site.where() if o.site else ""
    if o.template is not None:
        refs = ", ".join(dotted_ref(r) for r in o.references)
        tail = f" <- {refs}" if refs else ""
    else:
        tail = ""
    label = {"file": "", "inherited": " (inherited)", "override": "",
             "preset": f" (hpo.preset {o.detail})", "profile": f" (hpo.profile {o.detail})",
             "dialect": f" (from `{o.detail}`)", "default": "", "absent": ""}[o.kind]
    if o.kind == "default":
        return f"{o.detail} default" if o.detail else "schema default"
    if o.kind == "absent":
        return f"not set: `{o.detail}` is not written"
    if o.kind == "override":
        return f"{o.site.file if o.site else 'override'}: -o {o.detail}"
    replaced = f", replaces {fmt(o.replaced[-1].value)}" if o.replaced else ""
    return f"{site}{label}{replaced}{tail}"


def dotted_ref(o: Origin) -> str:
    from specc.spec.diagnostics import dotted

    where = f" ({o.site.where()})" if o.site else ""
    return f"{dotted(o.path)}{where}"
