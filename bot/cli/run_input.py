"""What `issuewright run` starts from, checked before anything is planned or written: the
issue (a Markdown issue, or a spec with YAML front matter: `title`, `labels`, `tasks`) and
the checkout (a git work tree whose HEAD is a branch with a commit)."""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from bot.cli.output import CliError
from bot.core.safe_yaml import load_yaml

FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.S)
SLUG_CHARS = 40


@dataclass(frozen=True)
class IssueInput:
    title: str
    body: str
    labels: tuple[str, ...] = ()

    @property
    def slug(self) -> str:
        """The branch names' part: `issuewright/<slug>-<n>`."""
        words = re.sub(r"[^a-z0-9]+", "-", self.title.lower()).strip("-")
        return words[:SLUG_CHARS].rstrip("-") or "issue"


def read_issue(name: str, title: str | None) -> IssueInput:
    """The issue in file `name` (`-`: standard input); `title` wins over the file's own."""
    if name == "-":
        text = sys.stdin.read()
    else:
        path = Path(name)
        if not path.is_file():
            raise CliError(f"issue file {name!r} does not exist or is not a file")
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CliError(f"cannot read issue file {name!r}: {exc}") from None
    if not text.strip():
        raise CliError(f"issue file {name!r} is empty: write the issue in it")
    return parse_issue(text, title, name)


def parse_issue(text: str, title: str | None, name: str = "-") -> IssueInput:
    labels: tuple[str, ...] = ()
    found = FRONT_MATTER.match(text)
    if found:
        try:
            meta = load_yaml(found.group(1)) or {}
        except Exception as exc:
            raise CliError(f"the front matter of {name!r} is not valid YAML: {exc}") from None
        if not isinstance(meta, dict):
            raise CliError(f"the front matter of {name!r} must be a mapping (title, labels, tasks)")
        body = text[found.end() :]
        title = title or _text(meta.get("title"))
        labels = tuple(str(x) for x in _list(meta.get("labels"), "labels", name))
        tasks = [str(x).strip() for x in _list(meta.get("tasks"), "tasks", name)]
        if tasks:  # the spec's tasks become the task list the planner splits on
            body = body.rstrip() + "\n\n## Tasks\n\n" + "".join(f"- [ ] {t}\n" for t in tasks)
    else:
        body = text
    if not title:
        lines = [line.strip() for line in body.splitlines() if line.strip()]
        heading = next((line for line in lines if line.startswith("#")), None)
        title = (heading or (lines[0] if lines else "")).lstrip("#").strip()
    if not title or not body.strip():
        raise CliError(f"issue file {name!r} has no text below its front matter")
    return IssueInput(title[:200], body, labels)


def _text(value: object) -> str | None:
    return str(value).strip() if value is not None and str(value).strip() else None


def _list(value: object, key: str, name: str) -> list[object]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list):
        raise CliError(f"`{key}` in the front matter of {name!r} must be a list")
    return value


@dataclass(frozen=True)
class LocalRepo:
    root: Path
    branch: str  # the branch HEAD is on
    head: str  # its commit


def open_checkout(path: Path) -> LocalRepo:
    """The checkout at `path`, or one line saying why it cannot be worked from."""
    if not path.is_dir():
        raise CliError(f"--repo {str(path)!r} is not a directory")
    top = _git(path, "rev-parse", "--show-toplevel")
    if top is None:
        raise CliError(f"{path} is not a git checkout: run `git init` or pass --repo DIR")
    root = Path(top)
    head = _git(root, "rev-parse", "--verify", "--quiet", "HEAD^{commit}")
    if head is None:
        raise CliError(f"{root} has no commit yet: commit the files first")
    branch = _git(root, "symbolic-ref", "--quiet", "--short", "HEAD")
    if branch is None:
        raise CliError(
            f"HEAD of {root} is detached: `git switch` to a branch first (task branches start "
            "from it)"
        )
    return LocalRepo(root, branch, head)


def _git(cwd: Path, *args: str) -> str | None:
    try:
        proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        raise CliError(
            "git is not installed or does not answer; `issuewright run` needs it"
        ) from None
    return proc.stdout.strip() if proc.returncode == 0 else None
