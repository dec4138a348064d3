"""`specc set` and files it may not write: a read-only file (0444) or folder is left byte
for byte untouched with exit 1 (E005, E006) unless --force; a dry run still shows the
diff. (An atomic write replaces the file by rename, so without this check the mode alone
would not stop it, and root ignores modes altogether.)"""

from __future__ import annotations

import shutil
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from specc.cli import main

from conftest import EXAMPLES


@pytest.fixture
def spec(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "specs" / "quickstart.yaml"
    path.parent.mkdir()
    shutil.copyfile(EXAMPLES / "quickstart.yaml", path)
    yield path
    path.parent.chmod(0o755)


def test_read_only_file_is_refused_untouched(spec: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    spec.chmod(0o444)
    before = spec.read_bytes()
    assert main(["set", str(spec), "name=changed"]) == 1
    err = capsys.readouterr().err
    assert f"{spec}:1:1: error E005" in err and "--force" in err
    assert spec.read_bytes() == before
    assert sorted(p.name for p in spec.parent.iterdir()) == [spec.name]
    # a dry run writes nothing, so it is allowed
    assert main(["set", str(spec), "name=changed", "--dry-run"]) == 0
    assert "+name: changed" in capsys.readouterr().out


def test_read_only_folder_is_refused_untouched(spec: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    spec.parent.chmod(0o555)
    before = spec.read_bytes()
    assert main(["set", str(spec), "name=changed"]) == 1
    assert "error E006" in capsys.readouterr().err
    assert spec.read_bytes() == before


def test_force_writes_a_read_only_file_and_keeps_its_mode(spec: Path) -> None:
    spec.chmod(0o444)
    assert main(["set", str(spec), "name=changed", "--force"]) == 0
    assert "name: changed" in spec.read_text()
    assert stat.S_IMODE(spec.stat().st_mode) == 0o444
