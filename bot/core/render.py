"""What people see: the issue's status comment and the PR body. Pure functions of plain data.

Titles, bodies, summaries, paths, errors and notes are third-party text (the issue's author,
the model, or a message quoting them): every one goes through `neutralize` where it is
placed, so the App never publishes a live mention, reference, closing keyword, image or HTML
it did not write itself. Error text also loses its URLs (the log keeps them). The App's own
parts (markers, `Closes #N`, links to its PRs) are written as they are.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from bot.core.commands import render_retry_checkbox
from bot.core.failure_notice import FailureNotice
from bot.core.progress import progress_text
from bot.core.publish import neutralize, neutralize_line, without_urls

STATUS_MARKER = "<!-- issuewright:status -->"
PR_MARKER_PREFIX = "<!-- issuewright:pr "

STATE_LABELS = {
    "planned": "📝 planned",
    "queued": "⏳ queued",
    "blocked": "⛓️ waiting for a dependency",
    "generating": "⚙️ generating",
    "pr_open": "🔀 PR open",
    "checks_running": "🔄 checks running",
    "checks_passed": "✅ checks passed",
    "checks_failed": "❌ checks failed",
    "fixing": "🛠️ fixing",
    "merged": "🎉 merged",
    "cancelled": "🚫 cancelled",
    "failed": "💥 failed",
    "closed": "📕 closed",
    "budget_exceeded": "💸 budget exceeded",
}
RETRYABLE = {"failed", "cancelled", "closed", "budget_exceeded"}
LIVE_STATES = {"generating", "fixing"}  # an attempt runs: its row shows the tokens so far
MAX_CRITERIA_SHOWN = 30


@dataclass(frozen=True)
class TaskView:
    ordinal: int
    title: str
    task_type: str
    state: str
    depends_on: Sequence[int] = ()
    pr_url: str | None = None
    pr_number: int | None = None
    checks: str | None = None
    attempts: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    last_error: str | None = None
    files: Sequence[str] = ()
    template: str | None = None
    estimate_tokens: tuple[int, int] | None = None
    estimate_cost: float | None = None
    note: str | None = None
    notice: FailureNotice | None = None  # core.failure_notice: shown once, below the table
    streamed_tokens: int | None = None  # while the model answers: tokens so far …
    elapsed_seconds: float | None = None  # … and for how long


@dataclass(frozen=True)
class StatusView:
    tasks: Sequence[TaskView]
    plan_only: bool = False
    plan_reason: str | None = None  # why nothing is generated (plan label, no LLM configured)
    notes: Sequence[str] = field(default_factory=tuple)  # config problems, throttles, …
    model: str | None = None
    message: str | None = None  # a headline such as "Split this issue: 14 tasks > 10"
    plan_notes: Sequence[str] = ()  # why the issue was split (or not), one line per decision


def _cell(text: str | None, limit: int = 120) -> str:
    """Third-party text for one table cell or list item: one line, cut, made inert."""
    if not text:
        return ""
    text = " ".join(text.split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return neutralize(text).replace("|", "\\|")


def _error(text: str | None, limit: int = 120) -> str:
    """An error or note: what failed and what to do, without the URLs it may quote."""
    return _cell(without_urls(text), limit) if text else ""


def money(value: float) -> str:
    return f"${value:.4f}" if 0 < value < 0.01 else f"${value:.2f}"


def render_status(view: StatusView) -> str:
    lines = [STATUS_MARKER, "### 🤖 Issuewright"]
    if view.message:
        lines += ["", neutralize(without_urls(view.message))]
    if view.plan_only:
        reason = neutralize(without_urls(view.plan_reason or ""))
        lines += ["", f"**Plan only** — nothing is generated. {reason}".rstrip()]
    if view.tasks:
        lines += ["", _plan_table(view) if view.plan_only else _progress_table(view)]
    if view.plan_only and view.plan_notes:
        lines += ["", "**Why this plan**", *[f"- {_cell(n, 300)}" for n in view.plan_notes]]
    shown = [t for t in view.tasks if not view.plan_only]
    if any(t.notice for t in shown):
        lines += ["", "**What to do next**", *[_notice_line(t) for t in shown if t.notice]]
    retry_lines = [
        render_retry_checkbox(t.ordinal) for t in shown if t.state in RETRYABLE and t.notice is None
    ]
    if retry_lines:
        lines += [
            "",
            "Tick a box to retry that task (same as `/issuewright retry task N`):",
            *retry_lines,
        ]
    # A task's failure is said once, in its notice: its older notes ("Task N: …") would repeat
    # it, perhaps with another instruction.
    failed = tuple(f"Task {t.ordinal}:" for t in shown if t.notice)
    notes = [n for n in view.notes if not str(n).startswith(failed)] if failed else view.notes
    if notes:
        lines += ["", "**Notes**", *[f"- {_error(n, 300)}" for n in notes]]
    total_cost = sum(t.cost_usd for t in view.tasks)
    total_tokens = sum(t.input_tokens + t.output_tokens for t in view.tasks)
    if total_tokens and not view.plan_only:
        lines += ["", f"Spent so far: {total_tokens:,} tokens, {money(total_cost)}."]
    lines += [
        "",
        "<sub>Commands: `/issuewright status` · `retry [task N]` · `cancel [task N]` · "
        "`plan` · `fix-ci` · `rollback` · `help`</sub>",
    ]
    return "\n".join(lines) + "\n"


def notice_markdown(notice: FailureNotice, limit: int = 600) -> str:
    """A failure notice as every surface publishes it: the reason (third-party text, made
    inert, without URLs), the action, and the attempt page's link (the App's own)."""
    reason = neutralize(without_urls(" ".join(notice.reason.split())[:limit]))
    text = f"{reason.rstrip('. ')}. {notice.action}"
    if notice.link:
        text += f" [See what was refused]({notice.link})."
    return text


def _notice_line(task: TaskView) -> str:
    """The task's one failure line; a retry is offered as a box too (the same action)."""
    assert task.notice is not None
    text = f"**Task {task.ordinal}, {task.notice.headline}**: {notice_markdown(task.notice, 300)}"
    if task.notice.command == "retry":
        return render_retry_checkbox(task.ordinal, label=f"retry task {task.ordinal} — {text}")
    return f"- {text}"


def _deps(task: TaskView) -> str:
    return ", ".join(f"#{d}" for d in task.depends_on) or "—"


def _plan_table(view: StatusView) -> str:
    rows = [
        "| # | Task | Type | Depends on | Files | Template | Est. tokens (in/out) | Est. cost |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for t in view.tasks:
        files = "<br>".join(f"`{_cell(f, 80)}`" for f in t.files[:5]) or "—"
        if len(t.files) > 5:
            files += f"<br>… {len(t.files) - 5} more"
        est = f"{t.estimate_tokens[0]:,} / {t.estimate_tokens[1]:,}" if t.estimate_tokens else "—"
        cost = money(t.estimate_cost) if t.estimate_cost is not None else "—"
        rows.append(
            f"| {t.ordinal} | {_cell(t.title)} | {_cell(t.task_type)} | {_deps(t)} | {files} | "
            f"{_cell(t.template) or '—'} | {est} | {cost} |"
        )
    return "\n".join(rows)


def _progress_table(view: StatusView) -> str:
    rows = [
        "| # | Task | State | PR | Checks | Attempts | Tokens | Cost | Last error |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for t in view.tasks:
        pr = f"[#{t.pr_number}]({t.pr_url})" if t.pr_number and t.pr_url else "—"
        state = STATE_LABELS.get(t.state, t.state)
        if t.streamed_tokens is not None and t.state in LIVE_STATES:
            state += f" — {progress_text(t.streamed_tokens, t.elapsed_seconds or 0.0)}"
        if t.note:
            state += f" — {_cell(t.note, 80)}"
        tokens = (
            f"{t.input_tokens + t.output_tokens:,}" if t.input_tokens or t.output_tokens else "—"
        )
        cost = money(t.cost_usd) if t.cost_usd else "—"
        if t.notice is not None:
            error = f"{t.notice.headline}, see below"
        elif t.state in RETRYABLE | {"checks_failed", "fixing", "pr_open", "queued"}:
            error = _error(t.last_error)
        else:
            error = ""
        checks = _cell(t.checks) or "—"
        rows.append(
            f"| {t.ordinal} | {_cell(t.title)} | {state} | {pr} | {checks} | {t.attempts} | "
            f"{tokens} | {cost} | {error or '—'} |"
        )
    return "\n".join(rows)


@dataclass(frozen=True)
class PullRequestView:
    task_title: str
    task_body: str
    issue_number: int
    summary: str
    files: Sequence[tuple[str, int, int]]  # path, lines added, lines removed (from the diff)
    input_tokens: int
    output_tokens: int
    cost_usd: float
    model: str
    template_id: str
    template_version: int
    task_key: str
    closes_issue: bool
    criteria: Sequence[str] = ()  # the issue's acceptance criteria, for the reviewer


def render_pr_body(view: PullRequestView) -> str:
    lines = [
        f"Task from #{view.issue_number}: **{_cell(view.task_title, 200)}**",
        "",
    ]
    if view.task_body.strip() and view.task_body.strip() != view.task_title.strip():
        lines += [
            "<details><summary>Task</summary>",
            "",
            neutralize(view.task_body.strip()[:4000]),
            "",
            "</details>",
            "",
        ]
    if view.criteria:
        lines += ["### Acceptance criteria", "", "From the issue; check each before merging:", ""]
        lines += [f"- [ ] {_cell(c, 300)}" for c in view.criteria[:MAX_CRITERIA_SHOWN]]
        lines += [""]
    if view.summary.strip():
        lines += ["### Summary (from the model)", "", neutralize(view.summary.strip()[:4000]), ""]
    lines += ["### Files changed", "", "| File | + | − |", "|---|---|---|"]
    lines += [
        f"| `{_cell(path, 300)}` | {added} | {removed} |" for path, added, removed in view.files
    ]
    lines += [
        "",
        f"Model `{_cell(view.model)}` · {view.input_tokens:,} in / {view.output_tokens:,} out "
        f"tokens · {money(view.cost_usd)} · template `{_cell(view.template_id)}` "
        f"v{view.template_version}",
    ]
    if view.closes_issue:
        lines += ["", f"Closes #{view.issue_number}"]
    lines += ["", f"{PR_MARKER_PREFIX}task={view.task_key} -->"]
    return "\n".join(lines) + "\n"


def render_commit_message(title: str, ordinal: int, issue_number: int) -> str:
    """The subject is the task's title made inert: a commit reaching the default branch would
    otherwise close (`Fixes #2`) or reference whatever the issue's author named."""
    subject = neutralize_line(title, 200)
    return f"{subject}\n\nIssuewright task {ordinal} of #{issue_number}."
