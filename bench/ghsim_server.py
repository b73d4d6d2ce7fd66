"""The GitHub simulator (tests/ghsim) served over real HTTP in its own process, so app
processes started separately (`issuewright serve`, `issuewright worker`) can call it.

    .venv/bin/python -m bench.ghsim_server PORT ROOT KEY_FILE [--no-validate]

KEY_FILE holds the App's private key (PEM). Benchmarks start it and talk to it through
`bench.standin.StandIn`, whose `env()` points the app here. Beside GitHub's routes the
server answers a few of its own, under `/_bench/` (never a GitHub path):

- `POST /_bench/setup`: accounts with the App installed, their repositories and issues, and
  people's permissions;
- `POST /_bench/comments`: people comment on issues; answers each `issue_comment.created`
  delivery GitHub would send (id, event, payload) for the caller to sign and send;
- `GET /_bench/effects`: every side effect seen, for counting: all comments with their
  bodies, every write request with its status (reactions created or repeated, labels, PRs,
  check runs…), and any contract violation.

`--no-validate` turns off the per-request OpenAPI checks (the benchmarks' default: they nearly
triple the simulator's CPU per call); the state and the answers are the same.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from tests.ghsim.simulator import GitHubSimulator

README = {"README.md": "# bench\n\nA repository for benchmarks.\n"}
Scope = dict[str, Any]


class BenchServer:
    """ASGI: GitHub's routes go to the simulator (each write recorded with its status), the
    `/_bench/` routes drive and read it."""

    def __init__(self, sim: GitHubSimulator) -> None:
        self.sim = sim
        self.writes: list[dict[str, Any]] = []
        self.server_errors = 0
        self.cut_requests = 0

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                kind = (await receive())["type"]  # lifespan.startup, then lifespan.shutdown
                await send({"type": f"{kind}.complete"})
                if kind == "lifespan.shutdown":
                    return
        body = b""
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                # The caller died before its request was whole (a worker SIGKILLed mid-call):
                # GitHub never acts on half a request, so neither does the stand-in.
                self.cut_requests += 1
                return
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        if scope["path"].startswith("/_bench/"):
            status, answer = await self.control(scope["method"], scope["path"], body)
            await _send_json(send, status, answer)
            return
        await self.github(scope, body, send)

    async def github(self, scope: Scope, body: bytes, send: Any) -> None:
        seen: dict[str, int] = {}

        async def replay() -> dict[str, Any]:
            return {"type": "http.request", "body": body, "more_body": False}

        async def capture(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                seen["status"] = message["status"]
            await send(message)

        if self.sim.rate_remaining < 500:  # the hour is up: GitHub's limit resets
            self.sim.rate_remaining = 5000
        try:
            await self.sim.asgi(scope, replay, capture)
        except Exception as exc:  # a contract violation or a gap: answered 500 and counted
            self.server_errors += 1
            print(f"ghsim: {scope['method']} {scope['path']}: {exc!r}"[:500], file=sys.stderr)
            if "status" not in seen:
                await _send_json(send, 500, {"message": "simulator error"})
            seen.setdefault("status", 500)
        if scope["method"] != "GET":
            self.writes.append(
                {
                    "method": scope["method"],
                    "path": scope["path"],
                    "status": seen.get("status", 0),
                    "body": _short(body),
                }
            )

    async def control(self, method: str, path: str, body: bytes) -> tuple[int, Any]:
        data = json.loads(body) if body else {}
        if (method, path) == ("POST", "/_bench/setup"):
            return 200, await self.setup(data)
        if (method, path) == ("POST", "/_bench/comments"):
            return 200, {"deliveries": [await self.comment(**item) for item in data["items"]]}
        if (method, path) == ("GET", "/_bench/effects"):
            return 200, self.effects()
        return 404, {"message": f"no bench route {method} {path}"}

    async def setup(self, data: dict[str, Any]) -> dict[str, Any]:
        sim = self.sim
        installations: dict[str, int] = {}
        repos: dict[str, Any] = {}
        for account in data.get("accounts", []):
            login = account["login"]
            inst = sim.create_installation(login, type=account.get("type", "Organization"))
            installations[login] = inst.id
            for spec in account.get("repos", []):
                repo = sim.create_repo(login, spec["name"], README)
                numbers = []
                for i in range(spec.get("issues", 0)):
                    issue = await sim.open_issue(
                        repo.full_name, f"Question {i + 1}", "How do I use this?", login
                    )
                    numbers.append(issue.number)
                repos[repo.full_name] = {"id": repo.id, "issues": numbers}
        for grant in data.get("permissions", []):
            sim.set_permission(grant["repo"], grant["user"], grant["perm"])
        sim.deliveries.clear()  # the issues' own webhooks are not sent anywhere
        return {"installations": installations, "repos": repos, "bot": sim.bot.login}

    async def comment(self, repo: str, number: int, user: str, body: str) -> dict[str, Any]:
        made = await self.sim.comment(repo, number, body, user=user)
        delivery = self.sim.deliveries.pop()
        assert delivery.payload["comment"]["id"] == made.id
        return {"id": delivery.id, "event": delivery.event, "payload": delivery.payload}

    def effects(self) -> dict[str, Any]:
        state = self.sim.state
        comments, labels = [], {}
        for repo in state.repos.values():
            for issue in repo.issues.values():
                where = f"{repo.full_name}#{issue.number}"
                for c in issue.comments:
                    comments.append(
                        {"id": c.id, "issue": where, "user": c.user.login, "body": c.body}
                    )
                if issue.labels:
                    labels[where] = [label.name for label in issue.labels]
        return {
            "bot": self.sim.bot.login,
            "comments": comments,
            "writes": self.writes,
            "labels": labels,
            "pulls": sum(1 for r in state.repos.values() for i in r.issues.values() if i.pull),
            "check_runs": sum(len(r.check_runs) for r in state.repos.values()),
            "violations": [str(v) for v in self.sim.violations],
            "server_errors": self.server_errors,
            "cut_requests": self.cut_requests,
            "requests": len(self.sim.requests),
        }


def _short(body: bytes) -> Any:
    """The request's JSON, with long text fields cut (the comments hold the full bodies)."""
    try:
        data = json.loads(body) if body else None
    except ValueError:
        return None
    if isinstance(data, dict):
        return {k: v[:200] if isinstance(v, str) else v for k, v in data.items()}
    return data


async def _send_json(send: Any, status: int, answer: Any) -> None:
    content = json.dumps(answer).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(content))]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": content})


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("port", type=int)
    parser.add_argument("root", type=Path)
    parser.add_argument("key_file", type=Path)
    parser.add_argument("--no-validate", action="store_true")
    args = parser.parse_args()
    sim = GitHubSimulator(
        args.root,
        private_key_pem=args.key_file.read_text(),
        api_url=f"http://127.0.0.1:{args.port}",
        validate=not args.no_validate,
    )
    sim.requests = _Discard()  # type: ignore[assignment]  # counted, not kept
    if sim.validate:
        from tests.ghsim.openapi import openapi

        openapi()  # the 13 MB description, read before the first call instead of during it
    uvicorn.run(
        BenchServer(sim), host="127.0.0.1", port=args.port, log_level="warning", access_log=False
    )


class _Discard(list):  # type: ignore[type-arg]
    """The simulator's request log, counted only: a long run would keep every request."""

    count_seen = 0

    def append(self, _item: Any) -> None:
        self.count_seen += 1

    def __len__(self) -> int:
        return self.count_seen


if __name__ == "__main__":
    main()
