"""A trial over several processes, run as its own distributed job, and how each process
loads its model.

The worker that owns the trial pickles its compiled :class:`TrialDescription` into the
trial's folder and starts ``torchrun`` (``python -m torch.distributed.run``) with
:mod:`specc.runtime.job` as the program: every rank unpickles the same description and
trains it with the same :class:`~specc.runtime.trial.Worker` code; rank 0 writes what
the study hears
(``job-events.jsonl``: its evaluations and logged steps) and how the trial ended
(``job-result.json``). The worker then replays those reports to the study's reporter and
returns the result, so the trial reports to the study like any other. Pruning cannot stop
a job mid-run (the reports reach the study after it ends).

Ranks other than 0 work in ``<trial>/rank<N>`` (their own log and metrics). On CPUs the
ranks use gloo (2-process DDP and FSDP run on this machine); on GPUs nccl, each rank on
its own GPU of the worker's ``CUDA_VISIBLE_DEVICES`` set.
"""

from __future__ import annotations

import contextlib
import json
import os
import pickle
import signal
import socket
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from specc.compiler.trial import TrialDescription
    from specc.runtime.callbacks import Reporter
    from specc.runtime.tracking import TrialInfo

#: Set in every rank of a distributed job: the trial runs in the rank's process.
IN_JOB = "SPECC_IN_DISTRIBUTED_JOB"
JOB_FILE, EVENTS_FILE, RESULT_FILE = "job.pkl", "job-events.jsonl", "job-result.json"
#: The module every rank runs (``python -m``).
RANK_MODULE = "specc.runtime.job"


def is_job(desc: TrialDescription) -> bool:
    """Whether this process must start ``desc`` as a distributed job."""
    return desc.launch.kind == "torchrun" and os.environ.get(IN_JOB) != "1"


def free_port() -> int:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def job_env(desc: TrialDescription) -> dict[str, str]:
    """The environment of the job's ranks (the worker's, with the job marker; one thread
    per CPU rank so the ranks do not fight over the cores)."""
    env = dict(os.environ)
    env[IN_JOB] = "1"
    if desc.launch.backend == "gloo":
        env.setdefault("OMP_NUM_THREADS", "1")
    return env


def run_job(desc: TrialDescription, reporter: Reporter, *, save: bool = False,
            info: TrialInfo | None = None) -> dict[str, Any]:
    """Run ``desc`` as a ``torchrun`` job; its reports replayed to ``reporter``, its
    result as the fields of a ``TrialResult``."""
    trial_dir = Path(desc.directory)
    trial_dir.mkdir(parents=True, exist_ok=True)
    for name in (EVENTS_FILE, RESULT_FILE):
        with contextlib.suppress(FileNotFoundError):
            (trial_dir / name).unlink()
    job = trial_dir / JOB_FILE
    job.write_bytes(pickle.dumps({"desc": desc, "save": save, "info": info}))
    if desc.trainer is not None and desc.trainer.accelerate:
        (trial_dir / "accelerate.json").write_text(
            json.dumps(desc.trainer.accelerate, indent=2) + "\n", encoding="utf-8")
    cmd = desc.launch.command(str(job), port=free_port(), python=sys.executable)
    log = (trial_dir / "job.log").open("w", encoding="utf-8")
    proc = subprocess.Popen(cmd, env=job_env(desc), stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    try:
        code = proc.wait()
    except KeyboardInterrupt:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGINT)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=30)
        raise
    finally:
        log.close()
    _replay(trial_dir / EVENTS_FILE, reporter)
    result_path = trial_dir / RESULT_FILE
    if not result_path.exists():
        tail = (trial_dir / "job.log").read_text(encoding="utf-8", errors="replace")
        last = next((line for line in reversed(tail.splitlines()) if "Error" in line), "")
        return {"state": "FAIL", "values": None, "steps": 0, "metrics": {},
                "reason": f"distributed job exited with {code}"
                + (f": {last.strip()}" if last else "") + " (see job.log)"}
    data: dict[str, Any] = json.loads(result_path.read_text(encoding="utf-8"))
    return data


def _replay(path: Path, reporter: Reporter) -> None:
    if not path.exists():
        return
    for line in path.read_text(encoding="utf-8").splitlines():
        event = json.loads(line)
        if event["kind"] == "report":
            reporter.report(event["step"], event["metrics"])
        else:
            reporter.log(event["step"], event["total"], event["metrics"])


class FileReporter:
    """Rank 0's reporter: every report goes to ``job-events.jsonl`` (never prunes)."""

    def __init__(self, path: Path) -> None:
        self.out = path.open("a", encoding="utf-8")

    def _write(self, event: dict[str, Any]) -> None:
        self.out.write(json.dumps(event) + "\n")
        self.out.flush()

    def report(self, step: int, metrics: dict[str, float]) -> bool:
        self._write({"kind": "report", "step": step, "metrics": metrics})
        return False

    def log(self, step: int, total: int | None, metrics: dict[str, float]) -> None:
        self._write({"kind": "log", "step": step, "total": total, "metrics": metrics})


class Silent:
    def report(self, step: int, metrics: dict[str, float]) -> bool:
        return False

    def log(self, step: int, total: int | None, metrics: dict[str, float]) -> None:
        return None


def rank_description(desc: TrialDescription, rank: int) -> TrialDescription:
    """The description one rank trains: the job's trainer settings added, and for ranks
    other than 0 a folder of their own."""
    low = desc.trainer
    if low is not None and low.job_config:
        low = replace(low, config={**low.config, **low.job_config})
    directory = desc.directory if rank == 0 else f"{desc.directory}/rank{rank}"
    return replace(desc, trainer=low, directory=directory)


def load_model(worker: Any, path: str, desc: TrialDescription) -> Any:
    """The trial's base model: quantised (BitsAndBytesConfig, then PEFT's
    prepare_model_for_kbit_training), sharded at load time (transformers' FSDP2
    `DistributedConfig`) in a distributed job, else the worker's cached copy in the
    lowered dtype (fp32 for master weights)."""
    low = desc.trainer
    spec = desc.model
    dtype = low.model_dtype if low is not None else (spec.policy.precision if spec else "")
    if low is None or (low.quantization is None and not (
            low.distributed and os.environ.get(IN_JOB) == "1")):
        return worker.model(path, dtype)
    import torch
    from transformers import AutoModelForCausalLM

    kwargs: dict[str, Any] = {"dtype": getattr(torch, dtype)}
    if low.quantization is not None:
        from transformers import BitsAndBytesConfig

        q = dict(low.quantization)
        for key in ("bnb_4bit_compute_dtype", "bnb_4bit_quant_storage"):
            if key in q:
                q[key] = getattr(torch, q[key])
        kwargs["quantization_config"] = BitsAndBytesConfig(**q)  # type: ignore[no-untyped-call]
    if low.distributed and os.environ.get(IN_JOB) == "1":
        from transformers.distributed import DistributedConfig  # type: ignore[attr-defined]

        kwargs["distributed_config"] = DistributedConfig(**low.distributed)
    model = AutoModelForCausalLM.from_pretrained(path, **kwargs)
    if "distributed_config" in kwargs:  # job.log shows how the rank holds its weights
        param = next(model.parameters())
        print(f"specc rank {os.environ.get('RANK', '0')}: {desc.launch.strategy} over "
              f"{desc.launch.processes} processes, parameters {type(param).__name__}",
              file=sys.stderr, flush=True)
    if low.kbit is not None:
        from peft import prepare_model_for_kbit_training

        model = prepare_model_for_kbit_training(model, **low.kbit)  # type: ignore[no-untyped-call]
    return model


def one_device(args: Any) -> Any:
    """A trial in one process trains on one device: HF's Trainer would otherwise wrap the
    model in ``DataParallel`` over every GPU it sees (a multi-GPU trial is a job)."""
    if os.environ.get(IN_JOB) != "1" and getattr(args, "n_gpu", 1) > 1:
        _ = args.device  # device setup is cached; its GPU count is what the Trainer reads
        args._n_gpu = 1
    return args
