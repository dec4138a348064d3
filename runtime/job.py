"""One rank of a trial's distributed job (``torchrun ... -m specc.runtime.job <job.pkl>``):
train the pickled description with a :class:`~specc.runtime.trial.Worker`; rank 0
reports to ``job-events.jsonl`` and writes ``job-result.json`` (see
:mod:`specc.runtime.launch`)."""

from __future__ import annotations

import json
import os
import pickle
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

from specc.runtime.launch import EVENTS_FILE, RESULT_FILE, FileReporter, Silent, rank_description
from specc.runtime.trial import Worker


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    job = Path(args[0])
    payload = pickle.loads(job.read_bytes())
    rank = int(os.environ.get("RANK", "0"))
    desc = rank_description(payload["desc"], rank)
    trial_dir = job.parent
    reporter: Any = FileReporter(trial_dir / EVENTS_FILE) if rank == 0 else Silent()
    # every rank joins the save (FSDP gathers the shards); rank 0 writes it
    result = Worker().run_trial(desc, reporter, save=payload["save"],
                                info=payload["info"] if rank == 0 else None)
    if rank == 0:
        (trial_dir / RESULT_FILE).write_text(json.dumps(asdict(result)) + "\n",
                                             encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
