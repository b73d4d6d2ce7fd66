"""`issuewright run`: an issue or spec file taken through the app's pipeline on a local
checkout. The plan is `issuewright plan`'s (bot/plan/issue_plan.py, shared with the app);
the tasks run in bot/cli/run_local.py; the record is bot/cli/run_record.py's."""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.cli.output import CliError, print_json
from bot.cli.plan import show_plan
from bot.cli.run_input import IssueInput, LocalRepo, open_checkout, parse_issue, read_issue
from bot.cli.run_record import RunRecord, TaskRecord, load_run, new_run

if TYPE_CHECKING:
    from bot.cli.run_plan import RunPlan
    from bot.core.policy import LLMChoice
    from bot.git.worktrees import GitIdentity
    from bot.settings import Settings


def cli_run(args: argparse.Namespace) -> int:
    from bot.cli.run_plan import ask_model, plan_run
    from bot.llm.pricing import PricingTable
    from bot.settings import Settings

    settings = Settings.from_env()
    args.warn_usd = settings.run_warn_usd if args.warn_usd is None else args.warn_usd
    args.max_usd = settings.run_max_usd if args.max_usd is None else args.max_usd
    for name in ("warn_usd", "max_usd"):
        if getattr(args, name) < 0:
            raise CliError(f"--{name.replace('_', '-')} must be 0 or more")
    if args.parallel < 1:
        raise CliError("--parallel must be 1 or more")
    repo = open_checkout(Path(args.repo or "."))
    previous: RunRecord | None = None
    if args.resume:
        previous = load_run(repo.root, args.resume)
        issue = parse_issue(previous.issue.get("body") or "", previous.issue.get("title"))
        issue = IssueInput(issue.title, issue.body, tuple(previous.issue.get("labels") or ()))
    elif not args.issue_file:
        raise CliError("--issue-file FILE is needed (or --resume RUN_ID)")
    else:
        issue = read_issue(args.issue_file, args.title)
    run = plan_run(settings, repo, issue, previous.issue if previous else None)
    choice = run.planned.choice
    if choice is None and not (args.dry_run or args.show_prompt):
        raise CliError(
            "no LLM is configured: set LLM_BASE_URL and LLM_MODEL (and LLM_API_KEY if the "
            "endpoint needs one), in the environment or .env"
        )
    result = run.planned.as_json()
    if not args.json:
        show_plan(result, run.planned.model, run.checkout.describe())
    if args.show_prompt:
        show_prompts(run.planned.plan.tasks)
        return 0
    if args.dry_run:
        if args.json:
            print_json({**result, "repository": run.checkout.as_json()})
        return 0
    assert choice is not None
    if not run.planned.plan.tasks:
        raise CliError("the plan has no task to run (see the plan above)")
    identity = user_identity(repo)
    if not PricingTable(settings.llm_pricing_overrides).price(choice.model).known:
        # The app refuses such a model; here the user is at the keyboard and told plainly.
        print(
            f"warning: the model {choice.model!r} has no price, so its calls count as $0 and "
            f"--max-usd cannot limit them; set LLM_PRICING={choice.model}:USD_PER_MTOK_IN:"
            "USD_PER_MTOK_OUT (`0:0` for a free local model)",
            file=sys.stderr,
        )
    if not args.yes and sys.stdin.isatty():
        what = "Plan with" if run.ask else f"Run {len(run.planned.plan.tasks)} task(s) with"
        answer = input(f"{what} {choice.model}? [y/N] ")
        if answer.strip().lower() not in {"y", "yes"}:
            print("nothing was run")
            return 1
    if run.ask is not None:
        spent = previous.cost_usd if previous else 0.0
        run = ask_model(run, settings, choice, spent, args.max_usd)
        if not args.json:
            show_plan(run.planned.as_json(), run.planned.model, run.checkout.describe())
        if not run.planned.plan.tasks:
            raise CliError("the plan has no task to run (see the plan above)")
    return execute(args, repo, issue, run, settings, choice, identity, previous)


def execute(
    args: argparse.Namespace,
    repo: LocalRepo,
    issue: IssueInput,
    run: RunPlan,
    settings: Settings,
    choice: LLMChoice,
    identity: GitIdentity,
    previous: RunRecord | None,
) -> int:
    from bot.cli.run_local import Budget, LocalRun, run_tasks, say_stderr
    from bot.cli.run_progress import live_display

    plans = {tp.task.key: tp for tp in run.planned.plan.tasks}
    if previous is not None:
        record = previous
        known = {t.key for t in record.tasks}
        if known != set(plans):
            raise CliError(
                f"the plan of run {record.run_id} no longer matches the checkout's; start a new run"
            )
        record.stopped = None
    else:
        tasks = [TaskRecord(tp.task.key, tp.task.title, tp.task.ordinal) for tp in plans.values()]
        about = {"title": issue.title, "body": issue.body, "labels": list(issue.labels)}
        about["head"] = run.base  # planned from and branched off, on a resume too
        record = new_run(repo.root, about, choice.model, tasks)
    if run.grouping is not None:
        record.issue["grouping"] = run.grouping
    record.planning_usd += run.cost_usd
    record.secrets = settings.secrets()
    record.save()
    say = say_stderr if args.json else print
    say(f"run {record.run_id}: record in {record.folder}")
    budget = Budget(args.warn_usd, args.max_usd, spent=record.cost_usd)
    try:
        with live_display(record, say) as display:
            local = LocalRun(repo, settings, run.config, choice, identity, issue.slug, say, display)
            asyncio.run(run_tasks(local, record, plans, budget, args.parallel))
    finally:
        record.stopped = budget.stopped
        record.save()
        if args.report:
            Path(args.report).write_text((record.folder / "report.md").read_text())
    if budget.endpoint and not any(t.state == "done" for t in record.tasks):
        raise CliError(budget.endpoint)  # nothing could be done: the configuration's fault
    if args.json:
        print_json(record.as_json())
    else:
        for t in record.tasks:
            where = f" {t.branch} {t.commit[:12]}" if t.commit and t.branch else ""
            why = f": {t.error}" if t.error else ""
            print(f"task {t.ordinal} {t.state}{where} (${t.cost_usd:.4f}){why}")
        print(f"spent ${record.cost_usd:.4f}; report: {record.folder / 'report.md'}")
    return 0 if all(t.state == "done" for t in record.tasks) else 1


def show_prompts(tasks: Any) -> None:
    from bot.attempt.edit_rounds import attempt_messages

    for tp in tasks:
        print(f"\n=== task {tp.task.ordinal}: {tp.task.title} ===")
        for message in attempt_messages(tp.system.text, tp.prompt.text):
            print(f"--- {message.role} ---")
            print(message.content)


def user_identity(repo: LocalRepo) -> GitIdentity:
    """The commits' author: the user's own git identity, as their commits have it."""
    from bot.git.worktrees import GitIdentity

    def value(key: str) -> str:
        proc = subprocess.run(["git", "config", key], cwd=repo.root, capture_output=True, text=True)
        return proc.stdout.strip()

    name, email = value("user.name"), value("user.email")
    if not name or not email:
        raise CliError(
            "git does not know who you are: set `git config user.name` and "
            "`git config user.email` (the task commits are authored as you)"
        )
    return GitIdentity(name, email)


def register_run(sub: Any) -> None:
    from bot.cli.output import AS_JSON

    p = sub.add_parser(
        "run", help="take an issue through the app's pipeline on a local checkout (branches)"
    )
    p.add_argument(
        "--issue-file",
        metavar="FILE",
        help="a Markdown issue, or a spec with YAML front matter (title, labels, tasks); "
        "- for standard input",
    )
    p.add_argument("--title", metavar="TEXT", help="the title (default: the first heading or line)")
    p.add_argument("--repo", metavar="DIR", help="the git checkout (default: the current folder)")
    p.add_argument("--yes", action="store_true", help="do not ask before the first call")
    p.add_argument("--dry-run", action="store_true", help="show the plan; call and write nothing")
    p.add_argument(
        "--show-prompt", action="store_true", help="print each task's rendered prompt and stop"
    )
    p.add_argument("--parallel", metavar="N", type=int, default=1, help="tasks at once (1)")
    p.add_argument(
        "--warn-usd", metavar="X", type=float, help="say so once past X USD (RUN_WARN_USD, 10)"
    )
    p.add_argument(
        "--max-usd",
        metavar="Y",
        type=float,
        help="never send a call that would take the run past Y USD (RUN_MAX_USD, 50)",
    )
    p.add_argument("--resume", metavar="RUN_ID", help="retry the tasks a run left undone")
    p.add_argument("--report", metavar="FILE", help="also write report.md to FILE")
    p.add_argument("--json", action="store_true", help=AS_JSON)
    p.set_defaults(func=cli_run)
