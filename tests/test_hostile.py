"""Hostile input: nothing leaks, nothing hangs, nothing crashes.

Each case builds a project in ``tmp_path`` (a ``.specc`` marker makes ``project/`` the
root) beside an ``outside/`` folder that holds a canary: a file whose lines would be
quoted as unknown keys if it were ever read. The case runs ``specc validate`` in a fresh
subprocess under ``RLIMIT_AS`` 2 GiB, once per output format (text, json, github, sarif),
and asserts:

* the canary string appears in no output (stdout or stderr) of any format;
* no ``Traceback``; the exit status is the expected one;
* every diagnostic is located: line and column >= 1 in json, in sarif regions and in
  github annotations;
* the expected codes are reported;
* each format's run finishes within ``SECONDS`` (measured inside the subprocess).

The cases are data: :data:`CASES` names each one's files, command line and outcome.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from specc.spec.codes import CODES

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = (ROOT / "examples" / "quickstart.yaml").read_text(encoding="utf-8")
CANARY = "CANARY-7f3c9e1d-do-not-leak"
#: Lines a leaked file would show (as unknown keys, snippets, messages).
SECRET = f"{CANARY}: 1\nroot:x:0:0:{CANARY}:/root:/bin/bash\npassword: {CANARY}\n"
SECONDS = 8.0
MEMORY = 2 * 1024**3
FORMATS = ("text", "json", "github", "sarif")

# Runs `specc validate` once per format in this process and prints one JSON line: the
# outputs, exit statuses and seconds per format. Standard input is read once and fed to
# each run.
DRIVER = textwrap.dedent("""
    import contextlib, io, json, resource, sys, time
    resource.setrlimit(resource.RLIMIT_AS, ({mem}, {mem}))
    from specc.cli import main
    args = sys.argv[1:]
    data = sys.stdin.buffer.read() if "-" in args else b""
    real_out, results = sys.stdout, {{}}
    for fmt in {formats!r}:
        sys.stdin = io.TextIOWrapper(io.BytesIO(data))
        out, err = io.StringIO(), io.StringIO()
        start = time.perf_counter()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            rc = main(["validate", "--format", fmt, *args])
        results[fmt] = {{"rc": rc, "out": out.getvalue(), "err": err.getvalue(),
                        "seconds": time.perf_counter() - start}}
    real_out.write(json.dumps(results) + "\\n")
""").format(mem=MEMORY, formats=FORMATS)


@dataclass(frozen=True)
class Case:
    """One hostile input: how to build it, how to call validate, what must come out."""

    build: Callable[[Path], list[str]]  # writes files under tmp_path; returns the arguments
    codes: frozenset[str]
    exit: frozenset[int] = frozenset({1})
    stdin: bytes = b""
    #: Files that must not exist afterwards (a tag that would run code).
    untouched: tuple[str, ...] = field(default=())


def _project(tmp: Path) -> Path:
    proj = tmp / "project"
    proj.mkdir(exist_ok=True)
    (proj / ".specc").write_text("")
    out = tmp / "outside"
    out.mkdir(exist_ok=True)
    (out / "secret.yaml").write_text(SECRET)
    model = out / "model"
    model.mkdir(exist_ok=True)
    (model / "config.json").write_text(json.dumps({"model_type": CANARY, CANARY: 1}))
    return proj


def _spec(tmp: Path, text: str, name: str = "spec.yaml") -> list[str]:
    proj = _project(tmp)
    (proj / name).write_text(text)
    return [str(proj / name)]


def _raw(tmp: Path, data: bytes, name: str = "spec.yaml") -> list[str]:
    proj = _project(tmp)
    (proj / name).write_bytes(data)
    return [str(proj / name)]


def _extends(target: str) -> Callable[[Path], list[str]]:
    def build(tmp: Path) -> list[str]:
        return _spec(tmp, f"extends: {target.format(tmp=tmp)}\n" + EXAMPLE)
    return build


def _symlink_escape(tmp: Path) -> list[str]:
    proj = _project(tmp)
    (proj / "base.yaml").symlink_to(tmp / "outside" / "secret.yaml")
    return _spec(tmp, "extends: base.yaml\n" + EXAMPLE)


def _symlinked_folder(tmp: Path) -> list[str]:
    proj = _project(tmp)
    (proj / "shared").symlink_to(tmp / "outside")
    return _spec(tmp, "defaults: [shared/secret.yaml]\n" + EXAMPLE)


def _fifo(tmp: Path) -> list[str]:
    proj = _project(tmp)
    os.mkfifo(proj / "pipe.yaml")
    return [str(proj / "pipe.yaml")]


def _extends_fifo(tmp: Path) -> list[str]:
    proj = _project(tmp)
    os.mkfifo(proj / "pipe.yaml")
    return _spec(tmp, "extends: pipe.yaml\n" + EXAMPLE)


def _directory(tmp: Path) -> list[str]:
    proj = _project(tmp)
    (proj / "folder.yaml").mkdir()
    return [str(proj / "folder.yaml")]


def _diamond(tmp: Path) -> list[str]:
    proj = _project(tmp)
    n = 15
    for i in range(n):
        nxt = f"d{i + 1}.yaml"
        (proj / f"d{i}.yaml").write_text(f"extends: [{nxt}, ./{nxt}]\nk{i}: {i}\n")
    (proj / f"d{n}.yaml").write_text(EXAMPLE)
    return [str(proj / "d0.yaml")]


def _symlink_diamond(tmp: Path) -> list[str]:
    """Each file names the next through two symlinks to its own folder: 2^k names by
    level k, all one file."""
    proj = _project(tmp)
    (proj / "a").symlink_to(".")
    (proj / "b").symlink_to(".")
    for i in range(20):
        (proj / f"d{i}.yaml").write_text(f"extends: [a/d{i + 1}.yaml, b/d{i + 1}.yaml]\n")
    (proj / "d20.yaml").write_text(EXAMPLE)
    return [str(proj / "d0.yaml")]


def _chain(tmp: Path) -> list[str]:
    proj = _project(tmp)
    for i in range(40):
        (proj / f"c{i}.yaml").write_text(f"extends: c{i + 1}.yaml\n")
    (proj / "c40.yaml").write_text(EXAMPLE)
    return [str(proj / "c0.yaml")]


def _stdin_escape(tmp: Path) -> list[str]:
    proj = _project(tmp)
    return ["-", "--stdin-filename", str(proj / "from-editor.yaml")]


def _string_bomb() -> str:
    return "s0: " + "x" * 50 + "\n" + "".join(
        f"s{i}: ${{s{i - 1}}}${{s{i - 1}}}\n" for i in range(1, 41))


def _fan_out() -> str:
    return "s0: " + "x" * 60_000 + "\n" + "".join(f"f{i}: ${{s0}}-\n" for i in range(500))


def _mapping_bomb() -> str:
    return "l0: {a: 1, b: 2}\n" + "".join(
        f"l{i}:\n  x: ${{l{i - 1}}}\n  y: ${{l{i - 1}}}\n" for i in range(1, 41))


def _categorical(n: int) -> str:
    choices = ", ".join(str(i) for i in range(n))
    return EXAMPLE + f"    policy.max_grad_norm: {{type: categorical, choices: [{choices}]}}\n"


def _alias_bomb() -> str:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 9)]
    return "\n".join(lines) + "\n"


def _c(*codes: str) -> frozenset[str]:
    return frozenset(codes)


CASES: dict[str, Case] = {
    # --- confinement: no byte of a file outside the root reaches any output
    "extends_absolute_canary": Case(_extends("{tmp}/outside/secret.yaml"), _c("R040")),
    "extends_dotdot_canary": Case(_extends("../outside/secret.yaml"), _c("R040")),
    "extends_deep_dotdot_canary": Case(_extends("sub/../../outside/./secret.yaml"), _c("R040")),
    "extends_symlink_canary": Case(_symlink_escape, _c("R040")),
    "defaults_symlinked_folder_canary": Case(_symlinked_folder, _c("R040")),
    "extends_etc_passwd": Case(_extends("/etc/passwd"), _c("R040")),
    "extends_dev_zero": Case(_extends("/dev/zero"), _c("R040")),
    "extends_proc_environ": Case(_extends("/proc/self/environ"), _c("R040")),
    "stdin_extends_escape": Case(_stdin_escape, _c("R040"),
                                 stdin=b"extends: ../outside/secret.yaml\n" + EXAMPLE.encode()),
    "model_folder_outside_root": Case(
        lambda t: _spec(t, EXAMPLE.replace("model_name: specc:tiny-llama",
                                           f"model_name: {t}/outside/model").replace(
            "gpu: CPU", "gpu: A100-80GB")), _c("R041"), frozenset({0, 1})),
    # --- non-regular files: refused from their stat, never blocking
    "fifo": Case(_fifo, _c("Y020"), frozenset({2})),
    "extends_fifo": Case(_extends_fifo, _c("Y020"), frozenset({1, 2})),
    "dev_zero": Case(lambda t: ["/dev/zero"], _c("Y020"), frozenset({2})),
    "directory": Case(_directory, _c("Y001"), frozenset({2})),
    "stdin_twice": Case(lambda t: ["-", "-"], _c("Y021"), frozenset({2}), stdin=b"a: 1\n"),
    # --- bytes that are not a spec
    "nul_byte": Case(lambda t: _raw(t, b"specc: 1\nname: x\0y\n"), _c("Y010")),
    "empty_file": Case(lambda t: _spec(t, ""), _c("Y016")),
    "only_comments": Case(lambda t: _spec(t, "# nothing\n"), _c("Y016")),
    "invalid_utf8": Case(lambda t: _raw(t, b"a: \xff\xfe\n"), _c("Y003"), frozenset({2})),
    "oversized": Case(lambda t: _spec(t, "a: " + "x" * (3 * 1024 * 1024) + "\n"), _c("Y002"),
                      frozenset({2})),
    "surrogate_escape": Case(lambda t: _spec(t, 'name: "\\ud800"\n' + EXAMPLE), _c("Y011")),
    # --- bounded work
    "string_bomb": Case(lambda t: _spec(t, _string_bomb()), _c("R042")),
    "fan_out_bomb": Case(lambda t: _spec(t, _fan_out()), _c("R043")),
    "mapping_bomb": Case(lambda t: _spec(t, _mapping_bomb()), _c("R043")),
    "alias_bomb": Case(lambda t: _spec(t, _alias_bomb()), _c("Y013")),
    "extends_diamond": Case(_diamond, _c("S001")),
    "extends_chain_too_deep": Case(_chain, _c("R002")),
    "extends_symlink_alias_diamond": Case(_symlink_diamond, _c("R002")),
    "extends_self": Case(lambda t: _spec(t, "extends: spec.yaml\n" + EXAMPLE), _c("R002")),
    "categorical_100000": Case(lambda t: _spec(t, _categorical(100_000)), _c("Y013")),
    "categorical_20000": Case(lambda t: _spec(t, _categorical(20_000)), _c("R044")),
    "many_documents": Case(lambda t: _spec(t, "a: 1\n" + "---\na: 1\n" * 200_000), _c("Y017")),
    "deep_flow_nesting": Case(lambda t: _spec(t, "a: " + "[" * 1_000_000), _c("Y018")),
    "deep_block_nesting": Case(lambda t: _spec(t, "- " * 500_000 + "1\n"), _c("Y018")),
    "deep_mapping_nesting": Case(lambda t: _spec(t, "".join(" " * i + f"k{i}:\n"
                                                            for i in range(1000))), _c("Y018")),
    "huge_integer": Case(lambda t: _spec(t, EXAMPLE.replace("n_trials: 6",
                                                            "n_trials: " + "9" * 100_000)),
                         _c("Y019")),
    "many_keys": Case(lambda t: _spec(t, "".join(f"k{i}: {i}\n" for i in range(120_000))),
                      _c("Y013")),
    "interpolation_chain": Case(lambda t: _spec(t, "".join(f"k{i}: ${{k{i + 1}}}\n"
                                                           for i in range(3000)) + "k3000: 1\n"),
                                _c("R011")),
    "python_tag_never_runs": Case(
        lambda t: _spec(t, "a: !!python/object/apply:os.system ['touch " + str(t / "ran") + "']\n"
                        + EXAMPLE), _c("Y012"), untouched=("ran",)),
    "long_line": Case(lambda t: _spec(t, EXAMPLE.replace("name: quickstart",
                                                         "name: " + "q" * 500_000)),
                      frozenset(), frozenset({0, 1})),
}


def _run(case: Case, tmp: Path) -> dict[str, dict[str, object]]:
    args = case.build(tmp)
    env = {**os.environ, "NO_COLOR": "1"}
    env.pop("SPECC_ROOT", None)
    proc = subprocess.run([sys.executable, "-c", DRIVER, *args], input=case.stdin,
                          capture_output=True, timeout=120, cwd=tmp, env=env, check=False)
    err = proc.stderr.decode("utf-8", "replace")
    assert "Traceback" not in err, err[-3000:]
    assert CANARY not in err
    assert proc.returncode == 0, f"driver exited {proc.returncode}: {err[-3000:]}"
    results: dict[str, dict[str, object]] = json.loads(proc.stdout.decode().splitlines()[-1])
    return results


def _located_json(out: str) -> set[str]:
    payload = json.loads(out)
    for d in payload["diagnostics"]:
        assert d["line"] >= 1 and d["column"] >= 1, d
        assert d["code"] in CODES, d
    return {d["code"] for d in payload["diagnostics"]}


def _located_sarif(out: str) -> None:
    for result in json.loads(out)["runs"][0]["results"]:
        for loc in result["locations"]:
            region = loc["physicalLocation"].get("region", {})
            assert region.get("startLine", 1) >= 1 and region.get("startColumn", 1) >= 1


def _located_github(out: str) -> None:
    for line in out.splitlines():
        assert line.startswith("::"), line
        props = line.split(" ", 1)[1].split("::", 1)[0].split(",")
        values = dict(p.split("=", 1) for p in props if "=" in p)
        assert int(values["line"]) >= 1 and int(values["col"]) >= 1, line


@pytest.mark.parametrize("name", list(CASES))
def test_hostile(tmp_path: Path, name: str) -> None:
    case = CASES[name]
    results = _run(case, tmp_path)
    assert set(results) == set(FORMATS)
    for fmt, r in results.items():
        out, err = str(r["out"]), str(r["err"])
        assert CANARY not in out and CANARY not in err, f"{fmt} leaked the canary"
        assert "Traceback" not in out + err, f"{fmt}: {err[-2000:]}"
        assert r["rc"] in case.exit, f"{fmt} exited {r['rc']}: {out[-2000:]}"
        assert float(str(r["seconds"])) < SECONDS, f"{fmt} took {r['seconds']} s"
    codes = _located_json(str(results["json"]["out"]))
    assert case.codes <= codes, f"expected {sorted(case.codes)}, got {sorted(codes)}"
    _located_sarif(str(results["sarif"]["out"]))
    _located_github(str(results["github"]["out"]))
    for code in case.codes:
        assert code in str(results["text"]["out"])
    for f in case.untouched:
        assert not (tmp_path / f).exists(), f"{f} was created: a tag ran code"


def test_every_case_is_checked() -> None:
    """The suite covers what the issue names, and every case expects something."""
    assert len(CASES) >= 40
    for name, case in CASES.items():
        assert case.codes or 0 in case.exit, name


def test_the_canary_would_be_seen(tmp_path: Path) -> None:
    """The leak check can fail: with the outside folder allowed explicitly (`--root`),
    the parent is read and its lines are quoted, canary and all."""
    args = _extends("../outside/secret.yaml")(tmp_path)
    case = Case(lambda t: [*args, "--root", str(t / "outside")], frozenset())
    results = _run(case, tmp_path)
    assert CANARY in str(results["text"]["out"])
    assert "R040" not in str(results["json"]["out"])


def test_stdin_is_validated_under_the_name_given(tmp_path: Path) -> None:
    """`specc validate -` reads standard input; `--stdin-filename` names it in diagnostics
    and is where relative `extends` resolve from."""
    proj = _project(tmp_path)
    (proj / "base.yaml").write_text(EXAMPLE)
    name = str(proj / "exp" / "from-editor.yaml")
    (proj / "exp").mkdir()
    good = b"extends: ../base.yaml\nname: edited\n"
    proc = subprocess.run([sys.executable, "-m", "specc", "validate", "-", "--stdin-filename",
                           name, "--format", "json"], input=good, capture_output=True,
                          timeout=60, check=False)
    assert proc.returncode == 0, proc.stdout.decode()[-2000:] + proc.stderr.decode()[-2000:]
    assert json.loads(proc.stdout)["files"] == [name]
    bad = good + b"policy: {train_micro_batch_size: -1}\n"
    proc = subprocess.run([sys.executable, "-m", "specc", "validate", "-", "--stdin-filename",
                           name], input=bad, capture_output=True, timeout=60, check=False)
    assert proc.returncode == 1
    assert f"{name}:3:" in proc.stdout.decode()
