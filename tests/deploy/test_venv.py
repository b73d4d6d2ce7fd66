"""The first command fails early and clearly: `make` against a copy of the Makefile and
scripts/venv, with stand-in interpreters (small shell scripts) instead of real ones, so nothing
is downloaded or installed."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(
    shutil.which("make") is None or shutil.which("sh") is None, reason="needs make and sh"
)

# A stand-in interpreter: answers the version probe with its VERSION, makes a "virtual
# environment" of itself for `-m venv DIR` (with a no-op uv), and installs nothing.
FAKE_PYTHON = """#!/bin/sh
VERSION={version}
case "$1" in
  -c) echo "$VERSION" ;;
  -m)
    case "$2" in
      venv)
        mkdir -p "$3/bin"
        printf 'home = %s\\nversion = %s\\nexecutable = %s\\n' "$(dirname "$0")" "$VERSION" "$0" \\
          > "$3/pyvenv.cfg"
        cp "$0" "$3/bin/python"
        printf '#!/bin/sh\\necho "$*" >> "$(dirname "$0")/../installs"\\n' > "$3/bin/uv"
        chmod +x "$3/bin/uv" ;;
      pip) ;;
    esac ;;
esac
"""


def fake_python(where: Path, version: str) -> Path:
    where.mkdir(parents=True, exist_ok=True)
    path = where / f"python{version}"
    path.write_text(FAKE_PYTHON.format(version=version))
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A folder with the Makefile and scripts/venv, as make runs them from a clone."""
    root = tmp_path / "clone"
    (root / "scripts").mkdir(parents=True)
    shutil.copy(ROOT / "Makefile", root / "Makefile")
    shutil.copy(ROOT / "scripts" / "venv", root / "scripts" / "venv")
    (root / "requirements.lock").write_text("")
    (root / "pyproject.toml").write_text("")
    return root


def make(
    project: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k not in {"PYTHON", "MAKEFLAGS", "MAKELEVEL"}}
    return subprocess.run(
        ["make", "--no-print-directory", *args],
        cwd=project,
        env={**environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
    )


def venv_state(project: Path, python: Path, *, chosen: bool = True) -> str:
    result = subprocess.run(
        ["sh", "scripts/venv", "state", str(python), ".venv"],
        cwd=project,
        env={**os.environ, "PYTHON_CHOSEN": "1" if chosen else ""},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def built_venv(project: Path, python: Path) -> Path:
    """A finished .venv made by `python`, as `make` leaves it."""
    result = make(project, "venv", f"PYTHON={python}")
    assert result.returncode == 0, result.stderr
    return project / ".venv"


@pytest.mark.parametrize("goal", ["test", "serve"])
def test_python_310_stops_with_one_line_naming_the_version_needed(project: Path, goal: str) -> None:
    python = fake_python(project.parent / "bin", "3.10.13")

    result = make(project, goal, f"PYTHON={python}")

    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert "Python 3.11 or newer is needed" in lines[0]
    assert "Python 3.10.13" in lines[0]
    assert "PYTHON=python3.11" in lines[0]
    assert not (project / ".venv").exists()  # nothing half-made to trip the next run


def test_python_from_the_environment_is_checked_too(project: Path) -> None:
    python = fake_python(project.parent / "bin", "3.9.18")

    result = make(project, "test", env={"PYTHON": str(python)})

    assert result.returncode == 2
    assert len(result.stderr.splitlines()) == 1
    assert "Python 3.9.18" in result.stderr


def test_a_missing_interpreter_stops_with_one_line(project: Path) -> None:
    result = make(project, "test", "PYTHON=python-does-not-exist")

    assert result.returncode == 2
    assert len(result.stderr.splitlines()) == 1
    assert "'python-does-not-exist' was not found" in result.stderr


def test_a_first_run_creates_and_stamps_the_venv(project: Path) -> None:
    python = fake_python(project.parent / "bin", "3.11.7")

    venv = built_venv(project, python)

    assert (venv / ".installed").exists()
    assert "version = 3.11.7" in (venv / "pyvenv.cfg").read_text()
    assert "-r requirements.lock" in (venv / "installs").read_text()
    assert venv_state(project, python) == "reuse"
    # Run again: reused, nothing installed a second time.
    installs = (venv / "installs").read_text()
    assert make(project, "venv", f"PYTHON={python}").returncode == 0
    assert (venv / "installs").read_text() == installs


def test_a_venv_whose_pyvenv_cfg_names_another_version_is_rebuilt(project: Path) -> None:
    old = fake_python(project.parent / "old", "3.10.13")
    new = fake_python(project.parent / "new", "3.11.7")
    venv = project / ".venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "pyvenv.cfg").write_text(
        f"home = {old.parent}\nversion = 3.10.13\nexecutable = {old}\n"
    )
    shutil.copy(old, venv / "bin" / "python")
    (venv / ".installed").touch()
    (venv / "left-over").touch()

    assert venv_state(project, new).startswith("rebuild: it was made by Python 3.10.13")

    result = make(project, "venv", f"PYTHON={new}")

    assert result.returncode == 0, result.stderr
    assert "rebuilding .venv" in result.stderr
    assert "version = 3.11.7" in (venv / "pyvenv.cfg").read_text()
    assert not (venv / "left-over").exists()
    assert (venv / ".installed").exists()


def test_a_venv_of_another_version_than_the_one_asked_for_is_rebuilt(project: Path) -> None:
    venv = built_venv(project, fake_python(project.parent / "a", "3.11.7"))
    other = fake_python(project.parent / "b", "3.12.1")

    assert venv_state(project, other).startswith("rebuild: it was made by Python 3.11.7")
    # With the Makefile's default PYTHON (not chosen), a healthy venv is kept as it is.
    assert venv_state(project, other, chosen=False) == "reuse"

    assert make(project, "venv", f"PYTHON={other}").returncode == 0
    assert "version = 3.12.1" in (venv / "pyvenv.cfg").read_text()


def test_a_venv_whose_interpreter_is_gone_is_rebuilt(project: Path) -> None:
    gone = fake_python(project.parent / "gone", "3.11.7")
    venv = built_venv(project, gone)
    shutil.rmtree(gone.parent)
    python = fake_python(project.parent / "bin", "3.11.7")

    assert venv_state(project, python, chosen=False).startswith(
        f"rebuild: the Python that made it ({gone}) no longer exists"
    )
    assert make(project, "venv", f"PYTHON={python}").returncode == 0
    assert f"executable = {python}" in (venv / "pyvenv.cfg").read_text()


def test_a_half_finished_install_is_rebuilt(project: Path) -> None:
    python = fake_python(project.parent / "bin", "3.11.7")
    venv = built_venv(project, python)
    (venv / ".installed").unlink()  # as an interrupted or failed install leaves it

    assert venv_state(project, python) == "rebuild: an install into it did not finish"
    result = make(project, "venv", f"PYTHON={python}")
    assert result.returncode == 0, result.stderr
    assert "rebuilding .venv (an install into it did not finish)" in result.stderr
    assert (venv / ".installed").exists()


def test_a_changed_lock_file_reinstalls_into_the_same_venv(project: Path) -> None:
    python = fake_python(project.parent / "bin", "3.11.7")
    venv = built_venv(project, python)
    (venv / "kept").touch()
    # The lock file changed after the install (the stamp is older than it).
    lock = (project / "requirements.lock").stat().st_mtime
    os.utime(venv / ".installed", (lock - 10, lock - 10))

    assert venv_state(project, python) == "update"
    assert make(project, "venv", f"PYTHON={python}").returncode == 0
    assert (venv / "kept").exists()
    assert venv_state(project, python) == "reuse"


def test_a_too_old_interpreter_leaves_an_existing_venv_alone(project: Path) -> None:
    venv = built_venv(project, fake_python(project.parent / "a", "3.11.7"))
    old = fake_python(project.parent / "b", "3.10.13")

    result = make(project, "test", f"PYTHON={old}")

    assert result.returncode == 2
    assert len(result.stderr.splitlines()) == 1
    assert (venv / ".installed").exists()
