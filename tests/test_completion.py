"""`specc completion bash|zsh|fish`: each script is loaded into the real shell and asked to
complete, the way a user's shell would ask (bash's completion function, zsh's completion
system in a pseudo-terminal, fish's `complete -C`)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from specc.cli import _parser
from specc.commands.completion import SHELLS, describe, script

ROOT = Path(__file__).resolve().parent.parent
SPECC = [sys.executable, "-m", "specc"]


def _script(shell: str, tmp_path: Path) -> Path:
    out = subprocess.run([*SPECC, "completion", shell], capture_output=True, text=True,
                         check=True, cwd=ROOT)
    path = tmp_path / f"specc.{shell}"
    path.write_text(out.stdout)
    return path


def _bash_complete(script_path: Path, *words: str) -> list[str]:
    """COMPREPLY for the command line ``words`` (the last one is being completed)."""
    quoted = " ".join(f"'{w}'" for w in words)
    prog = (f"source '{script_path}'; COMP_WORDS=({quoted}); "
            "COMP_CWORD=$((${#COMP_WORDS[@]}-1)); COMPREPLY=(); _specc; "
            'printf "%s\\n" "${COMPREPLY[@]}"')
    out = subprocess.run(["bash", "-c", prog], capture_output=True, text=True, check=True,
                         cwd=ROOT)
    return [line for line in out.stdout.splitlines() if line]


def test_every_subcommand_and_choice_comes_from_the_parser() -> None:
    commands = {c.name: c for c in describe(_parser())}
    assert {"validate", "plan", "run", "tui", "report", "set", "completion"} <= set(commands)
    fmt = next(a for a in commands["validate"].args if "--format" in a.flags)
    assert fmt.kind == "choice"
    assert fmt.choices == ("text", "json", "github", "sarif")
    files = next(a for a in commands["validate"].args if not a.flags)
    assert files.kind == "file"


@pytest.mark.parametrize("shell", SHELLS)
def test_scripts_parse_in_their_shell(shell: str, tmp_path: Path) -> None:
    path = _script(shell, tmp_path)
    exe = shutil.which(shell)
    assert exe, f"{shell} is installed by `make install` (system-deps)"
    done = subprocess.run([exe, "-n", str(path)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr


def test_bash_completes_subcommands_formats_options_and_files(tmp_path: Path) -> None:
    path = _script("bash", tmp_path)
    assert _bash_complete(path, "specc", "va") == ["validate"]
    assert set(_bash_complete(path, "specc", "")) >= {"validate", "plan", "run", "completion"}
    assert _bash_complete(path, "specc", "validate", "--format", "") == [
        "text", "json", "github", "sarif"]
    assert _bash_complete(path, "specc", "validate", "--format", "s") == ["sarif"]
    assert _bash_complete(path, "specc", "plan", "--format", "j") == ["json"]
    assert _bash_complete(path, "specc", "validate", "--stri") == ["--strict"]
    assert "examples/quickstart.yaml" in _bash_complete(path, "specc", "validate",
                                                        "examples/qu")
    assert _bash_complete(path, "specc", "completion", "z") == ["zsh"]
    # a value that is not a file or a choice completes to nothing rather than to files
    assert _bash_complete(path, "specc", "run", "--workers", "") == []


def test_bash_completion_registers_for_the_specc_command(tmp_path: Path) -> None:
    path = _script("bash", tmp_path)
    out = subprocess.run(["bash", "-c", f"source '{path}'; complete -p specc"],
                         capture_output=True, text=True, check=True)
    assert "-F _specc" in out.stdout


def test_fish_completes_with_its_own_engine(tmp_path: Path) -> None:
    path = _script("fish", tmp_path)

    def complete(line: str) -> list[str]:
        out = subprocess.run(["fish", "-c", f"source '{path}'; complete -C '{line}'"],
                             capture_output=True, text=True, check=True, cwd=ROOT)
        return [row.split("\t")[0] for row in out.stdout.splitlines()]

    assert complete("specc va") == ["validate"]
    assert sorted(complete("specc validate --format ")) == ["github", "json", "sarif", "text"]
    assert complete("specc validate --stri") == ["--strict"]
    assert "examples/quickstart.yaml" in complete("specc validate examples/qu")


def test_zsh_completes_in_a_real_terminal(tmp_path: Path) -> None:
    """zsh's completion system only runs in an interactive line editor: drive one in a
    pseudo-terminal (zsh/zpty) and read what it lists."""
    fdir = tmp_path / "fpath"
    fdir.mkdir()
    (fdir / "_specc").write_text(_script("zsh", tmp_path).read_text())
    bindir = Path(sys.executable).parent
    driver = tmp_path / "drive.zsh"
    driver.write_text(f"""zmodload zsh/zpty
zpty -b z 'zsh -f -i'
zpty -w z 'PS1=">"; fpath=({fdir} $fpath); autoload -Uz compinit; compinit -u -D; \
zstyle ":completion:*" menu no; path=({bindir} $path); cd {ROOT}'
sleep 1
zpty -n -w z $'specc validate --format \\t\\t'
sleep 2
zpty -w z $'\\C-u'
zpty -n -w z $'specc comp\\t'
sleep 2
zpty -w z $'\\C-u print END-OF-TEST'
sleep 1
local out line
while zpty -r -t z line; do out+=$line; done
print -r -- "$out"
zpty -d z
""")
    done = subprocess.run(["zsh", "-f", str(driver)], capture_output=True, text=True,
                          timeout=60, check=False)
    screen = re.sub(r"\x1b\[[0-9;?]*[a-zA-Z]", "", done.stdout).replace("\r", "")
    screen = re.sub(r"[^\n]\x08|\x07", "", screen)  # the line editor's redraws, bells
    assert "END-OF-TEST" in screen, screen[-2000:]
    listed = screen.split("--format", 1)[1]
    for value in ("github", "json", "sarif", "text"):
        assert value in listed, screen[-2000:]
    assert "specc completion" in screen, screen[-2000:]


def test_scripts_name_every_subcommand(tmp_path: Path) -> None:
    names = [c.name for c in describe(_parser())]
    for shell in SHELLS:
        text = script(shell, _parser())
        for name in names:
            assert name in text, (shell, name)
