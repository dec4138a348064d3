"""`specc completion bash|zsh|fish`: a shell completion script generated from the argument
parser itself, so every subcommand, option, `--format` value and file argument completes
as the parser defines it, and nothing goes stale when a command is added."""

from __future__ import annotations

import argparse
import sys
from typing import Any, Literal

from specc.spec.records import record

Shell = Literal["bash", "zsh", "fish"]
SHELLS: tuple[Shell, ...] = ("bash", "zsh", "fish")

DESCRIPTION = """\
Print a completion script for your shell. Load it for this session or install it:

  bash:  source <(specc completion bash)            # or save it under
         specc completion bash > ~/.local/share/bash-completion/completions/specc
  zsh:   specc completion zsh > "${fpath[1]}/_specc"   # then restart zsh
         (or, for this session: source <(specc completion zsh))
  fish:  specc completion fish > ~/.config/fish/completions/specc.fish

Subcommands, options, choice values (`--format json`, ...) and file arguments complete."""

#: What an option's or positional's value is, for completing it.
Kind = Literal["file", "dir", "choice", "text", "none"]

_DIR_METAVARS = {"DIR", "RUNDIR", "OUTPUT"}
_TEXT_METAVARS = {"URL", "NAME", "N", "PATH=VALUE", "BYTES", "SECONDS", "PATH", "VALUE"}


@record(frozen=True)
class Arg:
    """One option or positional of a subcommand."""

    flags: tuple[str, ...]  # empty for a positional
    help: str
    kind: Kind
    choices: tuple[str, ...] = ()


@record(frozen=True)
class Command:
    name: str
    help: str
    args: tuple[Arg, ...]


def register(sub: Any) -> None:
    p = sub.add_parser("completion", help="print a shell completion script (bash, zsh, fish)",
                       description=DESCRIPTION,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("shell", choices=SHELLS, help="the shell to complete in")
    p.set_defaults(handler=_handler)


def _handler(args: argparse.Namespace) -> int:
    from specc.cli import _parser

    sys.stdout.write(script(args.shell, _parser()))
    return 0


def script(shell: Shell, parser: argparse.ArgumentParser) -> str:
    """The completion script for ``shell`` describing ``parser``."""
    commands = describe(parser)
    top = tuple(_arg(a) for a in parser._actions if a.option_strings)
    return {"bash": _bash, "zsh": _zsh, "fish": _fish}[shell](commands, top)


def describe(parser: argparse.ArgumentParser) -> tuple[Command, ...]:
    """The subcommands of ``parser`` with their arguments, in the order `--help` lists."""
    out: list[Command] = []
    for action in parser._actions:
        if not isinstance(action, argparse._SubParsersAction):
            continue
        helps = {c.dest: c.help or "" for c in action._choices_actions}
        for name, sub in action.choices.items():
            args = tuple(_arg(a) for a in sub._actions
                         if not isinstance(a, argparse._HelpAction))
            out.append(Command(name, helps.get(name, ""), args))
    return tuple(out)


def _arg(action: argparse.Action) -> Arg:
    help_text = " ".join((action.help or "").split())
    if "%(" in help_text:
        help_text = help_text.split("(default", 1)[0].strip()
    if action.choices is not None and not isinstance(action, argparse._SubParsersAction):
        kind: Kind = "choice"
        choices = tuple(str(c) for c in action.choices)
    elif action.nargs == 0:
        kind, choices = "none", ()
    else:
        metavar = str(action.metavar or action.dest).upper()
        numeric = action.type in (int, float) or getattr(action.type, "__name__", "") in (
            "_positive", "_seconds")
        kind = ("text" if numeric or metavar in _TEXT_METAVARS
                else "dir" if metavar in _DIR_METAVARS else "file")
        choices = ()
    return Arg(tuple(action.option_strings), help_text, kind, choices)


# --- bash -----------------------------------------------------------------------------

def _bash(commands: tuple[Command, ...], top: tuple[Arg, ...]) -> str:
    names = " ".join(c.name for c in commands)
    top_flags = " ".join(f for a in top for f in a.flags)
    cases: list[str] = []
    for c in commands:
        flags = " ".join(f for a in c.args for f in a.flags)
        value_cases: list[str] = []
        for a in c.args:
            if not a.flags or a.kind == "none":
                continue
            pattern = "|".join(a.flags)
            value_cases.append(f"                {pattern}) {_bash_value(a)}; return ;;")
        positional = next((a for a in c.args if not a.flags), None)
        pos = _bash_value(positional) if positional else "COMPREPLY=()"
        cases.append("\n".join([
            f"        {c.name})",
            '            case "$prev" in',
            *value_cases,
            "            esac",
            f'            if [[ "$cur" == -* ]]; then COMPREPLY=($(compgen -W "{flags}" '
            '-- "$cur")); return; fi',
            f"            {pos}",
            "            ;;",
        ]))
    body = "\n".join(cases)
    return f"""# bash completion for specc (generated by `specc completion bash`)
_specc() {{
    local cur prev cmd i
    cur="${{COMP_WORDS[COMP_CWORD]}}"
    prev="${{COMP_WORDS[COMP_CWORD-1]}}"
    cmd=""
    for ((i = 1; i < COMP_CWORD; i++)); do
        if [[ "${{COMP_WORDS[i]}}" != -* ]]; then cmd="${{COMP_WORDS[i]}}"; break; fi
    done
    if [[ -z "$cmd" ]]; then
        if [[ "$cur" == -* ]]; then
            COMPREPLY=($(compgen -W "{top_flags}" -- "$cur"))
        else
            COMPREPLY=($(compgen -W "{names}" -- "$cur"))
        fi
        return
    fi
    case "$cmd" in
{body}
    esac
}}
complete -o bashdefault -o default -F _specc specc
"""


def _bash_value(a: Arg) -> str:
    if a.kind == "choice":
        return f'COMPREPLY=($(compgen -W "{" ".join(a.choices)}" -- "$cur"))'
    if a.kind == "dir":
        return 'compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -d -- "$cur"))'
    if a.kind == "file":
        return 'compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -f -- "$cur"))'
    return "COMPREPLY=()"


# --- zsh ------------------------------------------------------------------------------

def _zsh_text(text: str) -> str:
    """Text inside a single-quoted `_arguments` spec: no quotes, brackets or colons."""
    return (text.replace("'", "").replace("[", "(").replace("]", ")").replace(":", " -")
            .replace("\\", ""))


def _zsh_value(a: Arg) -> str:
    if a.kind == "choice":
        return f":value:({' '.join(a.choices)})"
    if a.kind == "dir":
        return ":directory:_files -/"
    if a.kind == "file":
        return ":file:_files"
    if a.kind == "text":
        return ":value: "
    return ""


def _zsh(commands: tuple[Command, ...], top: tuple[Arg, ...]) -> str:
    described = "\n".join(f"        '{c.name}:{_zsh_text(c.help)}'" for c in commands)
    cases: list[str] = []
    for c in commands:
        specs: list[str] = []
        for a in c.args:
            desc = _zsh_text(a.help)
            if a.flags:
                group = " ".join(a.flags)
                head = (f"'({group})'{{{','.join(a.flags)}}}" if len(a.flags) > 1
                        else a.flags[0])
                if len(a.flags) > 1:
                    specs.append(f"{head}'[{desc}]{_zsh_value(a)}'")
                else:
                    specs.append(f"'{head}[{desc}]{_zsh_value(a)}'")
            else:
                specs.append(f"'*{_zsh_value(a) or ':file:_files'}'")
        joined = " \\\n                ".join(specs)
        cases.append(f"        {c.name})\n            _arguments -s \\\n                {joined}"
                     "\n            ;;")
    body = "\n".join(cases)
    top_specs = " ".join(f"'{f}[{_zsh_text(a.help)}]'" for a in top for f in a.flags)
    return f"""#compdef specc
# zsh completion for specc (generated by `specc completion zsh`)
_specc() {{
    local -a commands
    commands=(
{described}
    )
    if (( CURRENT == 2 )); then
        _describe -t commands 'specc command' commands
        _arguments {top_specs}
        return
    fi
    local cmd=$words[2]
    shift words
    (( CURRENT-- ))
    case $cmd in
{body}
    esac
}}
if [[ $zsh_eval_context[-1] == loadautofunc ]]; then
    _specc "$@"
else
    compdef _specc specc
fi
"""


# --- fish -----------------------------------------------------------------------------

def _fish_text(text: str) -> str:
    return text.replace("\\", "\\\\").replace("'", "\\'")


def _fish(commands: tuple[Command, ...], top: tuple[Arg, ...]) -> str:
    names = " ".join(c.name for c in commands)
    lines = [
        "# fish completion for specc (generated by `specc completion fish`)",
        "complete -c specc -f",
    ]
    for a in top:
        lines.append("complete -c specc -n __fish_use_subcommand " + _fish_flags(a)
                     + f" -d '{_fish_text(a.help)}'")
    for c in commands:
        lines.append(f"complete -c specc -n __fish_use_subcommand -a {c.name} "
                     f"-d '{_fish_text(c.help)}'")
    for c in commands:
        cond = f"'__fish_seen_subcommand_from {c.name}'"
        for a in c.args:
            if a.flags:
                line = f"complete -c specc -n {cond} {_fish_flags(a)}"
                if a.kind == "choice":
                    line += f" -x -a '{' '.join(a.choices)}'"
                elif a.kind in ("file", "dir"):
                    line += " -r -F"
                elif a.kind == "text":
                    line += " -x"
                lines.append(line + f" -d '{_fish_text(a.help)}'")
            elif a.kind == "choice":
                lines.append(f"complete -c specc -n {cond} -x -a '{' '.join(a.choices)}'")
            elif a.kind in ("file", "dir"):
                lines.append(f"complete -c specc -n {cond} -F")
    lines.append(f"# subcommands: {names}")
    return "\n".join(lines) + "\n"


def _fish_flags(a: Arg) -> str:
    parts: list[str] = []
    for f in a.flags:
        if f.startswith("--"):
            parts.append(f"-l {f[2:]}")
        elif len(f) == 2:
            parts.append(f"-s {f[1:]}")
        else:
            parts.append(f"-o {f[1:]}")
    return " ".join(parts)
