"""Writing a model's answer into a checkout: the files it names are checked out (sparse
worktrees), then checked and written all-or-nothing (bot/attempt/safe_write.py)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from bot.attempt import safe_write as safety
from bot.core.edit_apply import touched_paths
from bot.core.edits import parse_answer
from bot.core.file_rules import DEFAULT_DENIED, DEFAULT_MAX_FILE_BYTES, check_path
from bot.git import sparse as sparse_checkout


def answer_paths(answer: str) -> list[str]:
    """Paths the answer names that could be written at all (hostile ones are left for the
    safety checks to refuse; there is nothing to check out for them)."""
    # The safety rules without any denied prefix: a path they refuse (NUL byte, too long,
    # traversal, .git/) is never handed to git, whose argv cannot even hold a NUL.
    return [p for p in touched_paths(parse_answer(answer).edits) if check_path(p, ()) is None]


def apply_answer(
    worktree: Path,
    answer: str,
    *,
    denied_paths: Sequence[str] = DEFAULT_DENIED,
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
) -> safety.EditPlan:
    """Check and write an answer all-or-nothing (a formatter, if any, runs afterwards:
    bot/attempt/formatter.py).

    Returns the plan: when it has problems nothing was written (see
    `bot.core.edits.render_repair_message` for the repair round).
    """
    if sparse_checkout.is_sparse(worktree):
        sparse_checkout.materialize(worktree, answer_paths(answer))
    plan = safety.plan_answer(
        worktree, answer, denied_paths=denied_paths, max_file_bytes=max_file_bytes
    )
    if plan.ok:
        safety.write_plan(worktree, plan)
    return plan
