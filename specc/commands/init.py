"""`specc init`: write a commented spec for an algorithm, a hardware profile and a mode.

The text comes from :mod:`specc.spec.scaffold`; this module picks the file, refuses to
overwrite one without ``--force``, writes it, validates it in-process and prints
the summary and the next commands. Exit 0: written and valid (warnings allowed); 1: written
but the spec has errors (a ``--model`` too large for the hardware, say); 2: usage error or
the file exists.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

#: Choices, spelled here so building the parser imports nothing heavy; tests/test_init.py
#: keeps them equal to the spec's algorithms and the scaffold's tables.
ALGORITHMS: tuple[str, ...] = ("sft", "dpo", "orpo", "kto", "grpo", "rloo", "rs_sft", "awr",
                               "ppo")
HARDWARE: tuple[str, ...] = ("cpu", "m1-max", "rtx4090", "a100-40gb", "a100-80gb",
                             "multi-gpu")
MODES: tuple[str, ...] = ("local", "cluster")


def register(sub: Any) -> None:
    p = sub.add_parser(
        "init", help="write a commented spec to start from (algorithm, hardware, mode)",
        description="Write a commented spec for an algorithm, a hardware profile (seed 003's "
        "hardware settings) and a mode (seed 002's local/cluster configs). Every key's "
        "comment says why it has its value. The defaults give a DPO search that runs offline "
        "on a CPU. Exit 0: written and valid; 1: written, but it has errors; 2: usage error "
        "or the file exists (use --force).")
    p.add_argument("file", nargs="?", metavar="FILE", default=None,
                   help="where to write (default: <algorithm>-<hardware>-<mode>.yaml here)")
    p.add_argument("--algorithm", "-a", choices=ALGORITHMS, default="dpo",
                   help="the training algorithm (default: dpo)")
    p.add_argument("--hardware", choices=HARDWARE, default="cpu",
                   help="hardware profile (default: cpu, with the built-in tiny model)")
    p.add_argument("--mode", choices=MODES, default="local",
                   help="local: short runs, a quick search; cluster: long runs, a large "
                   "search shared by several machines (default: local)")
    p.add_argument("--model", metavar="NAME", default=None,
                   help="model to train: a hub id or local folder (default: the profile's: "
                   "specc:tiny-llama on cpu, deepseek-ai/deepseek-coder-6.7b-instruct on GPUs)")
    p.add_argument("--hpo", action=argparse.BooleanOptionalAction, default=True,
                   help="add an `hpo` search from the algorithm's preset and the mode's "
                   "profile (default); --no-hpo writes a single run")
    p.add_argument("--schema", action=argparse.BooleanOptionalAction, default=True,
                   help="write spec.schema.json beside FILE when it is missing, so the "
                   "editor modeline the spec carries resolves (default); --no-schema skips it")
    p.add_argument("--force", action="store_true", help="overwrite FILE if it exists")
    p.add_argument("--stdout", action="store_true",
                   help="print the spec instead of writing a file")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from specc.spec.scaffold import RUNNABLE, default_name, describe, scaffold

    model = args.model.strip() if args.model is not None else None
    if model is not None and not model:
        print("specc init: error: --model needs a name", file=sys.stderr)
        return 2
    file = args.file or f"{default_name(args.algorithm, args.hardware, args.mode)}.yaml"
    text = scaffold(args.algorithm, args.hardware, args.mode, model=model, hpo=args.hpo,
                    file=file)
    if args.stdout:
        sys.stdout.write(text)
        return _check(file, text, quiet=True)
    path = Path(file)
    if path.is_dir():
        print(f"specc init: error: {file} is a directory", file=sys.stderr)
        return 2
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # "x": never replace a file that appeared since the user looked, unless --force
        with path.open("w" if args.force else "x", encoding="utf-8", newline="\n") as f:
            f.write(text)
    except FileExistsError:
        print(f"specc init: error: {file} exists; use --force to overwrite it",
              file=sys.stderr)
        return 2
    except OSError as e:
        print(f"specc init: error: cannot write {file}: {e.strerror or e}", file=sys.stderr)
        return 2
    print(f"wrote {file}: " + describe(args.algorithm, args.hardware, args.mode, model=model,
                                       hpo=args.hpo))
    if args.schema:
        _write_schema(path)
    code = _check(file, None, quiet=False)
    print("next:")
    print(f"  specc validate {file}")
    print(f"  specc plan {file}")
    print(f"  specc run {file}")
    if args.algorithm not in RUNNABLE:
        print(f"  (`specc run` cannot train {args.algorithm} yet; validate and plan can)")
    return code


def _check(file: str, text: str | None, *, quiet: bool) -> int:
    """Validate the scaffold in-process; print its diagnostics and the summary line (on
    stderr with ``quiet``, where stdout holds the spec, and then only when there are
    problems). The exit status follows `specc validate`."""
    from specc.compiler.validate import validate_one
    from specc.spec.diagnostics import Collector, Diagnostic, exit_code
    from specc.spec.render import render

    diags = Collector()
    checked = validate_one(file, diags, text=text)
    items = sorted(diags.items, key=Diagnostic.sort_key)
    if not quiet or items:
        render("text", items, checked.loaded.texts or ({file: text} if text else {}), [file],
               sys.stderr if quiet else sys.stdout)
    return int(exit_code(items))


def _write_schema(spec: Path) -> None:
    """The JSON Schema the scaffold's `yaml-language-server` modeline names, beside it."""
    import json

    from specc.spec.scaffold.build import SCHEMA_FILE
    from specc.spec.schema import json_schema

    target = spec.parent / SCHEMA_FILE
    if target.exists():
        return
    try:
        target.write_text(json.dumps(json_schema(), indent=2) + "\n", encoding="utf-8")
    except OSError as e:
        print(f"specc init: note: could not write {target}: {e.strerror or e}; "
              f"run `specc schema --output {target}`", file=sys.stderr)
        return
    print(f"wrote {target} (the schema the spec's editor modeline names)")
