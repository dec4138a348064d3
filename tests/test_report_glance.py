"""`specc report` read at a glance, checked in headless Chromium at 1366x768.

* the first screen (no scrolling) shows the study, its status and the best trial with its
  value and every parameter (the Pareto set for several objectives): measured from the
  DOM of the laid-out page by a probe added to a copy of it;
* every drawn chart has a legend or a titled colour bar, and the parallel-coordinate axis
  labels are whole;
* every colour that tells trials apart keeps 3:1 contrast with the white page (the worst
  trial's line is not near-white), and the screenshot of the first screen is kept.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from test_report import _chromium, _pixels, journal, report, single

from specc.runtime.report.style import contrast_with_white, scale, short_labels, wrap

__all__ = ["journal", "single"]  # module fixtures of test_report

WIDTH, HEIGHT = 1366, 768

#: Added to a copy of the page: where each first-screen element is, once laid out.
PROBE = """<script>
(function () {
  function box(el) {
    var r = el.getBoundingClientRect();
    var text = el.tagName === "TR" ? Array.prototype.map.call(el.cells, function (c) {
      return c.textContent.trim(); }).join(" | ") : el.textContent.trim();
    return {text: text, top: r.top, bottom: r.bottom, left: r.left,
            right: r.right, shown: r.width > 0 && r.height > 0};
  }
  var out = {width: window.innerWidth, height: window.innerHeight, items: {}};
  ["h1", "#status", "#best-title", "#best-value", "#best-params tr", ".pareto tr"]
    .forEach(function (sel) {
      out.items[sel] = Array.prototype.map.call(document.querySelectorAll(sel), box);
    });
  var pre = document.createElement("pre");
  pre.id = "probe";
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
})();
</script></body>"""


def first_screen(html: Path, tmp: Path) -> dict[str, Any]:
    """The probe's measurements of ``html`` laid out at WIDTH x HEIGHT."""
    probe = html.with_name("probe.html")
    probe.write_text(html.read_text(encoding="utf-8").replace("</body>", PROBE, 1),
                     encoding="utf-8")
    dom = _chromium("--dump-dom", f"--window-size={WIDTH},{HEIGHT}", probe.as_uri(),
                    profile=tmp / "profile-probe")
    assert dom.returncode == 0, dom.stderr[-2000:]
    m = re.search(r'<pre id="probe">(.*?)</pre>', dom.stdout, re.S)
    assert m, "the probe did not run"
    got: dict[str, Any] = json.loads(m.group(1).replace("&quot;", '"').replace("&amp;", "&")
                                     .replace("&lt;", "<").replace("&gt;", ">"))
    assert got["width"] == WIDTH and got["height"] <= HEIGHT, got
    return got


def above_the_fold(got: dict[str, Any], selector: str) -> list[str]:
    """The texts of ``selector``'s elements, each checked to be shown on the first screen."""
    items = got["items"][selector]
    assert items, f"{selector} is not on the page"
    for it in items:
        assert it["shown"] and it["top"] >= 0 and it["bottom"] <= got["height"], \
            f"{selector} {it['text']!r} is not on the first screen: {it}"
        assert it["right"] <= got["width"], f"{selector} {it['text']!r} is cut: {it}"
    return [str(it["text"]) for it in items]


def screenshot(html: Path, tmp: Path) -> Path:
    shot = tmp / f"{html.parent.parent.name}-first-screen.png"
    run = _chromium(f"--screenshot={shot}", f"--window-size={WIDTH},{HEIGHT}",
                    "--hide-scrollbars", html.as_uri(), profile=tmp / "profile-first")
    assert run.returncode == 0 and shot.exists(), run.stderr[-2000:]
    rgb = _pixels(shot)
    assert rgb.shape[:2] == (HEIGHT, WIDTH)
    assert (rgb.astype(int).sum(axis=2) < 600).mean() > 0.01, "first screen is blank"
    if os.environ.get("SPECC_SCREENSHOT_DIR"):
        shutil.copy(shot, os.environ["SPECC_SCREENSHOT_DIR"])
    return shot


def figures(html: Path) -> dict[str, Any]:
    m = re.search(r'<script type="application/json" id="specc-figures">(.*?)</script>',
                  html.read_text(encoding="utf-8"), re.S)
    assert m
    found: dict[str, Any] = json.loads(m.group(1).replace("<\\/", "</"))
    return found


def trial_colours(fig: dict[str, Any]) -> list[str]:
    """Every colour a figure uses to tell trials apart: line colours of its traces and the
    stops of its colour scales."""
    out: list[str] = []
    for tr in fig["data"]:
        line = tr.get("line") or {}
        if isinstance(line.get("color"), str):
            out.append(line["color"])
        marker = tr.get("marker") or {}
        for stop in marker.get("colorscale") or []:
            out.append(stop[1])
    return out


# --- the first screen ----------------------------------------------------------------------------

def test_first_screen_shows_study_status_and_best_trial(single: Path, tmp_path: Path) -> None:
    import optuna

    out = tmp_path / "report"
    assert report(str(single), "--output", str(out), "-q") == 0
    html = out / "report.html"
    got = first_screen(html, tmp_path)
    assert above_the_fold(got, "h1") == ["Study single"]
    status = above_the_fold(got, "#status")[0]
    assert status.startswith("finished") and "all 12 trials finished" in status
    best = optuna.load_study(study_name="single",
                             storage=f"sqlite:///{single / 'study.db'}").best_trial
    assert above_the_fold(got, "#best-title") == [f"Best trial: {best.number}"]
    assert above_the_fold(got, "#best-value") == [f"eval_loss = {best.value:.6g}"]
    rows = above_the_fold(got, "#best-params tr")
    assert len(rows) == 1 + len(best.params)  # the header, then every parameter
    for name, value in best.params.items():
        assert any(r.startswith(name) and r.endswith(f"{value:.6g}" if isinstance(
            value, float) else str(value)) for r in rows), (name, rows)
    assert "**finished**: all 12 trials finished" in (out / "summary.md").read_text()
    screenshot(html, tmp_path)


def test_first_screen_of_a_multi_objective_study_shows_its_pareto_set(
        journal: Path, tmp_path: Path) -> None:
    import optuna

    out = tmp_path / "report"
    assert report("--storage", str(journal), "--study", "multi", "--output", str(out),
                  "-q") == 0
    got = first_screen(out / "report.html", tmp_path)
    assert above_the_fold(got, "h1") == ["Study multi"]
    above_the_fold(got, "#status")
    storage = optuna.storages.JournalStorage(
        optuna.storages.journal.JournalFileBackend(str(journal)))
    front = optuna.load_study(study_name="multi", storage=storage).best_trials
    assert above_the_fold(got, "#best-title") == [f"Pareto set: {len(front)} trials"]
    rows = above_the_fold(got, ".pareto tr")
    assert sorted(int(r.split(" | ")[0]) for r in rows[1:]) == sorted(t.number for t in front)
    assert "**idle**: 10 trials finished, none running" in (out / "summary.md").read_text()
    # the front stands apart from the other trials by shape and colour, named in a legend
    traces = {tr.get("name"): tr for tr in figures(out / "report.html")["pareto"]["data"]}
    best = traces["Pareto-optimal trial"]
    assert best["showlegend"] and best["marker"]["symbol"] == "diamond"
    assert len(best["x"]) == len(front) and contrast_with_white(best["marker"]["color"]) >= 3
    assert traces["other trial (colour: trial number)"]["showlegend"]


# --- charts: legends, labels, colours ------------------------------------------------------------

def test_every_chart_has_a_legend_and_whole_labels(single: Path, tmp_path: Path) -> None:
    out = tmp_path / "report"
    assert report(str(single), "--output", str(out), "-q") == 0
    html = out / "report.html"
    dom = _chromium("--dump-dom", f"--window-size={WIDTH},{HEIGHT}", html.as_uri(),
                    profile=tmp_path / "profile-legend")
    assert dom.returncode == 0, dom.stderr[-2000:]
    parts = re.split(r'<div [^>]*id="plot-([\w-]+)"', dom.stdout)[1:]
    charts = dict(zip(parts[::2], parts[1::2], strict=True))
    assert set(charts) == {"history", "importances", "parallel", "slice", "intermediate",
                           "timeline"}
    for cid, svg in charts.items():
        assert 'class="legend"' in svg or re.search(r'class="[\w]* ?colorbar"', svg), \
            f"chart {cid} has neither a legend nor a colour bar"
    # intermediate values: one legend entry per trial that reported, pruned ones named
    import optuna

    trials = optuna.load_study(study_name="single",
                               storage=f"sqlite:///{single / 'study.db'}").trials
    entries = re.findall(r'class="legendtext"[^>]*data-unformatted="([^"]*)"',
                         charts["intermediate"])
    assert entries == [f"trial {t.number}" + (" (pruned)" if t.state.name == "PRUNED" else "")
                       for t in trials if t.intermediate_values], entries
    # parallel coordinates: every axis label whole (Optuna cuts them at 17 characters)
    ticks = re.findall(r'class="xtick"><text[^>]*data-unformatted="([^"]*)"',
                       charts["parallel"])
    labels = [t.replace("&lt;br&gt;", "") for t in ticks]
    assert labels == ["eval_loss", "reference_policy_kl_penalty", "lr",
                      "train_global_batch_size"], labels
    assert not any("..." in t for t in ticks)
    page = html.read_text(encoding="utf-8")
    assert "lr = policy.optimizer.kwargs.lr" in page  # the caption names each axis in full


def test_trial_colours_stand_out_on_white(single: Path, tmp_path: Path) -> None:
    """The worst trial's line is not near-white: every colour telling trials apart in the
    parallel coordinates, the slices and the intermediate values keeps 3:1 with white."""
    for _, colour in scale():
        assert contrast_with_white(colour) >= 3.0, colour
    out = tmp_path / "report"
    assert report(str(single), "--output", str(out), "-q") == 0
    figs = figures(out / "report.html")
    for cid in ("parallel", "slice", "intermediate"):
        colours = trial_colours(figs[cid])
        assert colours, cid
        low = min(colours, key=contrast_with_white)
        assert contrast_with_white(low) >= 3.0, (cid, low)
    assert contrast_with_white("rgb(206.9, 224.9, 241.9)") < 1.5  # Optuna's worst, for scale


@pytest.mark.parametrize(("names", "labels"), [
    (["policy.optimizer.kwargs.lr", "dpo.beta"], ["lr", "beta"]),
    (["a.lr", "b.lr"], ["a.lr", "b.lr"]),  # a shared last part keeps the one before it
    (["policy.train_global_batch_size"], ["train_global_<br>batch_size"]),
])
def test_short_axis_labels(names: list[str], labels: list[str]) -> None:
    assert list(short_labels(names).values()) == labels
    assert wrap("short") == "short"


@pytest.mark.filterwarnings("ignore::optuna.exceptions.ExperimentalWarning")
def test_pngs_use_the_same_scale_and_whole_labels(single: Path) -> None:
    """Optuna's matplotlib charts (the PNGs beside the page) get the same look: no
    ``Blues`` colour map left, whole parallel-coordinate labels, lines along the scale."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import optuna.visualization.matplotlib as mvis

    from specc.runtime.report.data import load, resolve
    from specc.runtime.report.style import restyle_png

    data = load(resolve(str(single), None, None))
    ax = mvis.plot_parallel_coordinate(data.snapshot, target_name="eval_loss")
    fig = ax.figure
    restyle_png(fig, data, "parallel")
    maps = {getattr(m, "get_cmap")().name  # noqa: B009  (Artist does not declare it)
            for m in fig.findobj(lambda a: hasattr(a, "get_cmap"))}
    assert maps and not maps & {"Blues", "Blues_r"}, maps
    labels = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    assert labels == ["eval_loss", "reference_policy_\nkl_penalty", "lr",
                      "train_global_\nbatch_size"], labels
    plt.close("all")
    ax = mvis.plot_intermediate_values(data.snapshot)
    restyle_png(ax.figure, data, "intermediate")
    from matplotlib.colors import to_hex

    colours = [to_hex(line.get_color()) for line in ax.get_lines()]
    assert colours and min(contrast_with_white(c) for c in colours) >= 3.0, colours
    plt.close("all")


def test_a_large_pareto_set_still_fits_the_first_screen(tmp_path: Path) -> None:
    import optuna
    from optuna.storages.journal import JournalFileBackend, JournalStorage

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    path = tmp_path / "front.journal"
    study = optuna.create_study(storage=JournalStorage(JournalFileBackend(str(path))),
                                study_name="front", directions=["minimize", "minimize"],
                                sampler=optuna.samplers.RandomSampler(seed=0))
    study.optimize(lambda t: (x := t.suggest_float("x", 0, 1), 1 - x), n_trials=20)
    assert len(study.best_trials) == 20  # every trial is on the front
    out = tmp_path / "report"
    assert report("--storage", str(path), "--output", str(out), "-q") == 0
    got = first_screen(out / "report.html", tmp_path)
    rows = above_the_fold(got, ".pareto tr")
    assert len(rows) == 1 + 8  # the header and the first 8 by the first objective
    assert "and 12 more (by objective 0): see the Pareto front" in \
        (out / "report.html").read_text()
