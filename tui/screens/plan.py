"""The plan screen: the trials the buffer compiles to, and the study that will run them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from specc.tui.files import temp_copy

if TYPE_CHECKING:
    from specc.compiler.plan import Plan, Trial
    from specc.spec.diagnostics import Diagnostic
    from specc.tui.app import SpeccApp

BAR = 8


@dataclass
class Planned(Message):
    """``build_plan`` of buffer ``version`` finished: a plan, or why there is none."""

    version: int
    plan: Plan | None
    problems: list[Diagnostic]
    error: str = ""


def memory_cell(memory: dict[str, Any] | None) -> Text:
    """``74.7 MiB / 23.5 GiB [#.........]``, red when it does not fit."""
    from specc.compiler.report import human_bytes

    if not memory:
        return Text("-", style="dim")
    used, cap = int(memory["total_bytes"]), int(memory["capacity_bytes"])
    filled = min(round(BAR * used / cap), BAR) if cap > 0 else 0
    fits = memory.get("fits", used <= cap)
    return Text.assemble(f"{human_bytes(used)} / {human_bytes(cap)} ",
                         ("█" * filled, "green" if fits else "bold red"),
                         ("·" * (BAR - filled), "dim"))


def _short(path: str, width: int = 14) -> str:
    """A column label for a parameter path (the detail panel shows it whole)."""
    parts = path.split(".")
    name = parts[-1] if len(parts[-1]) > 3 else ".".join(parts[-2:])
    return name if len(name) <= width else name[:width - 1] + "…"


def _fmt(v: Any) -> str:
    return f"{v:.3g}" if isinstance(v, float) else str(v)


def study_text(plan: Plan) -> Text:
    """The study settings in four lines."""
    st, sp = plan.study, plan.space
    out = Text.assemble((plan.name, "bold"), f" ({plan.algorithm})")
    if "sampler" not in st:
        out.append(f"  single run; output {st.get('output_dir', '-')}")
        return out

    def settings(block: dict[str, Any]) -> str:
        rest = ", ".join(f"{k}={v}" for k, v in block.items() if k != "type")
        return f"{block['type']}" + (f" ({rest})" if rest else "")

    objectives = ", ".join(f"{o['metric']} ({o['direction']})" for o in st["objectives"])
    timeout = f", timeout {st['timeout']}s" if st.get("timeout") else ""
    out.append(f"  {st['n_trials']} trials{timeout}, {st.get('parallel') or 1} parallel; "
               f"objective {objectives}")
    kind = sp["kind"]
    shown = (f"grid of {len(plan.trials)} points" if kind == "grid" else
             f"{len(sp['dimensions'])} dimension(s), {len(plan.trials)} sampled point(s) "
             "shown (m: more)" if kind == "preview" else "no search space")
    for label, value in (("sampler", settings(st["sampler"])),
                         ("pruner", settings(st["pruner"])),
                         ("storage", f"{st['storage']}  study {st['study_name']}"),
                         ("space", shown)):
        out.append(("\n" if label != "pruner" else "  ") + f"{label} ", style="dim")
        out.append(value)
    return out


def trial_detail(t: Trial) -> Text:
    out = Text.assemble((f"trial {t.number}", "bold"), ("  id ", "dim"), t.id)
    for r in t.reasons:
        out.append("\n")
        out.append(r, style="red" if not t.feasible else "yellow")
    if t.params:
        out.append("\n")
        out.append("  ".join(f"{k}={_fmt(v)}" for k, v in t.params.items()))
    call = trainer_line(t)
    if call:
        out.append("\ntrainer: ", style="dim")
        out.append(call)
    if t.memory and t.memory.get("components"):
        from specc.compiler.report import human_bytes

        parts = [f"{k} {human_bytes(v)}" for k, v in t.memory["components"].items() if v]
        out.append("\nmemory: ", style="dim")
        out.append(", ".join(parts))
    return out


#: The knobs the trainer line shows for specc's own trainers, when the config has them.
_KNOBS = ("num_rounds", "num_samples_per_prompt", "reward_threshold", "best_of_n",
          "advantage_beta", "clip_advantage", "ppo_epochs", "clip_range", "init_kl_coef",
          "mini_batch_size", "max_steps")


def trainer_line(t: Trial) -> str:
    """``RSSFTTrainer (specc): num_rounds=2, ...``: for RS-SFT, AWR and PPO (specc's own
    trainers), the class and the knobs of their rounds or updates; empty for TRL's."""
    low = t.trainer
    if low is None or low.trainer_class is None:
        return ""
    module, _, name = low.trainer_class.rpartition(".")
    if not module.startswith("specc."):
        return ""  # TRL's trainers: the trainer call is `specc plan --format json`'s
    knobs = [f"{k}={_fmt(low.config[k])}" for k in _KNOBS if k in low.config]
    return f"{name} (specc): " + ", ".join(knobs)


class PlanScreen(Screen[None]):
    """``specc plan`` of the editor's buffer, rebuilt when the buffer changed."""

    BINDINGS = [
        Binding("r", "replan", "Rebuild"),
        Binding("m", "more", "More points"),
    ]

    app: SpeccApp

    def __init__(self) -> None:
        super().__init__()
        self._version = -1
        self._plan: Plan | None = None
        self._extra = 0

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="plan-study")
        yield DataTable(id="plan-trials", cursor_type="row", zebra_stripes=True)
        yield Static(id="plan-detail")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#plan-study", Static).border_title = "Study"
        self.query_one("#plan-trials", DataTable).border_title = "Trials"
        self.query_one("#plan-detail", Static).border_title = "Trial"

    def on_screen_resume(self) -> None:
        if self.app.session.version != self._version:
            self.action_replan()
        self.query_one(DataTable).focus()

    def action_replan(self) -> None:
        session = self.app.session
        if session.file is None:
            self.query_one("#plan-study", Static).update("no spec file: `specc tui FILE`")
            return
        self.query_one("#plan-study", Static).update(Text("compiling…", style="dim"))
        preview = None if self.app.preview is None and not self._extra else \
            (self.app.preview or 5) + self._extra
        self._build(session.version, session.text, preview)

    def action_more(self) -> None:
        self._extra += 5
        self.action_replan()

    @work(thread=True, exclusive=True, group="plan", exit_on_error=False)
    def _build(self, version: int, text: str, preview: int | None) -> None:
        from specc.compiler.plan import build_plan
        from specc.spec.diagnostics import Collector, Severity

        file = self.app.session.file
        assert file is not None
        diags = Collector()
        try:
            with temp_copy(file, text) as tmp:
                plan = build_plan(str(tmp), preview=preview, diags=diags)
        except Exception as e:  # a read-only folder, or a bug in a lowering
            self.post_message(Planned(version, None, [], f"cannot build the plan: {e}"))
            return
        problems = [d for d in diags.items if d.severity is Severity.ERROR]
        if plan is not None:
            plan.file = str(file)
        self.post_message(Planned(version, plan, problems))

    @on(Planned)
    def _planned(self, event: Planned) -> None:
        self._version = event.version
        self._plan = event.plan
        study = self.query_one("#plan-study", Static)
        table = self.query_one(DataTable)
        table.clear(columns=True)
        self.query_one("#plan-detail", Static).update("")
        if event.plan is None:
            msg = Text(event.error or "the spec has errors; fix them in the editor (F2)",
                       style="red")
            for d in event.problems[:5]:
                msg.append(f"\n{d.code} {d.line}:{d.column} {d.message}", style="default")
            study.update(msg)
            return
        plan = event.plan
        study.update(study_text(plan))
        dims = list(plan.space["dimensions"])
        table.add_column("trial", key="trial")
        table.add_column("feasible", key="feasible")
        for d in dims:
            table.add_column(_short(d), key=f"p:{d}")
        for label in ("eff.batch", "accum", "steps", "memory"):
            table.add_column(label, key=label)
        for t in plan.trials:
            der = t.derived
            feasible = Text("yes", style="green") if t.feasible else Text(
                "no: " + "; ".join(r.split(" ", 1)[0] for r in t.reasons), style="bold red")
            table.add_row(
                str(t.number), feasible, *(_fmt(t.params.get(d, "-")) for d in dims),
                str(der.effective_batch_size) if der else "-",
                str(der.grad_accumulation_steps) if der else "-",
                str(der.total_steps) if der and der.total_steps is not None else "-",
                memory_cell(t.memory), key=str(t.number))
        fits = sum(t.feasible for t in plan.trials)
        table.border_subtitle = f"{fits} of {len(plan.trials)} feasible"

    @on(DataTable.RowHighlighted, "#plan-trials")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        if self._plan is None or event.row_key.value is None:
            return
        number = int(event.row_key.value)
        trial = next((t for t in self._plan.trials if t.number == number), None)
        if trial is not None:
            self.query_one("#plan-detail", Static).update(trial_detail(trial))
