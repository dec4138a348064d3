"""The `specc` command line. Each subcommand imports only what it needs, so
`specc validate` starts without torch, TRL, Optuna or Textual."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from specc import __version__

if TYPE_CHECKING:
    from specc.runtime.study import RunSummary

FORMATS = ("text", "json", "github", "sarif")


def _add_overrides(p: argparse.ArgumentParser) -> None:
    p.add_argument("-o", "--override", action="append", default=[], metavar="PATH=VALUE",
                   help="set a spec value, validated like the file's own "
                   "(e.g. -o policy.optimizer.kwargs.lr=1e-5); repeatable")


def _add_root(p: argparse.ArgumentParser) -> None:
    p.add_argument("--root", action="append", default=[], metavar="DIR",
                   help="also let `extends`/`defaults` and local model folders resolve inside "
                   "DIR (default: only the spec's project root, the nearest folder with .git, "
                   "pyproject.toml or .specc); repeatable")


def _set_roots(args: argparse.Namespace) -> None:
    """`--root` reaches every load through the environment, so worker processes see it."""
    roots = [os.path.abspath(d) for d in getattr(args, "root", None) or []]
    if roots:
        from specc.spec.sources import ROOT_ENV

        old = [d for d in os.environ.get(ROOT_ENV, "").split(os.pathsep) if d]
        os.environ[ROOT_ENV] = os.pathsep.join([*old, *roots])


#: The subcommands defined here (the others are :data:`specc.commands.MODULES`).
BUILTIN = ("validate", "plan", "run", "tui", "schema", "codes")


def _parser(only: str | None = None) -> argparse.ArgumentParser:
    """The whole parser, or (``only``) the top level with just that subcommand: building
    every subcommand's parser is a tenth of a cold ``specc validate``."""
    parser = argparse.ArgumentParser(
        prog="specc",
        description="Compile and validate LLM fine-tuning experiment specs.",
    )
    parser.add_argument("--version", action="version", version=f"specc {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    if only in (None, "validate"):
        v = sub.add_parser("validate", help="check specs and report every problem",
                           description="Parse, resolve and check specs; report all problems with "
                           "file:line:col. Exit 0: no errors; 1: errors; 2: usage error or "
                           "unreadable input.")
        v.add_argument("files", nargs="+", metavar="FILE",
                       help="spec files (YAML); `-` reads standard input")
        v.add_argument("--stdin-filename", metavar="NAME", default=None,
                       help="the name standard input (`-`) is given in diagnostics; relative "
                       "`extends` and the project root are found from its folder (default: "
                       "<stdin> in the working directory)")
        _add_root(v)
        v.add_argument("--format", choices=FORMATS,
                       default=os.environ.get("SPECC_FORMAT", "text"),
                       help="output format (default: $SPECC_FORMAT, else text; use `github` in "
                       "GitHub Actions for annotations on the diff)")
        _add_overrides(v)
        v.add_argument("--max-bytes", type=int, default=None,
                       help="refuse files larger than this (default 2 MiB)")
        v.add_argument("--strict", action="store_true",
                       help="treat warnings as errors (exit 1 when any warning is reported)")
        v.add_argument("--quiet", "-q", action="store_true", help="hide info diagnostics")
        v.add_argument("--color", choices=("auto", "always", "never"), default="auto",
                       help="colour text output (default: auto: on a terminal, unless NO_COLOR is "
                       "set or TERM=dumb; FORCE_COLOR forces it)")

    if only in (None, "plan"):
        pl = sub.add_parser("plan", help="compile a spec into trials, memory estimates and "
                            "trainer calls", description="Lower a valid spec and its search space "
                            "into the trials that will run: derived numbers, memory per GPU, "
                            "feasibility and the exact TRL trainer call.")
        pl.add_argument("file", metavar="FILE", help="spec file (YAML)")
        _add_root(pl)
        pl.add_argument("--format", choices=("table", "json", "yaml"), default="table",
                        help="output format (default: a readable table)")
        pl.add_argument("--preview", type=int, default=None, metavar="N",
                        help="show N points sampled deterministically from the sampler's seed "
                        "(non-grid samplers; default 5)")
        pl.add_argument("--show-spec", action="store_true",
                        help="print the fully expanded spec (presets, extends, interpolation)")
        pl.add_argument("--with-spec", action="store_true",
                        help="include each trial's resolved spec in json/yaml output")
        pl.add_argument("--emit", choices=("python",), default=None,
                        help="write one standalone script per trial (imports TRL and PEFT, "
                        "not specc)")
        pl.add_argument("--output", metavar="DIR", default=None,
                        help="folder for --emit (default: plan-<name>/)")
        _add_overrides(pl)

    if only in (None, "run"):
        r = sub.add_parser("run", help="run the spec's study (or its single training run)",
                           description="Run an Optuna study whose trials are TRL training runs "
                           "(a spec without `hpo` is one run). Re-running the same command "
                           "resumes the study up to its total n_trials. Exit 0: the study "
                           "finished (some trials may have failed or been pruned); 1: errors in "
                           "the spec; 2: usage error; 130: interrupted.")
        r.add_argument("file", metavar="FILE", help="spec file (YAML)")
        _add_overrides(r)
        _add_root(r)
        r.add_argument("--output", metavar="DIR", default=None,
                       help="output folder (default: the spec's output_dir, else runs/<name>/)")
        r.add_argument("--storage", metavar="URL", default=None,
                       help="Optuna storage: postgresql://... to share one study between "
                       "machines, sqlite:///PATH, or a journal file PATH.journal / "
                       "journal:PATH (default: "
                       "sqlite:///<output>/study.db; a journal file with --workers N)")
        r.add_argument("--workers", type=_positive, default=None, metavar="N",
                       help="local worker processes (default: hpo.parallel, else 1)")
        r.add_argument("--study-name", default=None, metavar="NAME",
                       help="study name in the storage (default: hpo.study_name, else the "
                       "spec's name)")
        r.add_argument("--n-trials", type=_positive, default=None, metavar="N",
                       help="total trials of the study, across restarts (default: hpo.n_trials)")
        r.add_argument("--quiet", "-q", action="store_true",
                       help="no live progress; print the summary only")
        r.add_argument("--no-report", action="store_true",
                       help="do not write the study's report (`specc report`'s output in "
                       "<output>/report/) when it ends")
        r.add_argument("--backend", choices=("optuna", "ray"), default=None,
                       help="who runs the trials (default: hpo.backend, else optuna): ray "
                       "runs them as Ray Tune trials, each reserving its CPUs and GPUs")
        r.add_argument("--address", metavar="ADDR", default=None,
                       help="with --backend ray: the Ray cluster (auto: the one `ray start` "
                       "began on this machine; ray://HOST:PORT; default: Ray embedded in "
                       "this process)")
        r.add_argument("--new-study", action="store_true",
                       help="the spec changed since the study began: start a fresh study beside "
                       "it (name and output folder suffixed with the new spec's hash)")
        r.add_argument("--allow-changed", action="store_true",
                       help="the spec changed since the study began: add the new trials to it "
                       "anyway (each records its spec hash; results.json keeps them apart)")

    if only in (None, "tui"):
        t = sub.add_parser("tui", help="edit a spec with live diagnostics, see its plan, "
                           "run and follow its study (a terminal app)",
                           description="A terminal app: the spec in an editor with diagnostics "
                           "as you type, its plan, and its study's trials read live from the "
                           "storage (read-only). ctrl+r saves the spec and starts `specc run "
                           "FILE` as a child process; ctrl+c stops it (the next ctrl+r "
                           "resumes). Exit 0 on ctrl+q; 2: usage error or unreadable file.")
        t.add_argument("file", nargs="?", metavar="FILE", help="spec file (YAML); created on save "
                       "if missing")
        t.add_argument("--storage", metavar="URL", default=None,
                       help="the study's Optuna storage (default: the spec's hpo.storage, else "
                       "<output>/study.journal or sqlite:///<output>/study.db)")
        t.add_argument("--study", metavar="NAME", default=None,
                       help="study name in the storage (default: hpo.study_name, else the spec's "
                       "name)")
        t.add_argument("--preview", type=_positive, default=None, metavar="N",
                       help="points the plan screen samples (non-grid samplers; default 5)")

    if only in (None, "schema"):
        s = sub.add_parser("schema", help="print the spec's JSON Schema (for editors)")
        s.add_argument("--output", metavar="FILE", help="write to FILE instead of stdout")

    if only in (None, "codes"):
        c = sub.add_parser("codes", help="list the diagnostic codes")
        c.add_argument("--format", choices=("text", "markdown"), default="text")

    import importlib

    from specc.commands import MODULES

    for name in MODULES:
        if only in (None, name):
            importlib.import_module(f"specc.commands.{name}").register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    given = list(sys.argv[1:] if argv is None else argv)
    from specc.commands import MODULES

    command = given[0] if given and given[0] in (*BUILTIN, *MODULES) else None
    parser = _parser(command)
    args = parser.parse_args(given)
    if args.command is None:
        parser.print_help()
        return 2
    _set_roots(args)
    try:
        if args.command == "validate":
            return _validate(args)
        if args.command == "plan":
            return _plan(args)
        if args.command == "run":
            return _run(args)
        if args.command == "tui":
            return _tui(args)
        if args.command == "schema":
            return _schema(args)
        if args.command == "codes":
            return _codes(args)
        handler = getattr(args, "handler", None)
        if handler is not None:
            return int(handler(args))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    parser.error(f"unknown command {args.command}")
    return 2


def _fewer_collections() -> None:
    """Collect cyclic garbage less often in this short-lived process: validating a few
    hundred files allocates millions of small, acyclic objects (parsed nodes, diagnostics),
    and the default thresholds spend a fifth of the time re-scanning them. Memory stays
    bounded (a collection still runs every 50,000 net allocations)."""
    import gc

    gc.set_threshold(50_000, 20, 20)


def _validate(args: argparse.Namespace) -> int:
    _fewer_collections()
    from specc.compiler.validate import validate_files
    from specc.spec.diagnostics import ExitCode, Severity
    from specc.spec.render import render

    result = validate_files(list(args.files), overrides=list(args.override),
                            max_bytes=args.max_bytes, stdin_name=args.stdin_filename)
    diags = result.diagnostics
    if args.quiet:
        diags = [d for d in diags if d.severity is not Severity.INFO]
    from specc.spec.terminal import use_color

    color = use_color(sys.stdout, args.color)
    render(args.format, diags, result.texts, result.files, sys.stdout, color=color)
    code = result.exit_code
    if code is ExitCode.OK and args.strict and any(
            d.severity is Severity.WARNING for d in diags):
        code = ExitCode.ERRORS
    return int(code)


def _plan(args: argparse.Namespace) -> int:
    from pathlib import Path

    from specc.compiler import report
    from specc.compiler.plan import build_plan
    from specc.spec.diagnostics import Collector, Severity, exit_code
    from specc.spec.render import render

    diags = Collector()
    plan = build_plan(args.file, overrides=list(args.override), preview=args.preview,
                      diags=diags, with_memory_errors=args.format != "table")
    problems = [d for d in diags if d.severity is not Severity.INFO]
    if plan is None:
        texts = _texts(args.file, args.override)
        render("text", sorted(diags.items, key=lambda d: d.sort_key()), texts, [args.file],
               sys.stderr)
        return int(exit_code(diags))
    if problems and args.format == "table":
        render("text", problems, _texts(args.file, args.override), [args.file], sys.stderr)
    if args.show_spec:
        from specc.spec.presets import expanded_yaml

        sys.stdout.write(expanded_yaml(plan.expanded or {}))
        return 0
    if args.emit == "python":
        from specc.compiler.emit import emit_plan

        out = Path(args.output or f"plan-{plan.name}")
        written = emit_plan(plan, out)
        print(f"wrote {len(written)} script(s) to {out}/")
        skipped = len(plan.trials) - len(written)
        if skipped:
            print(f"skipped {skipped} trial(s): infeasible or not runnable by TRL")
        return 0
    if args.format == "json":
        sys.stdout.write(report.as_json(plan, args.with_spec))
    elif args.format == "yaml":
        sys.stdout.write(report.as_yaml(plan, args.with_spec))
    else:
        sys.stdout.write(report.table(plan))
    # a trial that does not fit its GPU (M001): the plan is printed, the exit says so
    return 1 if any(d.severity is Severity.ERROR for d in diags) else 0


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {value}")
    return value


def _run(args: argparse.Namespace) -> int:
    from specc.runtime.api import SpecError
    from specc.runtime.storage_safety import StorageProblem, as_problem, is_storage_error
    from specc.runtime.study import RunError, run_study
    from specc.spec.render import render
    from specc.spec.storage_url import public_url

    try:
        summary = run_study(args.file, overrides=list(args.override), output=args.output,
                            storage=args.storage, workers=args.workers,
                            study_name=args.study_name, n_trials=args.n_trials,
                            progress=not args.quiet, new_study=args.new_study,
                            allow_changed=args.allow_changed, backend=args.backend,
                            address=args.address)
    except SpecError as e:
        texts = e.texts or _texts(args.file, args.override)
        render("text", e.diagnostics, texts, [args.file], sys.stderr)
        return 1
    except StorageProblem as e:
        render("text", e.diagnostics, {}, sorted({d.file for d in e.diagnostics}), sys.stderr)
        return 2
    except RunError as e:
        print(f"specc run: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        import signal

        # the study stopped cleanly; a second Ctrl-C while exiting must not undo that
        # with a traceback
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        print("interrupted: run the same command to resume", file=sys.stderr)
        return 130
    except Exception as e:  # the storage failing under a running study: a diagnostic
        if not is_storage_error(e):
            raise
        p = as_problem(e, public_url(args.storage) if args.storage else "the study's storage")
        render("text", p.diagnostics, {}, [], sys.stderr)
        return 2
    counts = ", ".join(f"{n} {s.lower()}" for s, n in summary.counts.items() if n)
    print(f"study {summary.study}: {summary.finished}/{summary.n_trials} trials finished"
          + (f" ({counts})" if counts else "")
          + (f"; stopped: {summary.stop_reason}" if summary.stop_reason
             and summary.stop_reason != "budget reached" else ""))
    if summary.best_number is not None:
        shown = ", ".join(f"{m}={v:.6g}" for m, v in zip(summary.objectives,
                                                          summary.best_values or [],
                                                          strict=False))
        print(f"best: trial {summary.best_number}: {shown}")
        for k, v in (summary.best_params or {}).items():
            print(f"  {k}: {v}")
    elif summary.pareto:
        print(f"pareto front: trials {', '.join(str(p['number']) for p in summary.pareto)}")
    print(f"results: {summary.output / 'results.json'}")
    if (summary.output / "best.yaml").exists():
        print(f"best spec: {summary.output / 'best.yaml'}")
    if not args.no_report:
        _write_report(summary, args.storage)
    return 0


def _write_report(summary: RunSummary, storage: str | None) -> None:
    """The study's report (`specc report`'s output) once it ends; a report that cannot be
    written is a note, not a failed run."""
    try:
        from specc.runtime.report.build import ReportError, build_report
    except ImportError as e:  # the `report` extra is not installed
        print(f"report not written: {e} (install specc-llm[report])", file=sys.stderr)
        return
    try:
        rep = build_report(str(summary.output), storage=storage, study=summary.study,
                           say=lambda msg: None)
    except (ReportError, ImportError, OSError) as e:
        print(f"report not written: {e}", file=sys.stderr)
        return
    print(f"report: {rep.html}")


def _tui(args: argparse.Namespace) -> int:
    if args.file is None and args.storage is None:
        print("specc tui: error: give a spec FILE, or --storage URL to follow a study",
              file=sys.stderr)
        return 2
    try:
        from specc.tui import create_app
    except ImportError as e:
        print(f"specc tui: error: needs Textual and Optuna: pip install 'specc-llm[tui]' ({e})",
              file=sys.stderr)
        return 2
    try:
        app = create_app(args.file, storage=args.storage, study=args.study,
                         preview=args.preview)
    except (OSError, UnicodeDecodeError) as e:
        print(f"specc tui: error: cannot read {args.file}: {e}", file=sys.stderr)
        return 2
    app.run()
    code = app.return_code or 0
    _exit_now_if_busy(code)
    return code


def _exit_now_if_busy(code: int) -> None:
    """ctrl+q ends the TUI at once even while a worker thread is still busy (validating a
    hostile buffer, reading a slow storage): the interpreter would wait for it."""
    import threading

    if any(t.is_alive() and not t.daemon for t in threading.enumerate()
           if t is not threading.main_thread()):
        from specc.process import exit_now

        exit_now(code)


def _texts(file: str, overrides: list[str]) -> dict[str, str]:
    from specc.spec.loader import source_texts

    return source_texts(file, overrides)


def _schema(args: argparse.Namespace) -> int:
    import json

    from specc.spec.schema import json_schema

    text = json.dumps(json_schema(), indent=2) + "\n"
    if args.output:
        from pathlib import Path

        out = Path(args.output)
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(text, encoding="utf-8")
        except OSError as e:
            print(f"specc schema: error: cannot write {args.output}: {e.strerror or e}",
                  file=sys.stderr)
            return 2
    else:
        sys.stdout.write(text)
    return 0


def _codes(args: argparse.Namespace) -> int:
    from specc.spec.codes import CODES, markdown

    if args.format == "markdown":
        print(markdown())
    else:
        for c in CODES.values():
            print(f"{c.code}  {c.severity:<7}  {c.title}")
    return 0


def entry() -> None:
    """The console script: `main`, with an interrupt outside any command's own handling
    (while starting up, say) ending as exit status 130 rather than a traceback. The
    working directory is taken off ``sys.path`` first (``python -m`` puts it there):
    specc never imports code from where it is run."""
    from specc import process

    process.drop_cwd_from_path()
    try:
        code = main()
    except KeyboardInterrupt:
        code = 130
    if code == 130:
        process.forget_interrupt()
    elif sys.argv[1:2] == ["validate"] and not process.observed():
        process.exit_now(code)
    raise SystemExit(code)


if __name__ == "__main__":
    entry()
