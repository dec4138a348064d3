"""`specc export wandb-sweep SPEC`: the spec's search as another engine's configuration."""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING, Any

from specc.spec.records import record

if TYPE_CHECKING:
    from specc.compiler.wandb_sweep import SweepExport
    from specc.spec.diagnostics import Diagnostic

DESCRIPTION = """\
Write the spec's `hpo` search as a Weights & Biases sweep configuration (YAML): its search
space (presets and dialects resolved, as `specc plan` shows it), method, metric, early
termination and run cap, and a `command` that makes each W&B agent run `specc agent` for
one trial with the parameters W&B chose. Then:

  specc export wandb-sweep spec.yaml --output sweep.yaml
  wandb sweep sweep.yaml          # prints the sweep ID
  wandb agent ENTITY/PROJECT/ID   # in the folder you exported from

What W&B cannot express (a second objective, pruners other than hyperband, `when:`
conditions, sampler settings) is reported as a diagnostic naming the key, never dropped
silently. The configuration is checked against W&B's own sweep schema when the `sweeps`
package is installed. Exit 0: written (warnings allowed); 1: errors in the spec or in
the export (nothing written); 2: usage error or unreadable input."""


def register(sub: Any) -> None:
    p = sub.add_parser("export", help="write the spec's search as a W&B sweep configuration",
                       description=DESCRIPTION,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("target", choices=("wandb-sweep",), metavar="FORMAT",
                   help="what to write: `wandb-sweep` (a W&B sweep configuration)")
    p.add_argument("file", metavar="FILE", help="spec file (YAML)")
    p.add_argument("--output", "-O", metavar="OUT", default=None,
                   help="write the configuration to OUT (default: standard output)")
    p.add_argument("--spec-path", metavar="PATH", default=None,
                   help="the spec's path in the agent's `command`, as `wandb agent` will "
                   "find it from its working directory (default: FILE as given)")
    p.add_argument("-o", "--override", action="append", default=[], metavar="PATH=VALUE",
                   help="set a spec value before exporting, as `specc validate -o`; "
                   "repeatable (the agent runs the spec file itself: put lasting changes "
                   "there)")
    p.add_argument("--root", action="append", default=[], metavar="DIR",
                   help="also let `extends`/`defaults` resolve inside DIR; repeatable")
    p.add_argument("--format", choices=("text", "json", "github", "sarif"), default="text",
                   help="format of the diagnostics on standard error (default: text)")
    p.add_argument("--quiet", "-q", action="store_true", help="hide info diagnostics")
    p.set_defaults(handler=run)


@record
class Exported:
    """A spec file's sweep configuration (None when it has errors) and every diagnostic."""

    diagnostics: list[Diagnostic]
    result: SweepExport | None
    texts: dict[str, str]


def export_file(file: str, *, overrides: list[str] | None = None,
                spec_path: str | None = None) -> Exported:
    """Validate ``file`` like `specc validate`, map its search to a W&B sweep and check that
    with W&B's sweep engine (when installed)."""
    from specc.compiler import wandb_check, wandb_sweep
    from specc.compiler.validate import validate_one
    from specc.spec.diagnostics import Collector

    diags = Collector()
    checked = validate_one(file, diags, overrides=overrides)
    spec, loaded = checked.spec, checked.loaded
    result = None
    if spec is not None and not diags.has_errors:
        sub = diags.scoped(loaded.locations, file)
        result = wandb_sweep.export(spec, sub, spec_path=spec_path or file)
        if result is not None:
            wandb_check.check(result.config, sub)
    return Exported(diags.sorted(), result, loaded.texts)


def run(args: argparse.Namespace) -> int:
    from specc.spec.diagnostics import ExitCode, Severity, exit_code
    from specc.spec.render import render

    done = export_file(args.file, overrides=list(args.override), spec_path=args.spec_path)
    result = done.result
    shown = [d for d in done.diagnostics
             if not (args.quiet and d.severity is Severity.INFO)]
    render(args.format, shown, done.texts, [args.file], sys.stderr)
    code = exit_code(done.diagnostics)
    if result is None or code is not ExitCode.OK:
        return int(code if code is not ExitCode.OK else ExitCode.ERRORS)
    text = _yaml(result.config, args.spec_path or args.file)
    if args.output is None:
        sys.stdout.write(text)
        return 0
    try:
        from specc.spec.atomic import write_atomic

        os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
        write_atomic(args.output, text)
    except OSError as e:
        print(f"specc export: error: cannot write {args.output}: {e.strerror or e}",
              file=sys.stderr)
        return int(ExitCode.USAGE)
    print(f"wrote {args.output}: `wandb sweep {args.output}`, then `wandb agent <sweep ID>`",
          file=sys.stderr)
    return 0


def _yaml(config: dict[str, Any], spec_path: str) -> str:
    import yaml

    head = (f"# W&B sweep configuration of {spec_path}, written by `specc export "
            "wandb-sweep`.\n# `wandb sweep` this file, then run `wandb agent <sweep ID>` "
            "where the spec's path\n# (in `command`) resolves: each run is `specc agent` "
            "with W&B's parameters.\n")
    body = yaml.safe_dump(config, sort_keys=False, default_flow_style=False,
                          allow_unicode=True)
    return head + str(body)
