"""`specc report`: real Optuna studies in real storages, the page opened in headless Chromium.

The studies are built with Optuna directly (a cheap objective that reports intermediate
values, a median pruner, a trial that fails with its reason), laid out as `specc run` lays
out its folder; one test reports the output of a real, tiny `specc run`. The browser checks
are the must-show: every chart the report promises is an SVG plotly drew, with no network
(every host name fails to resolve), the screenshot is not blank, and the page references
nothing it would fetch.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from specc.cli import main

CHROMIUM = os.environ.get("SPECC_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
SINGLE_CHARTS = {"history", "importances", "parallel", "slice", "intermediate", "timeline"}
MULTI_DRAWN = {"pareto", "history-0", "history-1", "importances", "parallel-0", "parallel-1",
               "slice-0", "slice-1", "timeline"}


# --- studies -------------------------------------------------------------------------------------

def _quiet() -> Any:
    import warnings

    import optuna

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
    return optuna


def _single_objective(trial: Any) -> float:
    """A cheap stand-in for a training run: four evaluations (training steps 10..40), a
    median pruner, one trial that crashes with its reason recorded as `specc run` does."""
    optuna = _quiet()
    lr = trial.suggest_float("policy.optimizer.kwargs.lr", 1e-5, 1e-2, log=True)
    beta = trial.suggest_float("dpo.reference_policy_kl_penalty", 0.05, 0.5)
    batch = trial.suggest_categorical("policy.train_global_batch_size", [8, 16])
    if trial.number == 4:
        trial.set_user_attr("reason", "RuntimeError: CUDA out of memory")
        raise RuntimeError("CUDA out of memory")
    loss = 1.0
    steps = []
    for i in range(4):
        loss = abs(lr * 300 - 1.0) + beta * 0.2 + batch / 100 + 0.3 / (i + 1)
        trial.report(loss, i)
        steps.append(10 * (i + 1))
        trial.set_user_attr("specc_report_steps", steps)
        if trial.should_prune():
            trial.set_user_attr("reason", f"pruned at step {steps[-1]} (eval_loss={loss:.4f})")
            raise optuna.TrialPruned()
    return loss


def _run_folder(folder: Path, study: Any, objectives: list[str]) -> None:
    """What `specc run` writes beside its study: results.json and trials/<n>/spec.yaml."""
    (folder / "results.json").write_text(json.dumps({
        "study": study.study_name, "objectives": objectives, "n_trials": 12,
        "directions": [d.name.lower() for d in study.directions]}))
    for t in study.trials:
        tdir = folder / "trials" / str(t.number)
        tdir.mkdir(parents=True, exist_ok=True)
        params = "\n".join(f"#   {k}: {v}" for k, v in t.params.items())
        (tdir / "spec.yaml").write_text(
            f"# trial {t.number}\n{params}\nspecc: 1\nname: {study.study_name}\n"
            "algorithm: dpo\npolicy: {model_name: 'specc:tiny-llama'}\n"
            "hpo:\n  sampler: {type: tpe, seed: 3}\n  pruner: {type: median}\n"
            "  n_trials: 12\n")


@pytest.fixture(scope="module")
def single(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A `specc run`-like folder: a single-objective SQLite study, 12 trials (complete,
    pruned, one failed)."""
    optuna = _quiet()
    folder = tmp_path_factory.mktemp("single")
    study = optuna.create_study(
        storage=f"sqlite:///{folder / 'study.db'}", study_name="single",
        sampler=optuna.samplers.TPESampler(seed=3),
        pruner=optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=1))
    study.optimize(_single_objective, n_trials=12, catch=(RuntimeError,))
    states = {t.state.name for t in study.trials}
    assert states == {"COMPLETE", "PRUNED", "FAIL"}, states  # the fixture shows all three
    _run_folder(folder, study, ["eval_loss"])
    return folder


@pytest.fixture(scope="module")
def journal(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A journal file holding two studies: a two-objective one, and another."""
    optuna = _quiet()
    from optuna.storages.journal import JournalFileBackend, JournalStorage

    path = tmp_path_factory.mktemp("multi") / "studies.journal"
    storage = JournalStorage(JournalFileBackend(str(path)))
    multi = optuna.create_study(storage=storage, study_name="multi",
                                directions=["minimize", "maximize"],
                                sampler=optuna.samplers.RandomSampler(seed=1))

    def two(trial: Any) -> tuple[float, float]:
        x = trial.suggest_float("x", 0.0, 1.0)
        y = trial.suggest_int("y", 1, 8)
        if trial.number == 2:
            trial.set_user_attr("reason", "ValueError: reward function raised")
            raise ValueError("boom")
        return x * y, (1 - x) * y

    multi.optimize(two, n_trials=10, catch=(ValueError,))
    multi.set_metric_names(["eval_loss", "eval_reward"])
    other = optuna.create_study(storage=storage, study_name="other")
    other.optimize(lambda t: t.suggest_float("z", 0, 1), n_trials=2)
    return path


def report(*argv: str) -> int:
    return int(main(["report", *argv]))


# --- the browser ---------------------------------------------------------------------------------

def _chromium(*args: str, profile: Path) -> subprocess.CompletedProcess[str]:
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"Chromium is needed for the report's must-show test and is not at "
                    f"{CHROMIUM}: install it (`make system-deps`, Debian package `chromium`) "
                    "or set SPECC_CHROMIUM")
    return subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         "--disable-background-networking", "--disable-extensions", "--no-first-run",
         "--host-resolver-rules=MAP * ~NOTFOUND",  # no host resolves: nothing can be fetched
         f"--user-data-dir={profile}", "--virtual-time-budget=5000", *args],
        capture_output=True, text=True, timeout=120, check=False)


class PlotSvgs(HTMLParser):
    """For each ``plot-<id>`` element: whether plotly's ``main-svg`` is inside it."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[tuple[str, str | None]] = []  # (tag, plot id it opens)
        self.svg: dict[str, bool] = {}
        self.notes: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        ident = a.get("id") or ""
        opened = ident.removeprefix("plot-") if ident.startswith("plot-") else None
        if opened:
            self.svg[opened] = False
        if ident.startswith("note-"):
            self.notes.add(ident.removeprefix("note-"))
        if "main-svg" in (a.get("class") or "").split():
            for _, pid in self.stack:
                if pid:
                    self.svg[pid] = True
        if tag not in ("br", "img", "input", "meta", "link", "hr", "path", "rect", "line",
                       "circle", "stop", "use", "image"):
            self.stack.append((tag, opened))

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                break


class Fetches(HTMLParser):
    """Everything in a page that a browser would request."""

    ATTRS = ("src", "href", "srcset", "data", "poster", "action", "background")

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self.csp: str | None = None
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "meta" and (a.get("http-equiv") or "").lower() == "content-security-policy":
            self.csp = a.get("content")
        if tag in ("link", "img", "iframe", "object", "embed", "video", "audio", "source"):
            self.found.append(f"<{tag}>")
        if tag == "script" and a.get("src"):
            self.found.append(f"<script src={a['src']}>")
        for k in self.ATTRS:
            v = (a.get(k) or "").strip().lower()
            if v.startswith(("http:", "https:", "//", "ftp:")):
                self.found.append(f"{tag} {k}={v}")
        style = (a.get("style") or "").lower()
        if "url(" in style:
            self.found.append(f"{tag} style url()")
        self._in_style = tag == "style"

    def handle_data(self, data: str) -> None:
        if self._in_style and ("url(" in data or "@import" in data):
            self.found.append("url() or @import in <style>")

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False


def _pixels(png: Path) -> Any:
    """The PNG decoded (Pillow, which matplotlib depends on) as an RGB uint8 array."""
    import numpy as np
    from PIL import Image

    with Image.open(png) as img:
        return np.asarray(img.convert("RGB"))


def check_in_browser(html: Path, drawn: set[str], notes: set[str], tmp: Path) -> Path:
    """The must-show: every chart in ``drawn`` is plotly SVG in the rendered page, every one
    in ``notes`` is a note, the screenshot is not blank, and nothing would be fetched."""
    import numpy as np

    page = html.read_text(encoding="utf-8")
    fetches = Fetches()
    fetches.feed(page)
    assert fetches.found == []
    assert fetches.csp and "default-src 'none'" in fetches.csp
    assert page.count("* plotly.js v") == 1  # inlined, once for every chart

    dom = _chromium("--dump-dom", html.as_uri(), profile=tmp / "profile-dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    svgs = PlotSvgs()
    svgs.feed(dom.stdout)
    assert set(svgs.svg) == drawn, (sorted(svgs.svg), sorted(drawn))
    assert {cid for cid, ok in svgs.svg.items() if not ok} == set(), "charts plotly did not draw"
    assert svgs.notes == notes

    shot = tmp / f"{html.parent.name}-screenshot.png"
    height = 1000 + 560 * (len(drawn) + len(notes))
    run = _chromium(f"--screenshot={shot}", f"--window-size=1200,{height}",
                    "--hide-scrollbars", html.as_uri(), profile=tmp / "profile-shot")
    assert run.returncode == 0 and shot.exists(), run.stderr[-2000:]
    rgb = _pixels(shot)
    assert rgb.shape[0] == height and rgb.shape[1] == 1200
    packed = (rgb[..., 0].astype(np.uint32) << 16) | (rgb[..., 1].astype(np.uint32) << 8) \
        | rgb[..., 2]
    colours = np.unique(packed)
    assert len(colours) > 200, f"screenshot has {len(colours)} colours: blank?"
    ink = (rgb.astype(int).sum(axis=2) < 600).mean()  # not white or near-white
    assert ink > 0.02, f"screenshot is {ink:.1%} ink: blank?"
    # plotly's plot area (#e5ecf6) is a band of the page for every drawn chart but the
    # parallel coordinates (which have none)
    plot_bg = np.all(np.abs(rgb.astype(int) - [229, 236, 246]) <= 2, axis=2)
    rows = np.flatnonzero(plot_bg.mean(axis=1) > 0.05)
    bands = 1 + int(np.sum(np.diff(rows) > 40)) if len(rows) else 0
    areas = sum(not cid.startswith("parallel") for cid in drawn)
    assert bands >= areas, f"{bands} plot areas in the screenshot, {areas} expected"
    if os.environ.get("SPECC_SCREENSHOT_DIR"):
        shutil.copy(shot, os.environ["SPECC_SCREENSHOT_DIR"])
    return shot


def check_pngs(folder: Path, ids: set[str]) -> None:
    pngs = {p.stem for p in folder.glob("*.png")}
    assert pngs == ids
    for cid in ids:
        path = folder / f"{cid}.png"
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        rgb = _pixels(path)
        assert rgb.shape[0] > 200 and rgb.shape[1] > 300, (cid, rgb.shape)


def section(md: str, title: str) -> str:
    return md.split(f"\n## {title}", 1)[1].split("\n## ", 1)[0]


# --- single objective ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def single_report(single: Path) -> Path:
    assert report(str(single), "--quiet") == 0
    return single / "report"


def test_single_objective_report_files(single_report: Path) -> None:
    """(The browser opens a single-objective report in the real `specc run` test below.)"""
    assert {p.name for p in single_report.iterdir()} == {
        "report.html", "summary.md", *(f"{c}.png" for c in SINGLE_CHARTS)}
    check_pngs(single_report, SINGLE_CHARTS)
    page = (single_report / "report.html").read_text()
    fetches = Fetches()
    fetches.feed(page)
    assert fetches.found == [] and page.count("* plotly.js v") == 1
    for cid in SINGLE_CHARTS:
        assert page.count(f'<div class="plot" id="plot-{cid}">') == 1
    assert "Not drawn" not in page
    assert '<span class="state-FAIL">fail</span>' in page and "CUDA out of memory" in page


def test_single_objective_summary(single: Path, single_report: Path) -> None:
    import optuna

    study = optuna.load_study(study_name="single", storage=f"sqlite:///{single / 'study.db'}")
    best = study.best_trial
    md = (single_report / "summary.md").read_text()
    counts = {s: sum(t.state.name == s for t in study.trials) for s in ("COMPLETE", "PRUNED")}
    trials = section(md, "Trials")
    assert f"{counts['COMPLETE']} complete, {counts['PRUNED']} pruned, 1 failed" in trials
    assert "- failed: RuntimeError: CUDA out of memory (trial 4)" in trials
    assert "- pruned: pruned at step" in trials
    top = section(md, "Best trial")
    assert f"### Trial {best.number}: eval_loss = {best.value:.6g}" in top
    for name, value in best.params.items():
        assert f"| {name} | {value:.6g} |" in top if isinstance(value, float) else \
            f"| {name} | {value} |" in top
    assert f"trials/{best.number}/spec.yaml" in top and f"# trial {best.number}\n" in top
    settings = md.split("\n## ", 1)[0]
    assert "- **sampler**: tpe (seed 3)" in settings
    assert "- **trials**: 12 finished of a budget of 12" in settings
    assert "| policy.optimizer.kwargs.lr | float [1e-05, 0.01] log |" in md
    assert "| policy.train_global_batch_size | categorical 8, 16 |" in md
    for cid in SINGLE_CHARTS:
        assert f"]({cid}.png)" in section(md, "Charts")
    rows = section(md, "All trials").strip().splitlines()[2:]
    assert len(rows) == 12 and "| 4 | fail |" in rows[4]


def test_intermediate_values_are_keyed_by_training_step(single: Path) -> None:
    from specc.runtime.report.data import load, resolve

    data = load(resolve(str(single), None, None))
    stepped = [t for t in data.snapshot.trials if t.intermediate_values]
    assert stepped and all(set(t.intermediate_values) <= {10, 20, 30, 40} for t in stepped)
    assert [t.number for t in data.snapshot.trials] == list(range(12))


def test_report_only_reads_the_study(single: Path, single_report: Path,
                                     tmp_path: Path) -> None:
    db = single / "study.db"
    before = (hashlib.sha256(db.read_bytes()).hexdigest(), sorted(os.listdir(single)))
    out = tmp_path / "elsewhere"
    assert report("--storage", f"sqlite:///{db}", "--output", str(out), "-q") == 0
    assert (out / "report.html").exists()
    assert (hashlib.sha256(db.read_bytes()).hexdigest(), sorted(os.listdir(single))) == before


# --- multi-objective -----------------------------------------------------------------------------

def test_multi_objective_report_with_pareto_front(journal: Path, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    import optuna

    out = tmp_path / "multi-report"
    assert report("--storage", f"journal:{journal}", "--study", "multi", "--output",
                  str(out)) == 0
    err = capsys.readouterr().err
    assert "reading study 'multi'" in err and "writing the PNGs" in err  # progress
    assert "not drawn: intermediate" in err
    check_in_browser(out / "report.html", MULTI_DRAWN, {"intermediate"}, tmp_path)
    check_pngs(out, MULTI_DRAWN)
    page = (out / "report.html").read_text()
    assert "Not drawn: multi-objective trials report no intermediate values" in page
    study = optuna.load_study(study_name="multi",
                              storage=optuna.storages.JournalStorage(
                                  optuna.storages.journal.JournalFileBackend(str(journal))))
    front = sorted(t.number for t in study.best_trials)
    md = (out / "summary.md").read_text()
    assert "- **objectives**: eval_loss (minimize), eval_reward (maximize)" in md
    pareto = section(md, f"Pareto set ({len(front)} trials)")
    assert sorted(int(line.split()[2].rstrip(":")) for line in pareto.splitlines()
                  if line.startswith("### Trial ")) == front
    assert "- failed: ValueError: reward function raised (trial 2)" in md


# --- charts that cannot be drawn -----------------------------------------------------------------

def test_charts_that_cannot_be_drawn_say_why(tmp_path: Path) -> None:
    """One parameter, one complete trial, one failed, one still running, no intermediate
    values: the charts that need more say so in place, and a stale PNG goes."""
    optuna = _quiet()
    folder = tmp_path / "run"
    folder.mkdir()
    study = optuna.create_study(storage=f"sqlite:///{folder / 'study.db'}", study_name="tiny")
    study.optimize(lambda t: t.suggest_float("lr", 1e-5, 1e-3, log=True), n_trials=1)
    failed = study.ask()
    failed.suggest_float("lr", 1e-5, 1e-3, log=True)
    failed.set_user_attr("reason", "loss is NaN at step 3")
    study.tell(failed, state=optuna.trial.TrialState.FAIL)
    study.ask().suggest_float("lr", 1e-5, 1e-3, log=True)  # RUNNING: a study in progress
    out = folder / "report"
    out.mkdir()
    (out / "importances.png").write_bytes(b"stale")  # from an earlier report
    (out / "notes.png").write_bytes(b"the user's")
    assert report(str(folder), "-q") == 0
    assert not (out / "importances.png").exists() and (out / "notes.png").exists()
    page = (out / "report.html").read_text()
    md = (out / "summary.md").read_text()
    expected = {
        "importances": "importances need at least 2 complete trials; this study has 1",
        "intermediate": "no trial reported an intermediate value",
    }
    for cid, why in expected.items():
        assert f'<div class="unavailable" id="note-{cid}">Not drawn: {why}.</div>' in page
        assert f"Not drawn: {why}." in md
    assert "1 complete, 0 pruned, 1 failed, 1 running" in md
    assert "- failed: loss is NaN at step 3 (trial 1)" in md
    assert {p.stem for p in out.glob("*.png")} == {"history", "parallel", "slice", "timeline",
                                                   "notes"}


def test_importances_need_two_parameters(tmp_path: Path) -> None:
    optuna = _quiet()
    db = tmp_path / "one.db"
    study = optuna.create_study(storage=f"sqlite:///{db}", study_name="one")
    study.optimize(lambda t: t.suggest_float("lr", 0, 1) ** 2, n_trials=4)
    from specc.runtime.report.build import build_report

    rep = build_report(storage=f"sqlite:///{db}", output=str(tmp_path / "r"))
    assert rep.notes == {
        "importances": "importances need at least 2 searched parameters; this study "
                       "searches only lr",
        "intermediate": "no trial reported an intermediate value"}
    assert rep.study == "one" and len(rep.pngs) == 4


# --- a real `specc run` --------------------------------------------------------------------------

@pytest.mark.slow
def test_report_of_a_real_specc_run(tmp_path: Path,
                                    tmp_path_factory: pytest.TempPathFactory) -> None:
    from test_run_study import env, write_spec

    spec = write_spec(tmp_path / "spec.yaml", name="tiny-report", steps=4, n_trials=3,
                      space="    policy.optimizer.kwargs.lr: {type: float, low: 1.0e-5, "
                      "high: 1.0e-3, log: true}\n    dpo.reference_policy_kl_penalty: "
                      "{type: float, low: 0.05, high: 0.5}")
    out = tmp_path / "out"
    cache = os.environ.get("SPECC_TEST_CACHE") or str(tmp_path_factory.mktemp("cache"))

    def specc(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "specc", *args],
                              env={**env(), "SPECC_CACHE": cache}, capture_output=True,
                              text=True, timeout=300, check=False)

    ran = specc("run", str(spec), "--output", str(out), "--quiet")
    assert ran.returncode == 0, ran.stderr[-3000:]
    made = specc("report", str(out))
    assert made.returncode == 0, made.stderr[-3000:]
    assert "Traceback" not in made.stderr and "specc report: drawing" in made.stderr
    assert f"report: {out / 'report' / 'report.html'}" in made.stdout
    results = json.loads((out / "results.json").read_text())
    best = results["best"]
    md = (out / "report" / "summary.md").read_text()
    assert f"### Trial {best['number']}: eval_loss = {best['value']:.6g}" in \
        section(md, "Best trial")
    assert "name: tiny-report-best" in section(md, "Best trial")  # its runnable best.yaml
    assert "- **spec**: name tiny-report, algorithm dpo, model specc:tiny-llama" in md
    check_in_browser(out / "report" / "report.html", SINGLE_CHARTS, set(), tmp_path)
    check_pngs(out / "report", SINGLE_CHARTS)


# --- a study in PostgreSQL, its outputs in a folder ----------------------------------------------

@pytest.mark.postgres
def test_folder_whose_study_lives_in_postgresql(tmp_path: Path) -> None:
    """`specc run --storage postgresql://...` leaves no study file in its folder: the
    report follows the URL results.json names (or --storage), and reads only."""
    import uuid

    optuna = _quiet()
    from test_run_distributed import PG_URL, _postgres_ready

    from specc.spec.storage_url import driver_url

    _postgres_ready()
    name = f"specc-report-{uuid.uuid4().hex[:10]}"
    study = optuna.create_study(storage=driver_url(PG_URL), study_name=name)
    try:
        study.optimize(_single_objective, n_trials=6, catch=(RuntimeError,))
        _run_folder(tmp_path, study, ["eval_loss"])
        results = json.loads((tmp_path / "results.json").read_text())
        (tmp_path / "results.json").write_text(json.dumps({**results, "storage": PG_URL}))
        assert report(str(tmp_path), "-q") == 0
        md = (tmp_path / "report" / "summary.md").read_text()
        # shown as Optuna's tools open it: with the installed driver
        assert f"# Study report: {name}" in md and \
            f"- **storage**: {driver_url(PG_URL)}" in md
        assert f"### Trial {study.best_trial.number}: eval_loss" in md
        out = tmp_path / "by-url"
        assert report("--storage", PG_URL, "--study", name, "--output", str(out), "-q") == 0
        assert (out / "report.html").exists() and (out / "history.png").exists()
        assert len(optuna.load_study(study_name=name, storage=driver_url(PG_URL)).trials) == 6
    finally:
        optuna.delete_study(study_name=name, storage=driver_url(PG_URL))


# --- errors --------------------------------------------------------------------------------------

def _empty_study(tmp: Path) -> list[str]:
    import optuna

    optuna.create_study(storage=f"sqlite:///{tmp / 'study.db'}", study_name="empty")
    return [str(tmp)]


ERRORS: list[tuple[str, Callable[[Path, Path], list[str]], str]] = [
    ("missing folder", lambda tmp, j: [str(tmp / "nope")], "no such folder: "),
    ("folder without a study", lambda tmp, j: [str(tmp)], "has no study.db or study.journal"),
    ("empty study", lambda tmp, j: _empty_study(tmp), "study 'empty' in sqlite:///"),
    ("unknown study", lambda tmp, j: ["--storage", f"journal:{j}", "--study", "nope"],
     "no study named 'nope' in /"),  # the journal's path, as Optuna's CLI takes it
    ("several studies", lambda tmp, j: ["--storage", f"journal:{j}"],
     "holds 2 studies: pick one with --study NAME (multi, other)"),
    ("no storage file", lambda tmp, j: ["--storage", f"sqlite:///{tmp / 'x.db'}"],
     "no study storage at "),
    ("not a storage URL", lambda tmp, j: ["--storage", "foo"], "unknown storage 'foo'"),
    ("nothing given", lambda tmp, j: [], "give a `specc run` output folder DIR"),
]


@pytest.mark.parametrize(("argv", "message"), [(e[1], e[2]) for e in ERRORS],
                         ids=[e[0] for e in ERRORS])
def test_errors_are_messages_with_exit_2(argv: Callable[[Path, Path], list[str]], message: str,
                                         journal: Path, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    assert report(*argv(tmp_path, journal)) == 2
    err = capsys.readouterr().err
    assert message in err and err.splitlines()[-1].startswith("specc report: error: ")
    assert "Traceback" not in err and not (tmp_path / "report").exists()


def test_api() -> None:
    import specc
    from specc.runtime.report.data import ReportError

    assert "report" in specc.__all__ and callable(specc.report)
    with pytest.raises(ReportError, match="no such folder"):
        specc.report("/nonexistent/run")
