"""Generated docs, the pre-commit hooks, the CI sample and the SARIF output.

The code pages, the spec reference, the schema and the SARIF help text are generated
(`make docs`); these tests regenerate them and compare, so they cannot drift, and check
that what the pages and docs/ci.md show is what specc prints today.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from ruamel.yaml import YAML

from specc.cli import _parser, main
from specc.compiler.validate import validate_files
from specc.docgen import generate, stale, write
from specc.docgen.codes import parse_diagnostics_md
from specc.spec.codes import CODES
from specc.spec.render import CODE_DOCS_URL, code_help, render_sarif
from specc.spec.schema import json_schema

from conftest import CASES, ROOT

PAGES = ROOT / "docs" / "codes"
CI_DOC = ROOT / "docs" / "ci.md"
WORKFLOW = ROOT / "docs" / "examples" / "specc-validate.yml"
HOOKS = ROOT / ".pre-commit-hooks.yaml"
SARIF_SCHEMA = Path(__file__).parent / "data" / "sarif-2.1.0-rtm.5.json"
yaml = YAML(typ="safe", pure=True)


@pytest.fixture(scope="module")
def generated() -> dict[Path, str]:
    return generate(ROOT)


# --- generated files ---------------------------------------------------------------------
def test_generated_docs_are_current(generated: dict[Path, str]) -> None:
    out_of_date = stale(ROOT, generated)
    assert out_of_date == [], f"out of date: {[str(p) for p in out_of_date]}; run `make docs`"


def test_generated_docs_do_not_depend_on_where_the_checkout_lives(
        generated: dict[Path, str]) -> None:
    # CI checks out elsewhere: a page quoting this machine's absolute path goes stale there
    here = {str(ROOT), os.path.realpath(ROOT)}
    leaking = [str(p) for p, text in generated.items() if any(h in text for h in here)]
    assert leaking == []


def test_every_code_has_a_page_listed_in_the_index() -> None:
    index = (PAGES / "README.md").read_text()
    for code, info in CODES.items():
        page = (PAGES / f"{code}.md").read_text()
        assert page.splitlines()[2] == f"# {code}: {info.title}"
        assert f"| severity | {info.severity} |" in page
        assert f"[{code}]({code}.md)" in index
    assert sorted(p.stem for p in PAGES.glob("[A-Z][0-9][0-9][0-9].md")) == sorted(CODES)


def test_pages_carry_the_explanation_from_diagnostics_md() -> None:
    docs = parse_diagnostics_md((ROOT / "docs" / "diagnostics.md").read_text())
    for code, doc in docs.items():
        assert doc.family, code
        if doc.explanation:
            assert f"\n{doc.explanation}\n" in (PAGES / f"{code}.md").read_text(), code


def _page_example(code: str) -> tuple[str, list[str], str] | None:
    """The example's folder, the `specc` arguments and the printed block a page shows."""
    page = (PAGES / f"{code}.md").read_text()
    if "## Example\n\nNo spec" in page:
        return None
    case = re.search(r"\]\(\.\./\.\./((?:tests/cases|docs/codes/examples)/[^/]+)/", page)
    command = re.search(r"^`specc (.+)`, run in that folder, prints", page, flags=re.M)
    block = re.search(r"prints[^\n]*:\n\n```text\n(.*?)\n```\n", page, flags=re.S)
    assert case and command and block, f"{code}.md has no complete example"
    return case.group(1), shlex.split(command.group(1)), block.group(1)


EXAMPLES = [c for c in CODES if (PAGES / f"{c}.md").exists() and _page_example(c)]


def test_most_codes_have_an_example() -> None:
    assert len(EXAMPLES) >= 70


def test_docs_only_examples_each_show_their_code(generated: dict[Path, str]) -> None:
    """A spec kept under docs/codes/examples/<code>/ is the example of that code's page."""
    folders = sorted((ROOT / "docs" / "codes" / "examples").iterdir())
    assert folders
    for folder in folders:
        page = generated[Path("docs/codes") / f"{folder.name.upper()}.md"]
        assert f"](../../docs/codes/examples/{folder.name}/" in page, folder.name


@pytest.mark.parametrize("code", EXAMPLES)
def test_page_example_reproduces(code: str, capsys: pytest.CaptureFixture[str],
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    example = _page_example(code)
    assert example is not None
    case, argv, block = example
    monkeypatch.chdir(ROOT / case)
    status = main([*argv, "--color", "never"])
    out = capsys.readouterr().out
    assert block in out, f"the example on docs/codes/{code}.md changed; run `make docs`"
    expected = ROOT / case / "expected.yaml"
    if expected.exists():
        assert status == yaml.load(expected.read_text())["exit"]
    else:
        assert status == (1 if CODES[code].severity == "error" else 0)


def test_check_and_write_on_a_copy(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    shutil.copy(ROOT / "docs" / "diagnostics.md", tmp_path / "docs")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "cases").symlink_to(CASES)
    (tmp_path / "docs" / "codes").mkdir()
    (tmp_path / "docs" / "codes" / "examples").symlink_to(ROOT / "docs" / "codes" / "examples")
    (tmp_path / "spec").mkdir()
    files = generate(tmp_path)
    written = write(tmp_path, files)
    assert Path("docs/codes/S001.md") in written and Path("docs/reference.md") in written
    assert stale(tmp_path, files) == []
    page = tmp_path / "docs" / "codes" / "S001.md"
    page.write_text(page.read_text() + "edited\n")
    gone = tmp_path / "docs" / "codes" / "Z999.md"
    gone.write_text("a code that no longer exists\n")
    assert stale(tmp_path, files) == [Path("docs/codes/S001.md"), Path("docs/codes/Z999.md")]
    write(tmp_path, files)
    assert stale(tmp_path, files) == [] and not gone.exists()


# --- the spec reference ------------------------------------------------------------------
def test_reference_lists_every_block_and_key() -> None:
    text = (ROOT / "docs" / "reference.md").read_text()
    schema = json_schema()
    blocks = [schema, *(d for d in schema["$defs"].values() if "properties" in d)]
    for block in blocks:
        assert block["description"].split("\n")[0] in text
        for key in block["properties"]:
            assert f"| `{key}` |" in text, key
    headings = re.findall(r"^#{2,4} (.+)$", text, flags=re.M)
    for link in re.findall(r"\]\(#([^)]+)\)", text):
        assert any(re.sub(r"[^\w\- ]", "", h.lower()).replace(" ", "-") == link
                   for h in headings), link


def test_reference_shows_types_defaults_and_ranges() -> None:
    text = (ROOT / "docs" / "reference.md").read_text()
    assert ("| `dropout` | number | `0.05` | [0, 1) |") in text
    assert "| `model_name` | string | required |" in text
    assert '`"bfloat16"`, `"float16"`, `"float32"`' in text


# --- SARIF -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def sarif() -> dict[str, Any]:
    """One SARIF log over every case, so most codes appear."""
    specs = sorted(str(p / "spec.yaml") for p in CASES.iterdir() if (p / "spec.yaml").exists())
    result = validate_files(specs)
    doc: dict[str, Any] = json.loads(render_sarif(result.diagnostics, result.texts,
                                                  result.files))
    return doc


def test_sarif_validates_against_the_2_1_0_schema(sarif: dict[str, Any]) -> None:
    schema = json.loads(SARIF_SCHEMA.read_text())
    errors = list(jsonschema.Draft4Validator(schema).iter_errors(sarif))
    assert errors == [], errors[0].message if errors else ""
    bad = {"version": "2.1.0", "runs": [{"tool": {"driver": {"rules": []}}}]}
    assert list(jsonschema.Draft4Validator(schema).iter_errors(bad))  # the schema bites


def test_sarif_rules_describe_each_code(sarif: dict[str, Any]) -> None:
    run = sarif["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert len(rules) >= 40
    level = {"error": "error", "warning": "warning", "info": "note"}
    for rule in rules:
        info = CODES[rule["id"]]
        assert re.fullmatch(r"[A-Z][A-Za-z0-9]+", rule["name"])
        assert rule["shortDescription"]["text"] == info.title
        explanation = code_help()[rule["id"]]["help"]
        assert explanation and rule["fullDescription"]["text"] == explanation
        assert explanation in rule["help"]["text"] and explanation in rule["help"]["markdown"]
        assert rule["helpUri"] == f"{CODE_DOCS_URL}{rule['id']}.md"
        assert rule["helpUri"].startswith("https://")
        assert (PAGES / f"{rule['id']}.md").exists()
        assert rule["defaultConfiguration"]["level"] == level[info.severity]
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["level"] in {"error", "warning", "note"}
        uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        assert " " not in uri and "\\" not in uri and not uri.startswith("/")


def test_sarif_location_uris_are_encoded() -> None:
    from specc.spec.diagnostics import Diagnostic, Severity

    d = Diagnostic(file="<override 1>", line=1, column=1, path="policy.lora.r",
                   code="S003", severity=Severity.ERROR, message="m", hint="h")
    doc = json.loads(render_sarif([d], {}, []))
    result = doc["runs"][0]["results"][0]
    assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == \
        "%3Coverride%201%3E"
    assert result["message"]["text"] == "m\nhint: h"
    assert doc["runs"][0]["tool"]["driver"]["rules"][0]["properties"]["tags"] == \
        ["specc", "Schema"]


# --- CI docs and the workflow sample -----------------------------------------------------
def _validate_commands(script: str) -> list[list[str]]:
    """`specc validate ...` lines of a shell script, with the workflow's variables filled in."""
    out = []
    for raw in script.splitlines():
        line = raw.strip()
        if line.startswith("specc validate"):
            words = shlex.split(line.split(">")[0].split("||")[0])
            out.append([{"$SPECS": "a.yaml", "$STRICT": "--strict"}.get(w, w)
                        for w in words[1:]])
    return out


def test_workflow_sample_is_a_complete_github_workflow() -> None:
    wf = yaml.load(WORKFLOW.read_text())
    assert {"name", "on", "permissions", "jobs"} <= set(wf)
    assert wf["permissions"]["security-events"] == "write"
    steps = wf["jobs"]["validate"]["steps"]
    scripts = "\n".join(s.get("run", "") for s in steps)
    commands = _validate_commands(scripts)
    formats = [c[c.index("--format") + 1] for c in commands]
    assert formats == ["github", "sarif"]
    for argv in commands:
        _parser().parse_args(argv)  # every option exists
    upload = [s for s in steps if str(s.get("uses", "")).startswith(
        "github/codeql-action/upload-sarif@")]
    assert len(upload) == 1
    assert f"> {upload[0]['with']['sarif_file']}" in scripts
    # the workflow's step snippet in ci.md is the workflow's own
    for step in steps[2:]:
        assert step["name"] in CI_DOC.read_text()


def test_ci_doc_yaml_snippets_parse() -> None:
    blocks = re.findall(r"```yaml\n(.*?)```", CI_DOC.read_text(), flags=re.S)
    assert len(blocks) >= 4
    for block in blocks:
        assert yaml.load(block) is not None


def test_ci_doc_console_output_is_what_specc_prints(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    blocks = re.findall(r"```console\n\$ specc (.*?)\n(.*?)```", CI_DOC.read_text(), flags=re.S)
    assert blocks
    monkeypatch.chdir(ROOT)
    for command, expected in blocks:
        main(shlex.split(command))
        assert capsys.readouterr().out == expected, command


# --- pre-commit --------------------------------------------------------------------------
def test_hook_manifest_loads_with_pre_commits_own_schema() -> None:
    from pre_commit.clientlib import load_manifest

    hooks = {h["id"]: h for h in load_manifest(str(HOOKS))}
    assert set(hooks) == {"specc-validate", "specc-validate-strict"}
    for hook in hooks.values():
        assert hook["language"] == "python" and hook["pass_filenames"]
        argv = shlex.split(hook["entry"])
        assert argv[:2] == ["specc", "validate"]
        _parser().parse_args([*argv[1:], *hook["args"], "a.yaml"])
    assert "--strict" in hooks["specc-validate-strict"]["entry"]


@pytest.mark.parametrize(("path", "selected"), [
    ("experiments/dpo.yaml", True),
    ("experiments/stage1/grpo.yml", True),
    ("specs/sft.yaml", True),
    ("experiments/base/common.yaml", False),
    ("experiments/stage1/base/common.yaml", False),
    (".github/workflows/ci.yml", False),
    ("configs/accelerate.yaml", False),
    ("experiments/README.md", False),
])
def test_hook_selects_specs_only(path: str, selected: bool) -> None:
    from identify.identify import tags_from_filename
    from pre_commit.clientlib import load_manifest

    for hook in load_manifest(str(HOOKS)):
        chosen = (re.search(hook["files"], path) is not None
                  and re.search(hook["exclude"], path) is None
                  and set(hook["types"]) <= tags_from_filename(path))
        assert chosen is selected, (hook["id"], path)


def _git_repo(root: Path, files: dict[str, Path]) -> None:
    for name, source in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(source, root / name)
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    subprocess.run(["git", "add", "-A"], cwd=root, check=True)


def test_hooks_run_through_pre_commit(tmp_path: Path) -> None:
    """pre-commit itself selects the files and runs each hook; only `language` becomes
    `system` (the specc on PATH), since `python` would pip-install specc from the network."""
    from pre_commit.clientlib import load_manifest

    hooks = [{**{k: v for k, v in h.items() if k not in ("minimum_pre_commit_version",)},
              "language": "system"} for h in load_manifest(str(HOOKS))]
    repo = tmp_path / "repo"
    repo.mkdir()
    _git_repo(repo, {
        "experiments/good.yaml": CASES / "valid_minimal" / "spec.yaml",
        "experiments/advice.yaml": CASES / "advice" / "spec.yaml",
        "experiments/base/fragment.yaml": CASES / "extends_merge" / "base.yaml",
        "specs/typos.yaml": CASES / "unknown_keys" / "spec.yaml",
        "other/not_a_spec.yaml": CASES / "yaml_syntax" / "spec.yaml",
    })
    config = {"repos": [{"repo": "local", "hooks": hooks}]}
    (repo / ".pre-commit-config.yaml").write_text(json.dumps(config))
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True)
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "cache"),
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    env.pop("SPECC_FORMAT", None)

    def run(hook: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "pre_commit", "run", hook,
                               "--all-files", "--color", "never"],
                              cwd=repo, env=env, capture_output=True, text=True, timeout=120,
                              check=False)

    plain = run("specc-validate")
    assert plain.returncode == 1, plain.stdout + plain.stderr
    assert "specs/typos.yaml:4:1: error S001 unknown key `polcy`" in plain.stdout
    assert "experiments/advice.yaml:5:18: warning A006" in plain.stdout
    assert "fragment.yaml" not in plain.stdout and "not_a_spec" not in plain.stdout

    (repo / "specs" / "typos.yaml").unlink()
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True)
    assert run("specc-validate").returncode == 0
    strict = run("specc-validate-strict")
    assert strict.returncode == 1 and "warning A006" in strict.stdout
