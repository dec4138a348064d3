"""`specc merge ADAPTER --output DIR`: a LoRA adapter merged into its base model."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

DESCRIPTION = """\
Merge a LoRA adapter into its base model and save the merged model (weights, config and
tokenizer) to DIR, loadable with `from_pretrained` and usable as `policy.model_name`.

ADAPTER may be:
  ADAPTER_DIR    a folder with adapter_config.json (e.g. runs/stage1/trials/0/adapter)
  RUNDIR         a `specc run` output folder: its best trial's adapter

The base is the model the adapter was trained on (specc records it beside the adapters
it saves; otherwise PEFT's base_model_name_or_path), built-ins included. Nothing is
downloaded. Exit 0: written; 2: the adapter or its base cannot be read."""


def register(sub: Any) -> None:
    p = sub.add_parser("merge", help="merge a LoRA adapter into its base model",
                       description=DESCRIPTION,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("adapter", metavar="ADAPTER", help="adapter folder, or a run folder")
    p.add_argument("--output", "-O", metavar="DIR", required=True,
                   help="folder to write the merged model to")
    p.add_argument("--precision", choices=("float32", "bfloat16", "float16"),
                   default="float32", help="dtype to load and save in (default float32)")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from specc.spec.stages import resolve_model

    ref = resolve_model(args.adapter, os.getcwd())
    problem = ref.problem or (None if ref.kind == "adapter" else
                              f"`{args.adapter}` is not a LoRA adapter (no adapter_config.json)")
    if problem:
        print(f"specc merge: {problem}", file=sys.stderr)
        return 2
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from specc.runtime.stages import StageError, merge_adapter

    try:
        out = merge_adapter(args.adapter, args.output, spec_dir=os.getcwd(),
                            precision=args.precision)
    except (StageError, OSError, ValueError) as e:
        print(f"specc merge: {e}", file=sys.stderr)
        return 2
    print(f"merged {ref.path} into {ref.base}: {out}")
    return 0
