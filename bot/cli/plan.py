"""`issuewright plan`: how an issue would be split, prompted and priced, with no LLM call, no
GitHub and no database; with `--repo`, the files each task would be shown."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from bot.cli.checkout import load_checkout
from bot.cli.output import print_json
from bot.cli.progress import progress
from bot.cli.table import Column, print_table

FILES_SHOWN = 3


def cli_plan(args: argparse.Namespace, body: str) -> int:
    from bot.llm.pricing import PricingTable
    from bot.plan.planner import IssueText, make_plan
    from bot.repo.config import llm_choice
    from bot.settings import CONFIG_PATH, Settings, load_repo_config

    settings = Settings.from_env()
    checkout = None
    if args.repo:
        checkout = load_checkout(
            Path(args.repo), worktree=args.worktree, cache_dir=settings.cache_dir
        )
    repo_map = checkout.repo_map if checkout else None
    name = checkout.name if checkout else "local/repo"
    # The configuration of the tree that was read, as the app reads it with the code.
    config_text = checkout.text(CONFIG_PATH) if checkout else None
    config, problems = load_repo_config(config_text, settings.policy)  # narrowed as in the app
    choice = llm_choice(config, settings)
    model = choice.model if choice else None
    title = args.title or (body.strip().splitlines() or ["Untitled issue"])[0].lstrip("# ")[:120]
    with progress("splitting the issue and choosing files for each task…"):
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
    result["repository"] = checkout.as_json() if checkout else None
    if args.json:
        print_json(result)
        return 0
    show_plan(result, model, checkout.describe() if checkout else None)
    return 0


def show_plan(result: dict[str, Any], model: str | None, read: str | None) -> None:
    if result["message"]:
        print(result["message"])
    total = result["estimate"]
    priced = "" if total["cost_usd"] is None else f" · ~${total['cost_usd']:.4f}"
    print(
        f"{len(result['tasks'])} task(s) · model {model or 'none configured'} · "
        f"~{total['input_tokens']:,} in / {total['output_tokens']:,} out tokens{priced}"
    )
    rows = []
    for t in result["tasks"]:
        est = t["estimate"]
        cost = "no model" if not model else "unknown price"
        if est["cost_usd"] is not None:
            cost = f"${est['cost_usd']:.4f}"
        files = ", ".join(t["files"][:FILES_SHOWN])
        if len(t["files"]) > FILES_SHOWN:
            files += f" (+{len(t['files']) - FILES_SHOWN} more)"
        rows.append(
            (
                t["ordinal"],
                t["type"],
                t["title"],
                ", ".join(map(str, t["depends_on"])) or None,
                f"{t['template']['id']} v{t['template']['version']}",
                f"{est['input_tokens']:,}",
                f"{est['output_tokens']:,}",
                cost,
                files or None,
            )
        )
    print_table(
        [
            Column("#", right=True),
            "type",
            "title",
            "depends on",
            "template",
            Column("tokens in", right=True),
            Column("tokens out", right=True),
            Column("cost", right=True),
            "files",
        ],
        rows,
    )
    if read:
        print(f"files: {read}")
    for reason in result["reasons"]:
        print(f"why: {reason}")
    for problem in result["problems"]:
        print(f"note: {problem}")
