"""Reading a repository's prompt overrides (`.github/issuewright/prompts/<id>.md.j2`).

One reader for the app and `issuewright plan`, so the preview renders with the templates the
app will use: from a commit's tree (the app's mirror at the base commit, a checkout's HEAD),
or from files on disk (`plan --worktree`, a folder that is not a git checkout). Which of
them are used is the library's decision (bot/prompts/library.py vets each one).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from bot.git import cmd as git_cmd
from bot.prompts.templates import OVERRIDE_DIR

SUFFIX = ".md.j2"


def is_override(path: str) -> bool:
    """An override file: directly in the override folder (sub-folders are not read)."""
    folder, _, name = path.rpartition("/")
    return folder == OVERRIDE_DIR and name.endswith(SUFFIX)


def overrides_at(git_dir: Path, commit: str) -> dict[str, str]:
    """The overrides in `commit`'s tree, by path (none when the folder is absent)."""
    listing = git_cmd.git(
        "ls-tree", "--name-only", commit, f"{OVERRIDE_DIR}/", cwd=git_dir, check=False
    )
    found: dict[str, str] = {}
    for path in listing.stdout.splitlines():
        if is_override(path):
            blob = git_cmd.git("show", f"{commit}:{path}", cwd=git_dir, check=False)
            if blob.returncode == 0:
                found[path] = blob.stdout
    return found


def overrides_on_disk(root: Path, paths: Iterable[str] | None = None) -> dict[str, str]:
    """The overrides under `root` as they are on disk; with `paths`, only those listed (the
    files git would commit)."""
    folder = root / OVERRIDE_DIR
    if paths is None:
        paths = (
            (f"{OVERRIDE_DIR}/{p.name}" for p in folder.glob(f"*{SUFFIX}") if p.is_file())
            if folder.is_dir()
            else ()
        )
    found: dict[str, str] = {}
    for path in sorted(p for p in paths if is_override(p)):
        try:
            found[path] = (root / path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue  # unreadable: as absent, like a blob git cannot show
    return found
