"""`specc agent SPEC --params FILE`: one trial with parameters a W&B sweep chose."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

DESCRIPTION = """\
Train one trial of the spec's search at the point given: the program each W&B agent
runs (the `command` of `specc export wandb-sweep`'s configuration). The point is checked
against the spec's search space, compiled like a `specc run` trial and trained; its
folder is the next free <output>/trials/<n>/ (spec.yaml, trainer.json, metrics.jsonl,
log.txt and result.json). Under `wandb agent` (WANDB_SWEEP_ID set) the objective is
logged to the sweep's run at every evaluation. The last line on standard output is the
result as JSON.

Parameters:
  --params FILE     a JSON object {name: value}: W&B's `${args_json_file}` (values keep
                    their types; the robust choice)
  NAME=VALUE ...    W&B's `${args_no_hyphens}`, or by hand (values read as YAML),
                    right after FILE
Names are the sweep's parameter names: the dimensions' spec paths.

Exit 0: trained, objective reported; 1: errors in the spec, parameters that do not fit
its search space, or an infeasible point (the spec's rules fail at it); 2: usage error;
3: the training failed or a health rule stopped it; 130: interrupted or stopped by the
sweep. W&B counts every non-zero exit as a failed run."""


def register(sub: Any) -> None:
    p = sub.add_parser("agent", help="train one trial at a point a W&B sweep chose",
                       description=DESCRIPTION,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("file", metavar="FILE", help="spec file (YAML)")
    p.add_argument("assignments", nargs="*", metavar="NAME=VALUE",
                   help="parameter values (W&B's `${args_no_hyphens}`)")
    p.add_argument("--params", metavar="JSON", default=None,
                   help="a JSON file of parameter values (W&B's `${args_json_file}`)")
    p.add_argument("--output", metavar="DIR", default=None,
                   help="output folder (default: the spec's output_dir, else runs/<name>/)")
    p.add_argument("-o", "--override", action="append", default=[], metavar="PATH=VALUE",
                   help="set a spec value, as `specc run -o`; repeatable")
    p.add_argument("--root", action="append", default=[], metavar="DIR",
                   help="also let `extends`/`defaults` resolve inside DIR; repeatable")
    p.add_argument("--save", action="store_true",
                   help="keep the trained weights (adapter or model) in the trial folder")
    p.set_defaults(handler=run)


def _params(args: argparse.Namespace) -> dict[str, Any] | str:
    """The parameters, or why they cannot be read."""
    out: dict[str, Any] = {}
    if args.params is not None:
        try:
            with open(args.params, encoding="utf-8") as f:
                loaded = json.load(f)
        except (OSError, UnicodeDecodeError) as e:
            return f"cannot read {args.params}: {getattr(e, 'strerror', None) or e}"
        except json.JSONDecodeError as e:
            return f"{args.params} is not JSON: {e}"
        if not isinstance(loaded, dict):
            return f"{args.params} must hold a JSON object {{name: value}}"
        out.update(loaded)
    import yaml

    for a in args.assignments:
        name, eq, text = a.partition("=")
        name = name.lstrip("-")
        if not eq or not name:
            return f"`{a}` is not NAME=VALUE"
        try:
            out[name] = yaml.safe_load(text) if text else ""
        except yaml.YAMLError:
            out[name] = text
    return out


def run(args: argparse.Namespace) -> int:
    import os

    params = _params(args)
    if isinstance(params, str):
        print(f"specc agent: error: {params}", file=sys.stderr)
        return 2
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from specc.errors import SpecError
    from specc.runtime.agent import run_agent
    from specc.spec.render import render

    try:
        result = run_agent(args.file, params, output=args.output,
                           overrides=list(args.override), save=args.save)
    except SpecError as e:
        from specc.spec.loader import source_texts

        texts = e.texts or source_texts(args.file, list(args.override))
        render("text", e.diagnostics, texts, [args.file], sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("specc agent: stopped", file=sys.stderr)
        return 130
    shown = f"{result.metric}={result.objective:.6g}" if result.objective is not None \
        else result.reason or result.state.lower()
    print(f"trial {result.trial}: {result.state.lower()}: {shown} ({result.directory})",
          file=sys.stderr)
    print(json.dumps(result.to_dict(), default=str))
    if result.state == "COMPLETE":
        return 0
    return 1 if result.state == "INFEASIBLE" else 3
