"""`issuewright apply --commit`: the answer written as an attempt writes it — into a worktree
on a new branch from HEAD, under the checkout's limits and the operator's formatter — and
committed there as the user; the user's branch, index and files are not touched."""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from pathlib import Path
from typing import Any

from bot.attempt import safe_write as safety
from bot.attempt.apply_answer import apply_answer
from bot.attempt.edit_rounds import too_many_files
from bot.attempt.formatter import FormatterRefused, format_changes, formatter_for
from bot.cli.output import print_json
from bot.cli.run import user_identity
from bot.cli.run_input import open_checkout
from bot.git import worktrees as workspace
from bot.settings import RepoConfig, Settings


def commit_answer(
    repo: Path, text: str, config: RepoConfig, settings: Settings, as_json: bool
) -> int:
    local = open_checkout(repo)
    identity = user_identity(local)
    branch = f"issuewright/apply-{hashlib.sha256(text.encode(errors='replace')).hexdigest()[:8]}"
    if workspace.branch_exists(local.root, branch):
        return _refused(as_json, f"the branch {branch} already exists: this answer was committed")
    dest = Path(tempfile.mkdtemp(prefix="issuewright-apply-")) / "worktree"
    workspace.add_branch_worktree(local.root, branch=branch, start=local.head, dest=dest)
    commit = None
    try:
        plan = apply_answer(
            dest, text, denied_paths=config.denied_paths, max_file_bytes=config.max_file_bytes
        )
        if not plan.ok:
            return _refused(as_json, "; ".join(p.render() for p in plan.problems))
        if len(plan.changes) > config.max_files_per_task:
            return _refused(as_json, too_many_files(len(plan.changes), config.max_files_per_task))
        formatter = formatter_for(settings, config)
        if formatter is not None:
            format_changes(dest, formatter, plan, config.denied_paths)
        message = (plan.summary or "Apply a model answer").splitlines()[0][:200]
        commit = workspace.commit_all(
            dest, f"{message}\n\nApplied by `issuewright apply --commit`.", author=identity
        )
        if commit is None:
            return _refused(as_json, "the answer changes nothing")
        files = sorted(c.path for c in plan.changes)
    except (safety.WriteError, FormatterRefused) as exc:
        return _refused(as_json, str(exc))
    finally:
        workspace.drop_worktree(local.root, dest, delete_branch=None if commit else branch)
        shutil.rmtree(dest.parent, ignore_errors=True)
    result: dict[str, Any] = {"ok": True, "branch": branch, "commit": commit, "files": files}
    if as_json:
        print_json(result)
    else:
        print(f"committed {commit[:12]} on {branch}: {', '.join(files)}")
        print(f"next: `git switch {branch}`")
    return 0


def _refused(as_json: bool, reason: str) -> int:
    if as_json:
        print_json({"ok": False, "branch": None, "commit": None, "problems": [reason]})
    else:
        print(f"refused, nothing committed: {reason}")
    return 1
