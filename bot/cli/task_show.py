"""`issuewright task show KEY`: one task (or every task of an issue) with its transitions, its
attempts and what became of each, and with --prompt, --answer and --diff the texts each
attempt's record kept."""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from typing import Any

from bot.cli.inspect import run_on_database
from bot.cli.output import CliError, print_json, utc
from bot.cli.stored_answer import EDIT_KINDS
from bot.cli.table import Column, print_table
from bot.cli.task_rows import TaskKey, task_dict


@dataclass
class Shown:
    task: Any
    transitions: list[Any] = field(default_factory=list)
    attempts: list[tuple[Any, Any]] = field(default_factory=list)  # (Attempt, record or None)


async def _load(sessions: Any, key: TaskKey) -> list[Shown]:
    from sqlalchemy import func, select

    from bot.store.models import Attempt, AttemptRecord, Task, Transition

    query = select(Task).where(
        func.lower(Task.repository) == key.repository.lower(), Task.issue_number == key.issue
    )
    if key.ordinal is not None:
        query = query.where(Task.ordinal == key.ordinal)
    async with sessions() as session:
        tasks = (await session.execute(query.order_by(Task.ordinal, Task.id))).scalars().all()
        shown = []
        for task in tasks:
            transitions = await session.execute(
                select(Transition).where(Transition.task_id == task.id).order_by(Transition.id)
            )
            attempts = await session.execute(
                select(Attempt, AttemptRecord)
                .outerjoin(AttemptRecord, AttemptRecord.attempt_id == Attempt.id)
                .where(Attempt.task_id == task.id)
                .order_by(Attempt.id)
            )
            shown.append(
                Shown(task, list(transitions.scalars()), [(a, r) for a, r in attempts.all()])
            )
        return shown


def show_tasks(key: TaskKey, args: argparse.Namespace) -> int:
    shown: list[Shown] = run_on_database(lambda sessions: _load(sessions, key))
    if not shown:
        where = f"`issuewright tasks --repo {key.repository}`"
        raise CliError(f"no task {key} is stored; {where} lists the stored ones")
    if args.json:
        print_json({"tasks": [_as_json(s, args) for s in shown]})
        return 0
    for i, one in enumerate(shown):
        if i:
            print()
        _print_task(one, args)
    return 0


def _as_json(one: Shown, args: argparse.Namespace) -> dict[str, Any]:
    doc = task_dict(one.task)
    doc["transitions"] = [
        {
            "at": t.at,
            "event": t.event,
            "from": t.from_state,
            "to": t.to_state,
            "applied": t.applied,
            "cause": t.cause,
            "reason": t.reason,
        }
        for t in one.transitions
    ]
    doc["attempts"] = [_attempt_json(a, r, args) for a, r in one.attempts]
    return doc


def _attempt_json(a: Any, r: Any, args: argparse.Namespace) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": a.id,
        "kind": a.kind,
        "provider": a.provider,
        "model": a.model,
        "template": f"{a.template_id} v{a.template_version}" if a.template_id else None,
        "outcome": a.outcome,
        "error": a.error,
        "input_tokens": a.input_tokens,
        "output_tokens": a.output_tokens,
        "cost_usd": round(a.cost_usd, 6),
        "started_at": a.started_at,
        "finished_at": a.finished_at,
        "record": None,
    }
    if r is not None:
        record: dict[str, Any] = {"outcome": r.outcome, "timings": r.timings}
        if args.prompt:
            record["system_prompt"], record["user_prompt"] = r.system_prompt, r.user_prompt
        if args.answer:
            record["answer"] = r.answer
        if args.diff:
            record["diff"] = r.diff
        item["record"] = record
    return item


def _print_task(one: Shown, args: argparse.Namespace) -> None:
    t = one.task
    print(f"{t.key}  {t.title}")
    facts = [f"state {t.state}", t.task_type]
    facts += [f"branch {t.branch}"] if t.branch else []
    facts += [f"PR #{t.pr_number}"] if t.pr_number else []
    facts += [f"checks {t.checks}"] if t.checks else []
    tokens = f"{t.input_tokens:,} in / {t.output_tokens:,} out"
    facts += [f"{t.attempts} attempt(s)", f"${t.cost_usd:.4f} ({tokens})"]
    print("  " + " · ".join(facts))
    if t.last_error:
        print(f"  last error: {t.last_error.strip()}")
    print()
    if not one.transitions:
        print("Transitions: none")
    else:
        _print_transitions(one)
    if not one.attempts:
        print("\nAttempts: none yet")
        return
    print()
    _print_attempts(one)
    for a, r in one.attempts:
        _print_texts(a, r, args)


def _print_transitions(one: Shown) -> None:
    print_table(
        ["at (UTC)", "event", "from", "to", "cause", "reason"],
        [
            (
                f"{utc(tr.at):%Y-%m-%d %H:%M:%S}",
                tr.event if tr.applied else f"{tr.event} (ignored)",
                tr.from_state,
                tr.to_state,
                tr.cause,
                tr.reason[:120] if tr.reason else None,
            )
            for tr in one.transitions
        ],
        title="Transitions",
    )


def _print_attempts(one: Shown) -> None:
    print_table(
        [
            Column("attempt", right=True),
            "kind",
            "model",
            "outcome",
            Column("tokens in/out", right=True),
            Column("cost USD", right=True),
            "started (UTC)",
            "what became of the answer",
        ],
        [
            (
                a.id,
                a.kind,
                a.model,
                a.outcome,
                f"{a.input_tokens:,}/{a.output_tokens:,}",
                f"{a.cost_usd:.4f}",
                f"{utc(a.started_at):%Y-%m-%d %H:%M:%S}",
                _became(a, r),
            )
            for a, r in one.attempts
        ],
        title="Attempts",
    )


def _became(a: Any, r: Any) -> str | None:
    outcome = (r.outcome if r is not None else None) or {}
    if outcome.get("applied"):
        rounds = len(outcome.get("rounds") or [])
        repaired = " after a repair round" if outcome.get("repaired") and rounds > 1 else ""
        return f"applied{repaired}: {', '.join(outcome.get('files') or [])}"
    if outcome.get("refused"):
        return "refused: " + "; ".join(outcome["refused"])[:200]
    if "picked" in outcome:
        return "picked: " + (", ".join(outcome["picked"]) or "none")
    if a.error:
        return a.error.strip().splitlines()[0][:200]
    return None


def _print_texts(a: Any, r: Any, args: argparse.Namespace) -> None:
    wanted = [
        ("prompt", args.prompt, _prompt_text(r) if r is not None else None),
        ("answer", args.answer, r.answer if r is not None else None),
        # A localize or plan call writes nothing: it has no diff to miss.
        ("diff", args.diff and a.kind in EDIT_KINDS, r.diff if r is not None else None),
    ]
    for name, asked, text in wanted:
        if not asked:
            continue
        print(f"\n──── attempt {a.id} ({a.kind}): {name} ────")
        if not text:
            print(f"(no {name} stored for this attempt)")
        elif name == "diff":
            from bot.cli.apply import print_diff

            print_diff(text if text.endswith("\n") else text + "\n")
        else:
            sys.stdout.write(text if text.endswith("\n") else text + "\n")


def _prompt_text(r: Any) -> str | None:
    if not r.system_prompt and not r.user_prompt:
        return None
    return f"## system\n\n{r.system_prompt or ''}\n\n## user\n\n{r.user_prompt or ''}"
