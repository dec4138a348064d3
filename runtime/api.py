"""The Python API: ``specc.load``, ``specc.plan``, ``specc.run``, ``specc.report``.

    import specc

    spec = specc.load("examples/quickstart.yaml")            # a validated Spec
    plan = specc.plan("examples/quickstart.yaml")            # trials, memory, trainer calls
    summary = specc.run("examples/quickstart.yaml", output="runs/qs")
    print(summary.best_params, summary.best_value)
    report = specc.report("runs/qs")                         # runs/qs/report/report.html
    specc.edit("examples/sft.yaml").set("sft.seed", 7).save()  # comments and layout kept

Errors in a spec raise :class:`SpecError`, which carries every diagnostic.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from specc.errors import SpeccError, SpecError
from specc.spec.diagnostics import Collector

if TYPE_CHECKING:
    from specc.compiler.plan import Plan
    from specc.runtime.document import SpecDocument
    from specc.runtime.report.build import StudyReport
    from specc.runtime.study import RunSummary
    from specc.spec.models import Spec

__all__ = ["SpecDocument", "SpecError", "SpeccError", "edit", "load", "plan", "report", "run"]


def _texts(file: str, overrides: list[str] | None) -> dict[str, str]:
    from specc.spec.loader import source_texts

    return source_texts(file, overrides)


def edit(file: str) -> SpecDocument:
    """Open ``file`` for in-place editing: ``.set(path, value)`` (alias ``update_param``),
    ``.get``, ``.text``, ``.validate()``, ``.diff()``, ``.save(dest=None)`` (alias
    ``save_config``; refuses with :class:`SpecError` when the edits introduce errors).
    Only the edited values' text changes; comments and layout stay."""
    from specc.runtime.document import edit as _edit

    return _edit(file)


def __getattr__(name: str) -> Any:
    if name == "SpecDocument":
        from specc.runtime.document import SpecDocument

        return SpecDocument
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def load(file: str, overrides: list[str] | None = None) -> Spec:
    """Load, resolve and validate ``file``; the :class:`~specc.spec.models.Spec` (presets,
    ``extends`` and interpolation applied). Raises :class:`SpecError` on errors."""
    from specc.compiler.validate import validate_one

    diags = Collector()
    checked = validate_one(file, diags, overrides=list(overrides or []))
    if checked.spec is None or diags.has_errors:
        raise SpecError(file, diags.items, checked.loaded.texts)
    return checked.spec


def plan(file: str, overrides: list[str] | None = None, *, preview: int | None = None,
         output_dir: str | None = None) -> Plan:
    """Compile ``file`` into its :class:`~specc.compiler.plan.Plan` (trials, derived numbers,
    memory, trainer calls). Raises :class:`SpecError` on errors."""
    from specc.compiler.plan import build_plan

    diags = Collector()
    result = build_plan(file, overrides=list(overrides or []), preview=preview,
                        output_dir=output_dir, diags=diags)
    if result is None:
        raise SpecError(file, diags.items, _texts(file, overrides))
    return result


def run(file: str, overrides: list[str] | None = None, *, output: str | None = None,
        storage: str | None = None, workers: int | None = None, study_name: str | None = None,
        n_trials: int | None = None, callbacks: Sequence[Any] | None = None,
        progress: bool = True, new_study: bool = False,
        allow_changed: bool = False) -> RunSummary:
    """Run the study of ``file`` (or its single training run) and return a
    :class:`~specc.runtime.study.RunSummary`. See :func:`specc.runtime.study.run_study`
    (``new_study`` / ``allow_changed``: a study resumed with a changed spec)."""
    from specc.runtime.study import run_study

    return run_study(file, overrides=overrides, output=output, storage=storage,
                     workers=workers, study_name=study_name, n_trials=n_trials,
                     callbacks=callbacks, progress=progress, new_study=new_study,
                     allow_changed=allow_changed)


def report(run_dir: str | None = None, *, storage: str | None = None,
           study: str | None = None, output: str | None = None,
           progress: bool = False) -> StudyReport:
    """Write the report of a study: ``report.html``, one PNG per chart and ``summary.md``
    (default folder: ``<run_dir>/report/``). Give a `specc run` output folder, or
    ``storage`` (and ``study`` when the storage holds several). Raises
    :class:`specc.runtime.report.data.ReportError` when there is no such folder, storage or
    study, or the study has no trials. See :func:`specc.runtime.report.build.build_report`."""
    import sys

    from specc.runtime.report.build import build_report

    def say(msg: str) -> None:
        print(f"specc report: {msg}", file=sys.stderr, flush=True)

    return build_report(run_dir, storage=storage, study=study, output=output,
                        say=say if progress else None)
