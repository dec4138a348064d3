"""`specc validate`: the spec layer's checks plus memory and search-space feasibility."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import field

from specc.compiler import space
from specc.compiler.fit import check_context_length, check_memory
from specc.spec.check import Checked, check_file
from specc.spec.diagnostics import Collector, Diagnostic, ExitCode, Severity, exit_code
from specc.spec.records import record
from specc.spec.rules import Context
from specc.spec.yamlio import MAX_BYTES


@record
class Validation:
    """The outcome of validating one or more files."""

    files: list[str]
    diagnostics: list[Diagnostic]
    texts: dict[str, str] = field(default_factory=dict)
    checked: list[Checked] = field(default_factory=list)

    @property
    def exit_code(self) -> ExitCode:
        return exit_code(self.diagnostics)


def validate_one(file: str, diags: Collector, *, overrides: list[str] | None = None,
                 text: str | None = None, max_bytes: int | None = None,
                 root: str | Sequence[str] | None = None) -> Checked:
    before = len(diags.items)
    checked = check_file(file, diags, overrides=overrides, text=text, max_bytes=max_bytes,
                         root=root)
    spec, loaded = checked.spec, checked.loaded
    if spec is None or loaded.data is None:
        return checked
    sub = diags.scoped(loaded.locations, file)
    ctx = Context(spec=spec, data=loaded.data, diags=sub, file=file)
    check_context_length(ctx)
    check_memory(ctx)
    clean = not any(d.severity is Severity.ERROR for d in diags.items[before:])
    if spec.hpo and spec.hpo.search_space and loaded.raw is not None and clean:
        space.report(space.feasibility(spec, loaded.raw, file, extra=_point_checks), sub)
    return checked


def _point_checks(ctx: Context) -> None:
    check_context_length(ctx)
    check_memory(ctx)


def validate_files(files: list[str], *, overrides: list[str] | None = None,
                   max_bytes: int | None = None, stdin_name: str | None = None,
                   root: str | Sequence[str] | None = None) -> Validation:
    """Validate every file; all problems of all files are collected in one run.
    ``-`` is standard input, named ``stdin_name`` (default ``<stdin>``) in diagnostics;
    ``root`` adds folders `extends` may resolve in (as `--root`)."""
    from specc.spec import sources

    diags = Collector()
    texts: dict[str, str] = {}
    checked = []
    shown = list(files)
    stdin_seen = False
    with sources.batch_roots():  # each folder walked up once for the whole call
        for i, given in enumerate(files):
            f, text = given, None
            if given == sources.STDIN:
                f = shown[i] = stdin_name or sources.STDIN_NAME
                if stdin_seen:
                    diags.add("Y021", "`-` (standard input) is named more than once", file=f,
                              line=1, column=1, hint="give `-` once")
                    continue
                stdin_seen = True
                limit = MAX_BYTES if max_bytes is None else max_bytes
                text = sources.read_stdin(diags, f, max_bytes=limit)
                if text is None:
                    continue
            c = validate_one(f, diags, overrides=overrides, max_bytes=max_bytes, text=text,
                             root=root)
            texts.update(c.loaded.texts)
            checked.append(c)
    return Validation(shown, sorted(diags.items, key=Diagnostic.sort_key), texts, checked)
