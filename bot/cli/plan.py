"""`issuewright plan`: how the app would split, prompt and price an issue, with no GitHub and
no database, and no LLM call unless `--llm` asks the model to group the items (`llm_plan`);
with `--repo`, the plan of that checkout (its config, overrides and files)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from bot.cli.checkout import load_checkout
from bot.cli.output import print_json
from bot.cli.plan_llm import preview_grouping
from bot.cli.progress import progress
from bot.cli.table import Column, print_table

FILES_SHOWN = 3


def cli_plan(args: argparse.Namespace, body: str) -> int:
    from bot.plan.issue_plan import RepoContent, plan_issue
    from bot.plan.planner import IssueText
    from bot.settings import CONFIG_PATH, Settings, load_repo_config

    settings = Settings.from_env()
    checkout = None
    if args.repo:
        checkout = load_checkout(
            Path(args.repo), worktree=args.worktree, cache_dir=settings.cache_dir
        )
    name = args.name or (checkout.name if checkout else "local/repo")
    # What the app reads at the commit work starts from: the configuration (narrowed to
    # the operator's policy), the code map and the prompt overrides of the tree read.
    config_text = checkout.text(CONFIG_PATH) if checkout else None
    config, problems = load_repo_config(config_text, settings.policy)
    content = RepoContent(
        config,
        problems,
        checkout.repo_map if checkout else None,
        checkout.overrides if checkout else {},
    )
    title = args.title or (body.strip().splitlines() or ["Untitled issue"])[0].lstrip("# ")[:120]
    issue = IssueText(name, args.number, title, body, args.label or [])
    grouping, call = preview_grouping(settings, config, issue, ask=args.llm)
    with progress("splitting the issue and choosing files for each task…"):
        planned = plan_issue(issue, content, settings, grouping)
    result = planned.as_json()
    result["repository"] = checkout.as_json() if checkout else None
    if call is not None:
        result["llm_call"] = call  # what --llm spent (the app counts its own)
    if args.json:
        print_json(result)
        return 0
    show_plan(result, planned.model, checkout.describe() if checkout else None)
    if call is not None:
        print(
            f"llm: asked {call['model']} to group the items: {call['input_tokens']:,} in / "
            f"{call['output_tokens']:,} out tokens, ${call['cost_usd']:.4f}"
        )
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
    limits = result["limits"]
    print(
        f"limits: {limits['max_tasks_per_issue']} tasks per issue · "
        f"{limits['max_files_per_task']} files per task · context "
        f"{limits['context_budget_tokens']:,} tokens · answer ≤ "
        f"{limits['max_output_tokens']:,} tokens · ${limits['task_budget_usd']:.2f} per task"
    )
    for problem in result["problems"]:
        print(f"note: {problem}")
