"""An operator environment whose git configuration runs commands: filter drivers and an
fsmonitor hook in the system file, the global file, the XDG file and GIT_CONFIG_PARAMETERS,
plus a global attributes file naming the filter for every path. A repository whose
`.gitattributes` says `* filter=evil` would make git run them on checkout, add and commit.
Each source writes its own marker file, so a failure says which source leaked."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

ATTRIBUTES = "* filter=evil\n"
SOURCES = ("system", "global", "xdg", "params", "env-global")


@dataclass(frozen=True)
class HostileGit:
    root: Path

    def marker(self, source: str) -> Path:
        return self.root / f"ran-{source}"

    def ran(self) -> list[str]:
        return [s for s in SOURCES if self.marker(s).exists()]

    def clear(self) -> None:
        for source in SOURCES:
            self.marker(source).unlink(missing_ok=True)


def _config(hostile: HostileGit, source: str) -> str:
    marker = hostile.marker(source)
    hook = hostile.root / f"fsmonitor-{source}.sh"
    hook.write_text(f"#!/bin/sh\necho fsmonitor >> '{marker}'\nexit 1\n")
    hook.chmod(0o755)
    return (
        '[filter "evil"]\n'
        f"\tclean = \"echo clean >> '{marker}'; cat\"\n"
        f"\tsmudge = \"echo smudge >> '{marker}'; cat\"\n"
        "[core]\n"
        f"\tfsmonitor = {hook}\n"
    )


def install(root: Path, monkeypatch: pytest.MonkeyPatch, source: str) -> HostileGit:
    """Point this process's environment at a configuration where `source` (one of
    SOURCES; a filter command is one value, so only one source can win at a time) defines
    the `evil` filter. HOME is a fake one in every case, and a global attributes file
    there names the filter for every path too."""
    root.mkdir(parents=True, exist_ok=True)
    hostile = HostileGit(root)
    home = root / "home"
    (home / ".config" / "git").mkdir(parents=True)
    (home / ".config" / "git" / "attributes").write_text(ATTRIBUTES)
    system = root / "gitconfig-system"
    system.write_text(_config(hostile, "system") if source == "system" else "")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.delenv("GIT_CONFIG_NOSYSTEM", raising=False)
    monkeypatch.delenv("GIT_CONFIG_GLOBAL", raising=False)
    monkeypatch.setenv("GIT_CONFIG_SYSTEM", str(system))
    if source == "global":
        (home / ".gitconfig").write_text(_config(hostile, "global"))
    elif source == "xdg":
        (home / ".config" / "git" / "config").write_text(_config(hostile, "xdg"))
    elif source == "env-global":
        env_global = root / "gitconfig-env-global"
        env_global.write_text(_config(hostile, "env-global"))
        monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(env_global))
    elif source == "params":
        marker = hostile.marker("params")
        monkeypatch.setenv(
            "GIT_CONFIG_PARAMETERS", f"'filter.evil.smudge'='echo smudge >> {marker}; cat'"
        )
    elif source != "system":
        raise ValueError(source)
    return hostile


def plain_git_runs_it(hostile: HostileGit, work: Path, source: str) -> None:
    """Sanity check: git run with the operator's environment as is does run the command of
    `source` (so a clean result of the app is not a broken set-up)."""
    work.mkdir(parents=True)
    env = dict(os.environ)

    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=work, env=env, check=True, capture_output=True)

    git("init", "--quiet")
    (work / ".gitattributes").write_text(ATTRIBUTES)
    (work / "a.txt").write_text("a\n")
    git("add", "--all")
    git("-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "--quiet", "-m", "x")
    (work / "a.txt").unlink()
    git("checkout", "--", "a.txt")
    assert hostile.ran() == [source], f"set-up broken: {hostile.ran()} ran"
    hostile.clear()
