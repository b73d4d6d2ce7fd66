"""CLI commands that work on local files or the database: plan, apply, context rank, prompts
check, stats, cleanup. Each module keeps its logic; this file only wires arguments to it."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any


class ToolError(Exception):
    """One line for the user; exit status 2."""


def _read_text(name: str, what: str) -> str:
    if name == "-":
        return sys.stdin.read()
    path = Path(name)
    if not path.is_file():
        raise ToolError(f"{what} {name!r} does not exist or is not a file")
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ToolError(f"cannot read {what} {name!r}: {exc}") from None


def cmd_plan(args: argparse.Namespace) -> int:
    from bot.context import RepoMap
    from bot.llm.pricing import PricingTable
    from bot.plan.planner import IssueText, make_plan
    from bot.repo.config import llm_choice
    from bot.settings import CONFIG_PATH, Settings, load_repo_config

    body = _read_text(args.issue_file, "issue file")
    repo_map = None
    config_text = None
    name = "local/repo"
    if args.repo:
        root = Path(args.repo)
        if not root.is_dir():
            raise ToolError(f"--repo {args.repo!r} is not a directory")
        repo_map = RepoMap.from_dir(root)
        name = root.resolve().name
        if (root / CONFIG_PATH).is_file():
            config_text = (root / CONFIG_PATH).read_text(encoding="utf-8", errors="replace")
    settings = Settings.from_env()
    config, problems = load_repo_config(config_text, settings.policy)  # narrowed as in the app
    choice = llm_choice(config, settings)
    model = choice.model if choice else None
    title = args.title or (body.strip().splitlines() or ["Untitled issue"])[0].lstrip("# ")[:120]
    plan = make_plan(
        IssueText(name, args.number, title, body, args.label or []),
        repo_map,
        config,
        model=model,
        pricing=PricingTable(settings.llm_pricing_overrides),  # LLM_PRICING wins, as in the app
    )
    result = plan.as_json()
    config_problems = [p if CONFIG_PATH in p else f"{CONFIG_PATH}: {p}" for p in problems]
    result["problems"] = [*config_problems, *result["problems"]]
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    if plan.decomposition.message:
        print(plan.decomposition.message)
    total = result["estimate"]
    priced = "" if total["cost_usd"] is None else f" · ~${total['cost_usd']:.4f}"
    print(
        f"{len(result['tasks'])} task(s) · model {model or 'none configured'} · "
        f"~{total['input_tokens']:,} in / {total['output_tokens']:,} out tokens{priced}"
    )
    for t in result["tasks"]:
        deps = ", ".join(map(str, t["depends_on"])) or "-"
        est = t["estimate"]
        cost = "no model" if not model else "unknown price"
        if est["cost_usd"] is not None:
            cost = f"${est['cost_usd']:.4f}"
        print(f"{t['ordinal']}. [{t['type']}] {t['title']}  (depends on: {deps})")
        print(
            f"   template {t['template']['id']} v{t['template']['version']} · "
            f"~{est['input_tokens']:,} in / {est['output_tokens']:,} out tokens · {cost}"
        )
        for path in t["files"][:8]:
            print(f"   - {path}")
    for reason in result["reasons"]:
        print(f"why: {reason}")
    for problem in result["problems"]:
        print(f"note: {problem}")
    return 0


def cmd_apply(args: argparse.Namespace) -> int:
    from bot.cli.apply import cli_apply
    from bot.settings import CONFIG_PATH, Settings, load_repo_config

    # The checkout's own .github/issuewright.yml under the operator's policy, so `apply`
    # refuses what the app would (the server's protected paths included).
    config_file = Path(args.repo) / CONFIG_PATH
    text = config_file.read_text(errors="replace") if config_file.is_file() else None
    config, _ = load_repo_config(text, Settings.from_env().policy)
    return cli_apply(
        Path(args.repo),
        args.answer,
        args.dry_run,
        args.json,
        denied_paths=config.denied_paths,
        max_file_bytes=config.max_file_bytes,
    )


def cmd_context_rank(args: argparse.Namespace) -> int:
    from bot.cli.context_rank import cli_context_rank

    return cli_context_rank(Path(args.repo), args.query_file, args.budget, args.json)


def cmd_prompts_check(args: argparse.Namespace) -> int:
    from bot.cli.prompts_check import cli_prompts_check

    return cli_prompts_check(Path(args.overrides) if args.overrides else None)


def cmd_stats(args: argparse.Namespace) -> int:
    from bot.ops.stats import cli_stats
    from bot.settings import Settings

    return cli_stats(Settings.from_env(), args.since, args.json)


def cmd_cleanup(args: argparse.Namespace) -> int:
    from bot.ops.cleanup import cli_cleanup
    from bot.settings import Settings

    return cli_cleanup(Settings.from_env(), args.older_than, args.dry_run)


def register_tools(sub: Any) -> None:
    as_json = "print JSON instead of text"
    p = sub.add_parser("plan", help="show how an issue would be split and prompted (no LLM call)")
    p.add_argument(
        "--issue-file", metavar="FILE", required=True, help="the issue body (- for standard input)"
    )
    p.add_argument(
        "--title", metavar="TEXT", help="the issue title (default: the body's first line)"
    )
    p.add_argument("--label", metavar="NAME", action="append", help="an issue label (repeatable)")
    p.add_argument("--repo", metavar="DIR", help="a local checkout to pick files from")
    p.add_argument(
        "--number",
        metavar="N",
        type=int,
        default=1,
        help="the issue number task keys are made of (1)",
    )
    p.add_argument("--json", action="store_true", help=as_json)
    p.set_defaults(func=cmd_plan)

    p = sub.add_parser("apply", help="check (and apply) a model answer against a local checkout")
    p.add_argument("--repo", metavar="DIR", required=True, help="the checkout to write into")
    p.add_argument(
        "--answer", metavar="FILE", required=True, help="the answer file (- for standard input)"
    )
    p.add_argument("--dry-run", action="store_true", help="check only; write nothing")
    p.add_argument("--json", action="store_true", help=as_json)
    p.set_defaults(func=cmd_apply)

    ctx = sub.add_parser("context", help="context selection").add_subparsers(
        dest="context_command", metavar="ACTION"
    )
    ctx.required = True
    p = ctx.add_parser("rank", help="rank a checkout's files for a query and show what is packed")
    p.add_argument(
        "--repo", metavar="DIR", required=True, help="the checkout whose files are ranked"
    )
    p.add_argument(
        "--query-file", metavar="FILE", required=True, help="the query, e.g. an issue body"
    )
    p.add_argument(
        "--budget", metavar="TOKENS", type=int, default=16000, help="tokens to pack (16000)"
    )
    p.add_argument("--json", action="store_true", help=as_json)
    p.set_defaults(func=cmd_context_rank)

    prompts = sub.add_parser("prompts", help="prompt templates").add_subparsers(
        dest="prompts_command", metavar="ACTION"
    )
    prompts.required = True
    p = prompts.add_parser("check", help="render every template with sample data")
    p.add_argument(
        "--overrides", metavar="DIR", help="a folder of repository overrides to check too"
    )
    p.set_defaults(func=cmd_prompts_check)

    p = sub.add_parser("stats", help="tasks, merge rate, CI-fix rate, time to PR, spend")
    p.add_argument(
        "--since",
        metavar="DURATION",
        help="only the last DURATION, e.g. 7d, 12h (default: all time)",
    )
    p.add_argument("--json", action="store_true", help=as_json)
    p.set_defaults(func=cmd_stats)

    p = sub.add_parser(
        "cleanup", help="remove finished deliveries, jobs and worktrees past retention"
    )
    p.add_argument(
        "--older-than",
        metavar="DURATION",
        default="30d",
        help="remove what finished before DURATION ago (30d)",
    )
    p.add_argument("--dry-run", action="store_true", help="count only; remove nothing")
    p.set_defaults(func=cmd_cleanup)
