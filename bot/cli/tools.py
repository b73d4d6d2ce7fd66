"""CLI commands that work on local files or the database: plan, apply, context rank, prompts
check, stats, cleanup. Each module keeps its logic; this file only wires arguments to it."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from bot.cli.output import AS_JSON, CliError


def _read_text(name: str, what: str) -> str:
    if name == "-":
        return sys.stdin.read()
    path = Path(name)
    if not path.is_file():
        raise CliError(f"{what} {name!r} does not exist or is not a file")
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CliError(f"cannot read {what} {name!r}: {exc}") from None


def cmd_plan(args: argparse.Namespace) -> int:
    from bot.cli.plan import cli_plan

    body = _read_text(args.issue_file, "issue file")
    return cli_plan(args, body)


def cmd_apply(args: argparse.Namespace) -> int:
    from bot.cli.apply import cli_apply
    from bot.settings import CONFIG_PATH, Settings, load_repo_config

    # The checkout's own .github/issuewright.yml under the operator's policy, so `apply`
    # refuses what the app would (the server's protected paths included).
    config_file = Path(args.repo) / CONFIG_PATH
    text = config_file.read_text(errors="replace") if config_file.is_file() else None
    settings = Settings.from_env()
    config, _ = load_repo_config(text, settings.policy)
    answer = None
    if args.from_attempt is not None:
        from bot.cli.stored_answer import replayed_answer

        answer = replayed_answer(args.from_attempt, settings)
    if args.commit and not args.dry_run:
        from bot.cli.apply import read_answer_or_fail
        from bot.cli.apply_commit import commit_answer

        answer = read_answer_or_fail(args.answer) if answer is None else answer
        return commit_answer(Path(args.repo), answer, config, settings, args.json)
    return cli_apply(
        Path(args.repo),
        args.answer or f"of attempt {args.from_attempt}",
        args.dry_run,
        args.json,
        denied_paths=config.denied_paths,
        max_file_bytes=config.max_file_bytes,
        max_files=config.max_files_per_task,
        text=answer,
    )


def cmd_context_rank(args: argparse.Namespace) -> int:
    from bot.cli.context_rank import cli_context_rank
    from bot.settings import Settings

    return cli_context_rank(
        Path(args.repo),
        args.query_file,
        args.budget,
        args.json,
        worktree=args.worktree,
        cache_dir=Settings.from_env().cache_dir,
    )


def cmd_prompts_check(args: argparse.Namespace) -> int:
    from bot.cli.prompts_check import cli_prompts_check

    return cli_prompts_check(Path(args.overrides) if args.overrides else None, args.json)


def cmd_stats(args: argparse.Namespace) -> int:
    from bot.cli.maintenance import cli_stats
    from bot.settings import Settings

    return cli_stats(Settings.from_env(), args.since, args.json)


def cmd_cleanup(args: argparse.Namespace) -> int:
    from bot.cli.maintenance import cli_cleanup
    from bot.settings import Settings

    return cli_cleanup(Settings.from_env(), args.older_than, args.dry_run, args.json)


WORKTREE_HELP = (
    "read the files as they are on disk, uncommitted ones included (not git-ignored ones); "
    "by default the checkout is read at HEAD, as the app will see it"
)


def register_tools(sub: Any) -> None:
    p = sub.add_parser(
        "plan", help="show how the app would split, prompt and price an issue (no LLM call)"
    )
    p.add_argument(
        "--issue-file", metavar="FILE", required=True, help="the issue body (- for standard input)"
    )
    p.add_argument(
        "--title", metavar="TEXT", help="the issue title (default: the body's first line)"
    )
    p.add_argument("--label", metavar="NAME", action="append", help="an issue label (repeatable)")
    p.add_argument("--repo", metavar="DIR", help="a local checkout to pick files from")
    p.add_argument("--worktree", action="store_true", help=WORKTREE_HELP)
    p.add_argument(
        "--name",
        metavar="OWNER/REPO",
        help="the repository's name on GitHub, which task keys and prompts show (default: "
        "the checkout's folder name)",
    )
    p.add_argument(
        "--llm",
        action="store_true",
        help="with `llm_plan: true`, ask the configured model to group the items as the app "
        "would (one call, checked against the task budget; without it the preview says the "
        "app would ask and shows the rule-based plan, its fallback)",
    )
    p.add_argument(
        "--number",
        metavar="N",
        type=int,
        default=1,
        help="the issue number task keys are made of (1)",
    )
    p.add_argument("--json", action="store_true", help=AS_JSON)
    p.set_defaults(func=cmd_plan)

    p = sub.add_parser("apply", help="check (and apply) a model answer against a local checkout")
    p.add_argument("--repo", metavar="DIR", required=True, help="the checkout to write into")
    given = p.add_mutually_exclusive_group(required=True)
    given.add_argument("--answer", metavar="FILE", help="the answer file (- for standard input)")
    given.add_argument(
        "--from-attempt",
        metavar="ID",
        type=int,
        help="the answer an attempt of the app stored (its final round; the ids are in "
        "`issuewright task show`), read from DATABASE_URL",
    )
    p.add_argument("--dry-run", action="store_true", help="check only; write nothing")
    p.add_argument(
        "--commit",
        action="store_true",
        help="write it on a new branch from HEAD (a worktree) and commit it as you; your "
        "branch and files are not touched",
    )
    p.add_argument("--json", action="store_true", help=AS_JSON)
    p.set_defaults(func=cmd_apply)

    ctx = sub.add_parser("context", help="context selection").add_subparsers(
        dest="context_command", metavar="ACTION"
    )
    ctx.required = True
    p = ctx.add_parser("rank", help="rank a checkout's files for a query and show what is packed")
    p.add_argument(
        "--repo", metavar="DIR", required=True, help="the checkout whose files are ranked"
    )
    p.add_argument("--worktree", action="store_true", help=WORKTREE_HELP)
    p.add_argument(
        "--query-file", metavar="FILE", required=True, help="the query, e.g. an issue body"
    )
    p.add_argument(
        "--budget", metavar="TOKENS", type=int, default=16000, help="tokens to pack (16000)"
    )
    p.add_argument("--json", action="store_true", help=AS_JSON)
    p.set_defaults(func=cmd_context_rank)

    prompts = sub.add_parser("prompts", help="prompt templates").add_subparsers(
        dest="prompts_command", metavar="ACTION"
    )
    prompts.required = True
    p = prompts.add_parser("check", help="render every template with sample data")
    p.add_argument(
        "--overrides", metavar="DIR", help="a folder of repository overrides to check too"
    )
    p.add_argument("--json", action="store_true", help=AS_JSON)
    p.set_defaults(func=cmd_prompts_check)

    p = sub.add_parser("stats", help="tasks, merge rate, CI-fix rate, time to PR, spend")
    p.add_argument(
        "--since",
        metavar="DURATION",
        help="only the last DURATION, e.g. 7d, 12h (default: all time)",
    )
    p.add_argument("--json", action="store_true", help=AS_JSON)
    p.set_defaults(func=cmd_stats)

    p = sub.add_parser(
        "cleanup",
        help="remove finished deliveries, jobs, attempt records and worktrees past retention",
    )
    p.add_argument(
        "--older-than",
        metavar="DURATION",
        default="30d",
        help="remove what finished before DURATION ago (30d)",
    )
    p.add_argument("--dry-run", action="store_true", help="count only; remove nothing")
    p.add_argument("--json", action="store_true", help=AS_JSON)
    p.set_defaults(func=cmd_cleanup)
