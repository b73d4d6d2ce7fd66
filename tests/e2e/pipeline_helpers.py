"""Shared pieces of the pipeline safety and fault scenarios: model answers built from parts,
faults for the LLM endpoint and for GitHub, and short ways to read what a person (or an
operator looking at the jobs table) would see."""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from bot.store.models import Job, Task
from tests.e2e.conftest import BUG_REPORT, MAINTAINER, REPO, Scenario
from tests.ghsim.gitrepo import SIM_ENV
from tests.ghsim.simulator import GitHubSimulator
from tests.llm_stub import chat_completion

Answer = Callable[[dict[str, Any]], httpx.Response]


# ---------------------------------------------------------------- model answers


def edit(path: str, search: str, replace: str, summary: str = "a change") -> str:
    """One SEARCH/REPLACE block in the format the prompts ask for."""
    return (
        f"Here is the change.\n\n{path}\n```\n<<<<<<< SEARCH\n{search}=======\n{replace}"
        f">>>>>>> REPLACE\n```\n\nSUMMARY: {summary}\n"
    )


def new_file(path: str, content: str) -> str:
    """An edit creating `path` (empty SEARCH)."""
    return edit(path, "", content, summary=f"creates {path}")


def both(*answers: str) -> str:
    return "\n".join(answers)


# ---------------------------------------------------------------- LLM faults


def llm_error(status: int, headers: dict[str, str] | None = None, message: str = "") -> Answer:
    """An error reply in the OpenAI error shape (`{"error": {...}}`)."""
    body = {"error": {"message": message or f"HTTP {status}", "type": "server_error"}}
    return lambda _request: httpx.Response(status, json=body, headers=headers or {})


def llm_raises(exc: Exception) -> Answer:
    """The transport fails the way httpx reports it (timeout, connection cut mid-body)."""

    def fail(_request: dict[str, Any]) -> httpx.Response:
        raise exc

    return fail


def llm_body(text: str, content_type: str = "application/json") -> Answer:
    """A 200 whose body is `text` verbatim (malformed JSON, a cut-off stream)."""
    return lambda _request: httpx.Response(
        200, content=text.encode(), headers={"content-type": content_type}
    )


def sse_stream(answer: str, model: str, *, cut_after: int | None = None) -> str:
    """`answer` as chat.completion.chunk server-sent events; `cut_after` events, then the
    connection ends with no finish_reason and no `[DONE]` (a truncated stream)."""
    chunks = [answer[i : i + 40] for i in range(0, len(answer), 40)]
    events = [
        {
            "id": "chatcmpl-test",
            "object": "chat.completion.chunk",
            "created": 1_763_800_000,
            "model": model,
            "choices": [{"index": 0, "delta": {"content": c}, "finish_reason": None}],
        }
        for c in chunks
    ]
    if cut_after is not None:
        events = events[:cut_after]
    text = "".join(f"data: {json.dumps(e)}\n\n" for e in events)
    return text if cut_after is not None else text + "data: [DONE]\n\n"


def ok(answer: str) -> Answer:
    """A normal completion (what ScriptedLLM sends for a plain string)."""
    return lambda request: httpx.Response(
        200, json=chat_completion(answer, request["model"], 1000, len(answer) // 4)
    )


# ---------------------------------------------------------------- GitHub faults


@dataclass
class GitHubFaults(httpx.AsyncBaseTransport):
    """Wraps the simulator's transport: the next `times` requests matching (method, path
    suffix) are answered with `status`. With `after=True` the simulator handles the request
    first and only the answer is lost (the PR exists, the caller sees a 5xx)."""

    inner: httpx.AsyncBaseTransport
    rules: list[dict[str, Any]] = field(default_factory=list)
    seen: list[tuple[str, str, int]] = field(default_factory=list)

    def fail(
        self, method: str, suffix: str, status: int = 502, times: int = 1, after: bool = False
    ) -> None:
        self.rules.append(
            {"method": method, "suffix": suffix, "status": status, "times": times, "after": after}
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        rule = next(
            (
                r
                for r in self.rules
                if r["times"] > 0
                and request.method == r["method"]
                and request.url.path.endswith(r["suffix"])
            ),
            None,
        )
        if rule is None:
            return await self.inner.handle_async_request(request)
        rule["times"] -= 1
        if rule["after"]:
            await self.inner.handle_async_request(request)
        self.seen.append((request.method, request.url.path, rule["status"]))
        body = {"message": "Server Error", "documentation_url": "https://docs.github.com/rest"}
        return httpx.Response(rule["status"], json=body, request=request)


def count_calls(sim: GitHubSimulator, method: str, template: str) -> int:
    return sum(1 for r in sim.requests if r.method == method and r.template == template)


# ---------------------------------------------------------------- repository contents


def commit_with_symlink(sim: GitHubSimulator, repo: str, link: str, target: str) -> str:
    """Commit a symbolic link `link` → `target` on the default branch. The simulator's
    `create_repo` / `commit_files` only write regular files (mode 100644), so the link is
    made with the same plumbing through a throwaway index."""
    bare = sim.repo(repo).git
    parent = bare.branch_sha("main")
    env = {**os.environ, **SIM_ENV, "GIT_DIR": str(bare.path)}
    ident = {
        "GIT_AUTHOR_NAME": MAINTAINER,
        "GIT_AUTHOR_EMAIL": f"{MAINTAINER}@example.com",
        "GIT_COMMITTER_NAME": MAINTAINER,
        "GIT_COMMITTER_EMAIL": f"{MAINTAINER}@example.com",
    }

    def git(*args: str, data: bytes | None = None, extra: dict[str, str] | None = None) -> str:
        out = subprocess.run(
            ["git", *args], input=data, env={**env, **(extra or {})}, capture_output=True
        )
        assert out.returncode == 0, out.stderr.decode()
        return out.stdout.decode().strip()

    with tempfile.TemporaryDirectory() as tmp:
        index = {"GIT_INDEX_FILE": str(Path(tmp) / "index")}
        git("read-tree", str(parent), extra=index)
        blob = git("hash-object", "-w", "--stdin", data=target.encode())
        git("update-index", "--add", "--cacheinfo", f"120000,{blob},{link}", extra=index)
        tree = git("write-tree", extra=index)
    sha = git("commit-tree", tree, "-p", str(parent), "-m", f"link {link}", extra=ident)
    git("update-ref", "refs/heads/main", sha, str(parent))
    return sha


def set_config(sim: GitHubSimulator, text: str) -> None:
    """Replace `.github/issuewright.yml` on the default branch."""
    bare = sim.repo(REPO).git
    bare.commit_files("main", {".github/issuewright.yml": text}, "config", sim.author(MAINTAINER))


# ---------------------------------------------------------------- reading outcomes


async def label_new_issue(
    scenario: Scenario, title: str = "add() subtracts", body: str = BUG_REPORT
) -> int:
    """Open an issue, label it for the app, and run everything that follows."""
    sim = scenario.sim
    issue = await sim.open_issue(REPO, title, body, user="reporter", labels=[])
    await sim.label_issue(REPO, issue.number, "issuewright", user=MAINTAINER)
    await scenario.settle()
    return issue.number


async def only_task(scenario: Scenario, number: int | None = None) -> Task:
    async with scenario.harness.sessions() as session:
        query = select(Task)
        if number is not None:
            query = query.where(Task.issue_number == number)
        return (await session.execute(query)).scalar_one()


async def job_states(scenario: Scenario) -> list[tuple[str, str]]:
    async with scenario.harness.sessions() as session:
        rows = (await session.execute(select(Job.kind, Job.status).order_by(Job.id))).all()
    return [(kind, status) for kind, status in rows]


async def assert_jobs_finished(scenario: Scenario) -> None:
    """No job is left running, or queued to run now, once everything settled."""
    states = await job_states(scenario)
    stuck = [(k, s) for k, s in states if s in ("running", "queued")]
    assert not stuck, f"jobs left unfinished: {stuck}"


def status_text(scenario: Scenario, number: int) -> str:
    [comment] = scenario.status_comments(number)
    return comment.body


def branches(sim: GitHubSimulator) -> list[str]:
    return sim.repo(REPO).git.branches()


def repair_request(scenario: Scenario) -> str:
    """The last user message of the second LLM request: the repair round's feedback."""
    assert len(scenario.llm.requests) == 2, len(scenario.llm.requests)
    return scenario.llm.requests[1]["messages"][-1]["content"]
