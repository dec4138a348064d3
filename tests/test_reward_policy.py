"""The reward import policy at run time (:mod:`specc.runtime.rewards`) and the project root
rule: built-ins, installed modules and files of the project load; the standard library,
files outside the root and modules only found in the working directory or the spec's
folder are refused, and nothing is imported from those folders. (What validate says
about the same names: `tests/cases/reward_policy/`.)"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from specc.runtime.rewards import RewardError, resolve
from specc.spec.models.data import Reward, RewardFunction
from specc.spec.project_root import find_root

EVIL = "from pathlib import Path\nPath({marker!r}).write_text('imported')\n\n" \
       "def f(completions, **kw):\n    return [1.0 for _ in completions]\n"


def _reward(*names: str) -> Reward:
    return Reward(functions=[RewardFunction(name=n) for n in names])


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A project (``.specc`` marker) whose spec folder and the working directory both hold
    an ``evilmod.py`` that leaves a marker when imported; cwd is on ``sys.path`` as
    ``python -m`` or a notebook would put it."""
    root = tmp_path / "proj"
    (root / "specs").mkdir(parents=True)
    (root / ".specc").write_text("")
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    for d in (root / "specs", cwd):
        (d / "evilmod.py").write_text(EVIL.format(marker=str(tmp_path / f"MARK-{d.name}")))
    (root / "specs" / "rewards.py").write_text(
        "def score(completions, **kw):\n    return [2.0 for _ in completions]\n")
    (root / "specs" / "sneaky.py").write_text("from os import system as score\n")
    (tmp_path / "outside.py").write_text(EVIL.format(marker=str(tmp_path / "MARK-outside")))
    monkeypatch.chdir(cwd)
    monkeypatch.syspath_prepend(str(cwd))
    monkeypatch.syspath_prepend("")
    yield root
    sys.modules.pop("evilmod", None)


def _markers(tmp_path: Path) -> list[str]:
    return sorted(p.name for p in tmp_path.glob("MARK-*"))


def test_file_in_the_project_loads_by_path_without_touching_sys_path(project: Path) -> None:
    before = list(sys.path)
    (fn,) = resolve(_reward("./rewards.py:score"), str(project / "specs"))
    assert fn(["a", "b"]) == [2.0, 2.0]
    assert sys.path == before
    assert "rewards" not in sys.modules or "specs" not in str(sys.modules["rewards"])


def test_builtins_and_installed_modules_resolve(project: Path) -> None:
    fns = resolve(_reward("specc.rewards:exact_match", "yaml:safe_load"),
                  str(project / "specs"))
    assert [f.__name__ for f in fns] == ["exact_match", "safe_load"]


@pytest.mark.parametrize("name", ["os:system", "subprocess:run", "builtins:eval",
                                  "posix:system", "importlib:import_module"])
def test_standard_library_callables_are_refused(project: Path, name: str) -> None:
    with pytest.raises(RewardError, match="standard library"):
        resolve(_reward(name), str(project / "specs"))


def test_a_project_file_re_exporting_a_stdlib_function_is_refused(project: Path) -> None:
    with pytest.raises(RewardError, match=r"posix\.system|built-in"):
        resolve(_reward("./sneaky.py:score"), str(project / "specs"))


def test_modules_of_the_working_directory_or_spec_folder_are_never_imported(
        project: Path, tmp_path: Path) -> None:
    with pytest.raises(RewardError, match="not installed"):
        resolve(_reward("evilmod:f"), str(project / "specs"))
    with pytest.raises(RewardError, match="outside the project root"):
        resolve(_reward("../../outside.py:f"), str(project / "specs"))
    with pytest.raises(RewardError, match="outside the project root"):
        resolve(_reward(f"{tmp_path / 'outside.py'}:f"), str(project / "specs"))
    assert _markers(tmp_path) == []
    assert "evilmod" not in sys.modules


def test_project_root_rule(tmp_path: Path) -> None:
    spec = tmp_path / "a" / "b" / "spec.yaml"
    spec.parent.mkdir(parents=True)
    spec.write_text("")
    # no marker anywhere up to / (tmp_path has none): the spec's own folder
    assert find_root(str(spec)) in (str(spec.parent), _marked_ancestor(spec))
    (tmp_path / "a" / "pyproject.toml").write_text("")
    assert find_root(str(spec)) == str(tmp_path / "a")
    (tmp_path / "a" / "b" / ".specc").write_text("")
    assert find_root(str(spec)) == str(tmp_path / "a" / "b")
    # --root widens: a folder above, or the common folder of a sibling
    assert find_root(str(spec), str(tmp_path)) == str(tmp_path)
    (tmp_path / "c").mkdir()
    assert find_root(str(spec), str(tmp_path / "c")) == str(tmp_path)


def _marked_ancestor(spec: Path) -> str:
    """The nearest ancestor with a marker (a test tree may live inside a repository)."""
    for parent in spec.parents:
        if any((parent / m).exists() for m in (".git", "pyproject.toml", ".specc")):
            return str(parent)
    return str(spec.parent)


def test_entry_takes_the_working_directory_off_sys_path(tmp_path: Path) -> None:
    import subprocess

    # a `yaml.py` in the working directory would shadow PyYAML if cwd stayed on sys.path
    (tmp_path / "yaml.py").write_text(EVIL.format(marker=str(tmp_path / "MARK-yaml")))
    code = ("import sys, runpy; sys.argv = ['specc', 'codes']; "
            "import specc.process as c; c.drop_cwd_from_path(); import yaml; "
            "print(repr(sys.path[0]), yaml.__file__)")
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                         text=True, check=True)
    assert str(tmp_path) not in out.stdout.split()[-1]
    assert _markers(tmp_path) == []
    assert out.stdout.split()[0] not in ("''", repr(os.getcwd()), repr(str(tmp_path)))
