"""What the dashboard tests share: a simulated GitHub with one organisation and three people
(a maintainer who can push to `calc` only, a reader, an operator), the app's rows for it
(written as the pipeline would: a failed task with its attempt record, a dead job per
repository), and logging in through the simulator's OAuth web flow."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from bot.core.edits import EditProblem
from bot.core.repair import refusal_message
from bot.store.attempt_records import save_record
from bot.store.db import SessionFactory
from bot.store.models import (
    Attempt,
    Delivery,
    Installation,
    IssueRun,
    Job,
    Repository,
    Task,
    utcnow,
)
from tests.ghsim.simulator import GitHubSimulator

ORG = "octo-org"
VISIBLE = f"{ORG}/calc"
HIDDEN = f"{ORG}/secret"
MAINTAINER = "octocat"  # writes to calc; nothing on secret
READER = "mallory"  # reads calc, writes nothing
OPERATOR = "ops-person"  # in ADMIN_LOGINS
ANSWER = "I will not edit calc/ops.py: the SEARCH block does not match the file."
REFUSAL = "calc/ops.py: the SEARCH block matches no line of the file"
HIDDEN_TITLE = "Rotate the deploy key"
LIVE_TOKENS = 1834


@dataclass
class Seeded:
    installation_id: int
    calc_id: int
    secret_id: int
    visible_run: int
    hidden_run: int
    attempt_id: int
    visible_job: int
    hidden_job: int
    live_run: int


def github_people(sim: GitHubSimulator) -> None:
    sim.create_repo(ORG, "calc", {"README.md": "# calc\n"})
    sim.create_repo(ORG, "secret", {"README.md": "# secret\n"}, private=True)
    sim.set_permission(VISIBLE, MAINTAINER, "write")
    sim.set_permission(VISIBLE, READER, "read")
    sim.set_permission(VISIBLE, OPERATOR, "read")
    sim.set_permission(HIDDEN, READER, "read")


async def seed(sessions: SessionFactory, sim: GitHubSimulator) -> Seeded:
    """The rows the app would hold after a week: a failed task on calc with its attempt's
    record, a task on secret, a dead job of each."""
    calc, secret = sim.repo(VISIBLE), sim.repo(HIDDEN)
    inst = next(iter(sim.state.installations.values()))
    now = utcnow()
    async with sessions() as session, session.begin():
        session.add(Installation(id=inst.id, account_login=ORG, account_type="Organization"))
        await session.flush()
        session.add(Repository(id=calc.id, installation_id=inst.id, full_name=VISIBLE))
        session.add(
            Repository(id=secret.id, installation_id=inst.id, full_name=HIDDEN, private=True)
        )
        runs, tasks = [], []
        for repo, number, title in ((calc, 7, "Fix add"), (secret, 3, HIDDEN_TITLE)):
            run = IssueRun(
                repository=repo.full_name,
                repository_id=repo.id,
                issue_number=number,
                installation_id=inst.id,
                title=title,
            )
            session.add(run)
            await session.flush()
            task = Task(
                key=f"{repo.full_name}#{number}/1",
                run_id=run.id,
                repository=repo.full_name,
                repository_id=repo.id,
                issue_number=number,
                ordinal=1,
                title=title,
                task_type="bugfix",
                state="failed",
                attempts=1,
                cost_usd=0.0123,
                # As the app stores it (core.repair.refusal_message).
                last_error=refusal_message(
                    [EditProblem("calc.py", "SEARCH text not found in the file")]
                ),
            )
            session.add(task)
            await session.flush()
            runs.append(run.id)
            tasks.append(task)
        attempt = Attempt(
            task_id=tasks[0].id,
            installation_id=inst.id,
            kind="generate",
            provider="openai",
            model="gpt-4o-mini",
            input_tokens=1200,
            output_tokens=80,
            cost_usd=0.0123,
            outcome="refused",
            started_at=now - timedelta(minutes=3),
            finished_at=now - timedelta(minutes=2),
        )
        session.add(attempt)
        await session.flush()
        await save_record(
            session,
            attempt.id,
            system_prompt="You edit code with SEARCH/REPLACE blocks.",
            user_prompt="Fix `add` in calc/ops.py.",
            answer=ANSWER,
            outcome={"applied": False, "refused": [REFUSAL]},
            timings={"llm_s": 4.2},
        )
        live = await _generating_task(session, calc.id, inst.id, now)
        session.add(
            Delivery(
                delivery_id="d-secret",
                event="issues",
                action="labeled",
                installation_id=inst.id,
                repository=HIDDEN,
                payload="{}",
                status="dead",
                reason="boom",
            )
        )
        jobs = [
            Job(
                kind="generate",
                task_id=tasks[0].id,
                installation_id=inst.id,
                payload={},
                status="dead",
                attempts=5,
                max_attempts=5,
                last_error="LLM endpoint timed out",
            ),
            Job(
                kind="delivery",
                delivery_id="d-secret",
                installation_id=inst.id,
                payload={},
                status="dead",
                attempts=5,
                max_attempts=5,
                last_error="secret job failed",
            ),
        ]
        session.add_all(jobs)
        await session.flush()
        return Seeded(
            inst.id, calc.id, secret.id, runs[0], runs[1], attempt.id, jobs[0].id, jobs[1].id, live
        )


async def _generating_task(session: Any, repo_id: int, inst_id: int, now: Any) -> int:
    """Issue #8 of calc, whose task is generating right now: 1,834 tokens streamed so far."""
    run = IssueRun(
        repository=VISIBLE,
        repository_id=repo_id,
        issue_number=8,
        installation_id=inst_id,
        title="Add a multiply helper",
    )
    session.add(run)
    await session.flush()
    task = Task(
        key=f"{VISIBLE}#8/1",
        run_id=run.id,
        repository=VISIBLE,
        repository_id=repo_id,
        issue_number=8,
        ordinal=1,
        title="Add a multiply helper",
        task_type="feature",
        state="generating",
        attempts=1,
    )
    session.add(task)
    await session.flush()
    session.add(
        Attempt(
            task_id=task.id,
            installation_id=inst_id,
            kind="generate",
            provider="openai",
            model="gpt-4o-mini",
            outcome="running",
            started_at=now - timedelta(seconds=40),
            streamed_tokens=LIVE_TOKENS,
            progress_at=now - timedelta(seconds=2),
        )
    )
    return run.id


async def approve(sim: GitHubSimulator, authorize_url: str, login: str) -> str:
    """The person `login` presses "Authorize" on GitHub's consent page: where GitHub sends
    the browser next (the app's callback with `code` and `state`)."""
    parts = urlsplit(authorize_url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    async with httpx.AsyncClient(
        transport=sim.transport(), base_url=f"{parts.scheme}://{parts.netloc}"
    ) as web:
        page = await web.get(parts.path, params=query)
        assert page.status_code == 200 and "Authorize" in page.text, page.text
        sent = await web.post(parts.path, data={**query, "login": login, "authorize": "1"})
    assert sent.status_code == 302, sent.text
    return sent.headers["location"]


async def log_in(client: Any, sim: GitHubSimulator, login: str) -> Any:
    """Log in to the dashboard as `login` through the whole web flow; the callback's answer."""
    start = await client.get("/dashboard/login", follow_redirects=False)
    assert start.status_code == 303, start.text
    back = await approve(sim, start.headers["location"], login)
    parts = urlsplit(back)
    return await client.get(f"{parts.path}?{parts.query}", follow_redirects=False)
