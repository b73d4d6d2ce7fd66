"""The record of one `issuewright run`: its folder `.issuewright/runs/<id>/` under the
checkout (kept out of git by `.git/info/exclude`), what every attempt sent and got back, and
the report (`report.json`, `report.md`) that `--json` prints and `--resume` reads. Each
attempt's folder keeps the app's attempt record in the same shape (bot/cli/attempt_files.py).
"""

from __future__ import annotations

import json
import re
import secrets
import subprocess
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.cli.attempt_files import update_record
from bot.cli.output import CliError

RUNS = Path(".issuewright") / "runs"
EXCLUDE_LINE = "/.issuewright/"
RUN_ID = re.compile(r"^[0-9]{8}-[0-9]{6}-[0-9a-f]{4}$")


@dataclass
class TaskRecord:
    key: str
    title: str
    ordinal: int
    state: str = "pending"  # pending | done | failed | skipped
    branch: str | None = None
    commit: str | None = None
    files: list[str] = field(default_factory=list)
    tokens: dict[str, int] = field(default_factory=lambda: {"input": 0, "output": 0})
    cost_usd: float = 0.0
    error: str | None = None
    seconds: float = 0.0
    stat: str = ""  # `git show --stat` of its commit
    stage: str = ""  # what a running task is doing (the live display)

    def as_json(self) -> dict[str, Any]:
        keys = ("key", "title", "state", "branch", "commit", "files", "tokens", "cost_usd")
        doc = {k: getattr(self, k) for k in keys}
        doc["cost_usd"] = round(self.cost_usd, 6)
        doc["error"] = self.error
        return doc


@dataclass
class RunRecord:
    run_id: str
    folder: Path
    repo: Path
    issue_title: str
    model: str | None
    tasks: list[TaskRecord]
    issue: dict[str, Any] = field(default_factory=dict)  # title, body, labels: for --resume
    stopped: str | None = None  # why the run stopped early (the budget)
    planning_usd: float = 0.0  # `llm_plan`'s call
    # The operator's secret values, scrubbed from every file of the run folder.
    secrets: list[str] = field(default_factory=list, repr=False)

    @property
    def cost_usd(self) -> float:
        return self.planning_usd + sum(t.cost_usd for t in self.tasks)

    def as_json(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "tasks": [t.as_json() for t in self.tasks],
            "cost_usd": round(self.cost_usd, 6),
        }

    def save(self) -> None:
        for folder in sorted(self.folder.glob("task-*/attempt-*")):
            update_record(folder, self.secrets)
        doc = {
            **self.as_json(),
            "issue_title": self.issue_title,
            "model": self.model,
            "stopped": self.stopped,
            "planning_usd": self.planning_usd,
            "issue": self.issue,
            "detail": [asdict(t) for t in self.tasks],
        }
        _write(self.folder / "report.json", json.dumps(doc, indent=2) + "\n")
        _write(self.folder / "report.md", render_report(self))


def new_run(
    repo: Path, issue: dict[str, Any], model: str | None, tasks: list[TaskRecord]
) -> RunRecord:
    run_id = f"{datetime.now(UTC):%Y%m%d-%H%M%S}-{secrets.token_hex(2)}"
    folder = repo / RUNS / run_id
    folder.mkdir(parents=True)
    exclude_runs(repo)
    return RunRecord(run_id, folder, repo, issue["title"], model, tasks, issue)


def load_run(repo: Path, run_id: str) -> RunRecord:
    """A run to resume; an unknown id is the user's to fix."""
    folder = repo / RUNS / run_id
    if not RUN_ID.match(run_id) or not (folder / "report.json").is_file():
        raise CliError(
            f"there is no run {run_id!r} in {repo / RUNS}: pass the id a run printed (`ls {RUNS}`)"
        )
    doc = json.loads((folder / "report.json").read_text())
    fields = TaskRecord.__dataclass_fields__
    tasks = [TaskRecord(**{k: v for k, v in t.items() if k in fields}) for t in doc["detail"]]
    issue = doc.get("issue") or {}
    run = RunRecord(run_id, folder, repo, doc["issue_title"], doc.get("model"), tasks, issue)
    run.planning_usd = float(doc.get("planning_usd") or 0.0)
    return run


def exclude_runs(repo: Path) -> None:
    """Keep the run folders out of `git status` without touching any tracked file."""
    common = subprocess.run(
        ["git", "rev-parse", "--git-common-dir"], cwd=repo, capture_output=True, text=True
    ).stdout.strip()
    info = (repo / common / "info") if common else repo / ".git" / "info"
    info.mkdir(parents=True, exist_ok=True)
    exclude = info / "exclude"
    lines = exclude.read_text().splitlines() if exclude.is_file() else []
    if EXCLUDE_LINE not in lines:
        with exclude.open("a") as handle:
            prefix = "\n" if lines and not exclude.read_text().endswith("\n") else ""
            handle.write(f"{prefix}{EXCLUDE_LINE}\n")


def attempt_folder(run: RunRecord, task: TaskRecord) -> Path:
    base = run.folder / f"task-{task.ordinal}"
    n = 1
    while (base / f"attempt-{n}").exists():
        n += 1
    folder = base / f"attempt-{n}"
    folder.mkdir(parents=True)
    return folder


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def render_report(run: RunRecord) -> str:
    done = sum(t.state == "done" for t in run.tasks)
    lines = [
        f"# Issuewright run {run.run_id}",
        "",
        f"Issue: {run.issue_title}  ",
        f"Model: {run.model or 'none'}  ",
        f"Tasks done: {done} of {len(run.tasks)} · cost ${run.cost_usd:.4f}",
        "",
    ]
    if run.stopped:
        lines += [f"**Stopped:** {run.stopped}", ""]
    for t in run.tasks:
        tokens = f"{t.tokens['input']:,} in / {t.tokens['output']:,} out"
        lines += [
            f"## Task {t.ordinal}: {t.title}",
            "",
            f"- state: {t.state}",
            f"- branch: {t.branch or '—'}",
            f"- commit: {t.commit or '—'}",
            f"- tokens: {tokens} · cost ${t.cost_usd:.4f} · {t.seconds:.1f}s",
        ]
        if t.error:
            lines.append(f"- error: {t.error}")
        if t.stat:
            lines += ["", "```", t.stat.strip(), "```"]
        if t.state == "done" and t.branch:
            lines += [
                "",
                f"Next: `git switch {t.branch}` to look, `git push -u origin {t.branch}`, "
                f"then `gh pr create --head {t.branch}`.",
            ]
        lines.append("")
    if any(t.state != "done" for t in run.tasks):
        lines.append(f"Resume with `issuewright run --resume {run.run_id}`.")
    return "\n".join(lines) + "\n"
