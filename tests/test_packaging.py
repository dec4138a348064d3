"""The distribution is `specc-llm` (the index's `specc` is someone else's project): every
documented install command names it, and a wheel built from this tree installs the
`specc` command into a fresh virtualenv with no index reachable."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DIST = "specc-llm"
_INSTALL = re.compile(r"pip install\s+(?:-[-\w]+\s+)*['\"]?([A-Za-z0-9_.\-]+)(\[[^\]\s]*\])?")


def _documents() -> list[Path]:
    paths = [ROOT / "README.md", ROOT / ".pre-commit-hooks.yaml", *ROOT.glob("docs/**/*.md"),
             *ROOT.glob("docs/**/*.yml"), *ROOT.glob("docs/**/*.yaml"),
             *ROOT.glob("specc/**/*.py"), *ROOT.glob("runtime/**/*.py")]
    return [p for p in paths if p.is_file()]


def test_pyproject_names_the_distribution() -> None:
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert meta["project"]["name"] == DIST
    assert meta["project"]["scripts"]["specc"] == "specc.cli:entry"
    assert all(dep.startswith(f"{DIST}[") for dep in meta["project"]["optional-dependencies"]
               ["all"])


def test_every_documented_install_of_specc_names_the_distribution() -> None:
    seen = 0
    for path in _documents():
        for m in _INSTALL.finditer(path.read_text(encoding="utf-8")):
            name = m.group(1)
            if name.lower().startswith("specc"):
                seen += 1
                assert name == DIST, f"{path.relative_to(ROOT)}: `{m.group(0)}`"
    assert seen >= 4  # README, docs/ci.md (GitHub and GitLab), the example workflow


def test_a_built_wheel_installs_the_command_offline(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "-q", "-w", str(wheels), str(ROOT)], check=True, capture_output=True,
                   text=True, cwd=tmp_path)
    (wheel,) = wheels.glob("specc_llm-*.whl")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    py = venv / "bin" / "python"
    site = subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()"
                           "['purelib'])"], capture_output=True, text=True,
                          check=True).stdout.strip()
    # the dependencies (pydantic, ruamel.yaml, jsonschema) come from this test's own
    # environment, as a plain path: its .pth files, this tree's editable install among
    # them, are not processed, so `specc` can only come from the wheel
    ours = next(p for p in sys.path if p.endswith("site-packages"))
    Path(site, "deps.pth").write_text(ours + "\n")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(py), "install", "-q",
                    "--no-index", "--no-deps", str(wheel)], check=True, capture_output=True,
                   text=True)
    specc = venv / "bin" / "specc"
    assert specc.exists()
    origin = subprocess.run([str(py), "-c", "import specc; print(specc.__file__)"],
                            capture_output=True, text=True, check=True, cwd=tmp_path)
    assert origin.stdout.strip().startswith(str(venv)), origin.stdout
    spec = tmp_path / "s.yaml"
    spec.write_text((ROOT / "examples" / "quickstart.yaml").read_text())
    done = subprocess.run([str(specc), "validate", "--format", "json", str(spec)],
                          capture_output=True, text=True, cwd=tmp_path, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert '"diagnostics"' in done.stdout
    shown = subprocess.run([sys.executable, "-m", "pip", "--python", str(py), "show", DIST],
                           capture_output=True, text=True, check=True).stdout
    assert f"Name: {DIST}" in shown
