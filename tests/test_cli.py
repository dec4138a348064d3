"""The command line: exit codes, formats, overrides, schema."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from specc.cli import main

from conftest import CASES, ROOT

VALID = CASES / "valid_minimal" / "spec.yaml"
BAD = CASES / "unknown_keys" / "spec.yaml"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    return code, capsys.readouterr().out


def test_exit_codes(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert run(capsys, "validate", str(VALID))[0] == 0
    assert run(capsys, "validate", str(BAD))[0] == 1
    assert run(capsys, "validate", str(tmp_path / "missing.yaml"))[0] == 2
    with pytest.raises(SystemExit) as e:
        main(["validate"])
    assert e.value.code == 2


def test_all_problems_of_all_files_in_one_run(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(capsys, "validate", "--format", "json", str(VALID), str(BAD),
                    str(CASES / "batch_arithmetic" / "spec.yaml"))
    payload = json.loads(out)
    assert code == 1
    files = {Path(d["file"]).parent.name for d in payload["diagnostics"]}
    assert files == {"unknown_keys", "batch_arithmetic"}
    for d in payload["diagnostics"]:
        assert {"file", "line", "column", "path", "code", "severity", "message", "hint"} <= set(d)
        assert d["line"] >= 1 and d["column"] >= 1


def test_text_shows_source_line_and_caret(capsys: pytest.CaptureFixture[str]) -> None:
    _, out = run(capsys, "validate", "--color", "never", str(BAD))
    assert "spec.yaml:8:3: error S001 unknown key `max_total_sequence_lenght` in `policy`" in out
    lines = out.splitlines()
    i = lines.index(" 8 |   max_total_sequence_lenght: 256")
    assert lines[i + 1] == "   |   " + "^" * len("max_total_sequence_lenght")
    assert "= hint: did you mean `max_total_sequence_length`?" in out


def test_github_annotations(capsys: pytest.CaptureFixture[str]) -> None:
    _, out = run(capsys, "validate", "--format", "github", str(BAD))
    first = out.splitlines()[0]
    assert first.startswith("::error file=")
    assert ",line=4,col=1," in first
    assert "title=S001" in first


def test_sarif_is_valid_2_1_0(capsys: pytest.CaptureFixture[str]) -> None:
    _, out = run(capsys, "validate", "--format", "sarif", str(BAD))
    doc = json.loads(out)
    assert doc["version"] == "2.1.0"
    run0 = doc["runs"][0]
    assert {r["ruleId"] for r in run0["results"]} == {"S001"}
    region = run0["results"][0]["locations"][0]["physicalLocation"]["region"]
    assert region["startLine"] >= 1 and region["startColumn"] >= 1
    assert {r["id"] for r in run0["tool"]["driver"]["rules"]} == {"S001"}


def test_override_is_validated_like_file_values(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(capsys, "validate", "--format", "json", str(VALID),
                    "-o", "policy.optimizer.kwargs.lr=-1", "-o", "policy.lora.dropout=2")
    diags = json.loads(out)["diagnostics"]
    assert code == 1
    got = {(d["code"], d["file"], d["path"]) for d in diags}
    assert ("O003", "<override 1>", "policy.optimizer.kwargs.lr") in got
    assert ("S003", "<override 2>", "policy.lora.dropout") in got


def test_override_can_fix_a_file(capsys: pytest.CaptureFixture[str]) -> None:
    spec = CASES / "batch_arithmetic" / "spec.yaml"
    assert run(capsys, "validate", str(spec))[0] == 1
    assert run(capsys, "validate", str(spec), "-o", "policy.train_global_batch_size=32")[0] == 0


def test_strict_turns_warnings_into_failure(capsys: pytest.CaptureFixture[str]) -> None:
    spec = str(CASES / "advice" / "spec.yaml")
    assert run(capsys, "validate", spec)[0] == 0
    assert run(capsys, "validate", "--strict", spec)[0] == 1


def test_schema_is_a_valid_json_schema_that_accepts_examples(
        capsys: pytest.CaptureFixture[str]) -> None:
    from ruamel.yaml import YAML

    code, out = run(capsys, "schema")
    schema = json.loads(out)
    assert code == 0
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    data = YAML(typ="safe", pure=True).load(VALID.read_text())
    assert list(validator.iter_errors(data)) == []
    lr = schema["$defs"]["Lora"]["properties"]["dropout"]
    assert "Dropout" in lr["description"]


def test_every_spec_field_has_a_docstring() -> None:
    from specc.spec.models import Spec
    from specc.spec.schema import _models, field_docs

    missing = [f"{name}.{field}" for name, cls in _models(Spec).items()
               for field in cls.model_fields if field not in field_docs(cls)]
    assert missing == []


def test_committed_schema_is_current(capsys: pytest.CaptureFixture[str]) -> None:
    _, out = run(capsys, "schema")
    committed = ROOT / "docs" / "spec.schema.json"
    assert committed.read_text() == out, "run `make schema`"


def test_editor_schema_accepts_every_example(capsys: pytest.CaptureFixture[str]) -> None:
    from ruamel.yaml import YAML

    _, out = run(capsys, "schema")
    validator = jsonschema.Draft202012Validator(json.loads(out))
    yaml = YAML(typ="safe", pure=True)
    examples = sorted((ROOT / "examples").rglob("*.yaml"))
    assert examples
    for path in examples:
        errors = [e.message for e in validator.iter_errors(yaml.load(path.read_text()))]
        assert errors == [], path


HANDLED_INTERRUPT = """\
import ctypes, sys
run = ctypes.pythonapi.PyRun_String
run.restype, run.argtypes = ctypes.py_object, [ctypes.c_char_p, ctypes.c_int,
                                               ctypes.py_object, ctypes.py_object]
try:
    run(b"raise KeyboardInterrupt", 257, {}, {})  # as torch's pybind11 `py::exec` can
except KeyboardInterrupt:
    pass
if sys.argv[1:] == ["forget"]:
    from specc.process import forget_interrupt
    forget_interrupt()
raise SystemExit(130)
"""


@pytest.mark.parametrize("forget,expected", [(False, -2), (True, 130)])
def test_a_handled_ctrl_c_exits_130_under_python_m(tmp_path: Path, forget: bool,
                                                    expected: int) -> None:
    """CPython kills a `python -m` process with SIGINT at exit when a KeyboardInterrupt
    passed through a C-level PyRun call, even if it was handled; `specc run` clears that
    so Ctrl-C ends with its documented 130."""
    (tmp_path / "handled_interrupt.py").write_text(HANDLED_INTERRUPT)
    proc = subprocess.run([sys.executable, "-m", "handled_interrupt",
                           *(["forget"] if forget else [])], cwd=tmp_path, check=False,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == expected, proc.stderr


def test_output_folders_are_made_when_missing(tmp_path: Path) -> None:
    out = tmp_path / "new" / "dir" / "s.json"
    done = subprocess.run([sys.executable, "-m", "specc", "schema", "--output", str(out)],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert out.is_file()
    blocked = tmp_path / "file"
    blocked.write_text("")
    done = subprocess.run([sys.executable, "-m", "specc", "schema", "--output",
                           str(blocked / "s.json")], capture_output=True, text=True, check=False)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "cannot write" in done.stderr


def test_a_subcommand_builds_only_its_own_parser_and_help_lists_them_all(
        capsys: pytest.CaptureFixture[str]) -> None:
    from specc.cli import BUILTIN, _parser
    from specc.commands import MODULES

    one = _parser("validate")
    sub = next(a for a in one._actions if isinstance(a, argparse._SubParsersAction))
    assert list(sub.choices) == ["validate"]
    with pytest.raises(SystemExit) as e:
        main(["validate", "--help"])
    assert e.value.code == 0
    assert "--stdin-filename" in capsys.readouterr().out
    with pytest.raises(SystemExit) as e:
        main(["--help"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    assert all(name in out for name in (*BUILTIN, *MODULES))
    with pytest.raises(SystemExit) as e:
        main(["valdate", "x.yaml"])
    assert e.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


#: The environment of a process whose standard output to a pipe is block-buffered, as it
#: is unless PYTHONUNBUFFERED is set (this machine sets it).
BUFFERED = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}


def _copies(tmp_path: Path, n: int) -> list[str]:
    text = BAD.read_text()
    paths = [tmp_path / f"spec{i:03d}.yaml" for i in range(n)]
    for path in paths:
        path.write_text(text)
    return [path.name for path in paths]


def test_validate_ends_without_teardown_yet_delivers_its_whole_report(tmp_path: Path) -> None:
    """`specc validate` leaves by `os._exit` after flushing: a report smaller than the
    output buffer and one many times a pipe's buffer both arrive whole, with validate's exit
    status and nothing on stderr."""
    small = subprocess.run([sys.executable, "-m", "specc", "validate", "--format", "json",
                            str(BAD)], capture_output=True, text=True, env=BUFFERED, check=False)
    assert small.returncode == 1
    one = json.loads(small.stdout)["diagnostics"]
    assert one
    done = subprocess.run([sys.executable, "-m", "specc", "validate", "--format", "json",
                           *_copies(tmp_path, 300)], capture_output=True, text=True,
                          cwd=tmp_path, env=BUFFERED, check=False)
    assert len(done.stdout) > 4 * 65536
    assert len(json.loads(done.stdout)["diagnostics"]) == 300 * len(one)
    assert done.returncode == 1
    assert done.stderr == ""


def test_validate_into_a_reader_that_leaves_early_is_quiet(tmp_path: Path) -> None:
    """`specc validate ... | head -c 100`: the reader goes away mid-report; validate ends
    without a traceback or an 'Exception ignored' message."""
    proc = subprocess.Popen([sys.executable, "-m", "specc", "validate", *_copies(tmp_path, 300)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path,
                            env=BUFFERED)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.read(100)
    proc.stdout.close()
    err = proc.stderr.read().decode()
    proc.wait(timeout=60)
    assert err == ""


def test_a_profiled_validate_exits_normally_so_the_profile_is_written(tmp_path: Path) -> None:
    """Under `python -m cProfile` validate takes the interpreter's normal exit: the
    profiler writes its file then."""
    out = tmp_path / "validate.prof"
    code = (f"import sys; sys.argv = ['specc', 'validate', {str(VALID)!r}]\n"
            "from specc.cli import entry\nentry()\n")
    script = tmp_path / "run_validate.py"
    script.write_text(code)
    done = subprocess.run([sys.executable, "-m", "cProfile", "-o", str(out), str(script)],
                          capture_output=True, text=True, cwd=tmp_path, check=False)
    assert done.returncode == 0, done.stderr
    assert out.stat().st_size > 0
