"""`issuewright tasks` and `issuewright task show`: what the app did with each task, read from
the database (never creating one). `task show` prints a task's transitions and attempts, and
with --prompt, --answer and --diff what each attempt's record kept (bot/core/attempt_record.py).
"""

from __future__ import annotations

import argparse
from typing import Any

from bot.cli.inspect import run_on_database
from bot.cli.output import AS_JSON, print_json, utc
from bot.cli.table import Column, print_table
from bot.cli.task_rows import KEY_FORM, parse_key, task_dict
from bot.core.lifecycle import TaskState

# ---------------------------------------------------------------- tasks


def cmd_tasks(args: argparse.Namespace) -> int:
    from sqlalchemy import func, select

    from bot.store.models import Task

    async def fetch(sessions: Any) -> list[Any]:
        query = select(Task).order_by(Task.updated_at.desc(), Task.id.desc()).limit(args.limit)
        if args.repo:
            query = query.where(func.lower(Task.repository) == args.repo.lower())
        if args.state:
            query = query.where(Task.state == args.state)
        async with sessions() as session:
            return list((await session.execute(query)).scalars())

    rows = run_on_database(fetch)
    if args.json:
        print_json({"tasks": [task_dict(t) for t in rows]})
        return 0
    if not rows:
        print("no tasks" + (f" in {args.repo}" if args.repo else "") + _state_clause(args.state))
        return 0
    print_table(
        [
            "task",
            "state",
            "PR",
            Column("attempts", right=True),
            Column("cost USD", right=True),
            "updated (UTC)",
            "title / last error",
        ],
        [
            (
                t.key,
                t.state,
                f"#{t.pr_number}" if t.pr_number else None,
                t.attempts,
                f"{t.cost_usd:.4f}",
                f"{utc(t.updated_at):%Y-%m-%d %H:%M}",
                _first_line(t.last_error, 100) if t.last_error else t.title[:100],
            )
            for t in rows
        ],
    )
    return 0


def _state_clause(state: str | None) -> str:
    return f" in state {state}" if state else ""


def _first_line(text: str, limit: int) -> str:
    lines = text.strip().splitlines()
    return lines[0][:limit] if lines else ""


# ---------------------------------------------------------------- parser


def register_tasks(sub: Any) -> None:
    p = sub.add_parser("tasks", help="the app's tasks, most recently changed first")
    p.add_argument("--repo", metavar="OWNER/REPO", help="only the tasks of this repository")
    p.add_argument("--state", choices=[s.value for s in TaskState], help="only tasks in this state")
    p.add_argument(
        "--limit", metavar="N", type=int, default=50, help="show at most N, newest first (50)"
    )
    p.add_argument("--json", action="store_true", help=AS_JSON)
    p.set_defaults(func=cmd_tasks)

    task = sub.add_parser("task", help="one task's history").add_subparsers(
        dest="task_command", metavar="ACTION"
    )
    task.required = True
    p = task.add_parser(
        "show", help="a task's transitions, attempts and outcomes (every task of an issue)"
    )
    p.add_argument(
        "key",
        metavar="KEY",
        help=f"the task, {KEY_FORM} (without /N: every task of the issue)",
    )
    p.add_argument("--prompt", action="store_true", help="also print the prompt each attempt sent")
    p.add_argument(
        "--answer", action="store_true", help="also print the model's raw answer of each attempt"
    )
    p.add_argument("--diff", action="store_true", help="also print the diff each attempt committed")
    p.add_argument("--json", action="store_true", help=AS_JSON)
    p.set_defaults(func=cmd_task_show)


def cmd_task_show(args: argparse.Namespace) -> int:
    from bot.cli.task_show import show_tasks

    return show_tasks(parse_key(args.key), args)
