"""Label → PR benchmark on a repository of thousands of files (a benchmark, not a test).

    .venv/bin/python -m bench.pipeline [--source GIT_DIR] [--synthetic N] [--profile OUT]

The real app (SQLite, worker, git workspace) runs against the GitHub simulator, whose bare
repository holds one commit of the source tree: pylint's (4,300 files) from the project's
mirror cache when present, else a synthetic Python package of `--synthetic` files. The LLM
answers instantly with a recorded chat.completion (streamed as its chunks, as the app asks
for a stream), so the time is the app's own: webhook
ingest, planning and context, mirror and worktree, apply, commit, push, PR, status comment.

Printed beside it, in the same run: `git clone --depth 1` of the same repository, one
commit, and `git push` of a branch back to the bare remote on local disk. The cold run
starts with no mirror and no repository-map cache; warm runs are further issues on the same
app (both cached). Each side reports its best of `--runs`. Target: warm <= 1.5x baseline.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from githubkit.cache import MemCacheStrategy

from bot.core.policy import Ceilings
from bot.github.access import GitHubAccess
from bot.store.db import make_engine
from bot.store.migrate import upgrade
from tests.conftest import make_settings
from tests.e2e.conftest import TEST_ENDPOINT
from tests.ghsim.fixtures import new_app_private_key
from tests.ghsim.simulator import GitHubSimulator
from tests.harness import running_app
from tests.llm_stub import ScriptedLLM

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SOURCE = Path("/work/.mirror/pylint-dev+pylint/repo")
OWNER, NAME = "octo-org", "big"
# Throttles raised: every run opens a PR and none is merged.
CONFIG = (
    "llm_provider: openai\nllm_model: gpt-4o-mini\nmax_open_prs: 50\nmax_new_prs_per_hour: 50\n"
)
ENV = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}


def git(*args: str, cwd: Path | None = None) -> str:
    out = subprocess.run(["git", *args], cwd=cwd, env=ENV, capture_output=True, text=True)
    if out.returncode:
        raise RuntimeError(f"git {' '.join(args)}: {out.stderr}")
    return out.stdout


# ---------------------------------------------------------------- the repository


def export_tree(source: Path, dest: Path) -> None:
    """The source repository's HEAD as plain files (its history is not needed)."""
    dest.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "--git-dir", str(source), "archive", "HEAD"], env=ENV, capture_output=True
    )
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive.stdout, check=True)


def synthetic_tree(dest: Path, files: int) -> None:
    """A Python package shaped like a real one: modules of classes and functions that
    import each other, grouped in subpackages, with tests and docs beside them."""
    for i in range(files):
        pkg = f"pkg{i % 40}"
        if i % 10 == 9:
            path = dest / "docs" / pkg / f"page{i}.md"
            body = f"# Page {i}\n\nHow `{pkg}.mod{i - 1}` is used.\n" * 20
        elif i % 10 == 8:
            path = dest / "tests" / pkg / f"test_mod{i}.py"
            body = f"from {pkg}.mod{i - 1} import Thing{i - 1}\n\n\n" + "".join(
                f"def test_case_{j}():\n"
                f"    assert Thing{i - 1}().step_{j % 5}({j}) is not None\n\n\n"
                for j in range(25)
            )
        else:
            path = dest / "src" / pkg / f"mod{i}.py"
            methods = "".join(
                f"    def step_{j}(self, value: int) -> int:\n"
                f'        """Step {j} of the thing {i}."""\n'
                f"        return helper_{i % 7}(value) + {j}\n\n"
                for j in range(12)
            )
            body = (
                f'"""Module {i} of {pkg}."""\n\nfrom {pkg}.util import helper_{i % 7}\n\n\n'
                f"class Thing{i}:\n{methods}"
            )
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(body)
    for p in range(40):
        util = dest / "src" / f"pkg{p}" / "util.py"
        util.write_text("".join(f"def helper_{k}(v):\n    return v * {k}\n\n\n" for k in range(7)))


def make_remote(tree: Path, remote: Path) -> None:
    """One commit of `tree` on `main` in a new bare repository."""
    (tree / ".github").mkdir(exist_ok=True)
    (tree / ".github" / "issuewright.yml").write_text(CONFIG)
    git("init", "--quiet", "--initial-branch=main", str(tree))
    git("add", "--all", cwd=tree)
    git("-c", "user.name=dev", "-c", "user.email=dev@example.com", "commit", "-qm", "import",
        cwd=tree)  # fmt: skip
    remote.parent.mkdir(parents=True, exist_ok=True)
    git("clone", "--quiet", "--bare", str(tree), str(remote))


def pick_target(tree: Path) -> tuple[str, str]:
    """A Python file to edit and its first line (the SEARCH of the recorded answer)."""
    for path in sorted(tree.rglob("*.py")):
        text = path.read_text(errors="replace")
        first = text.splitlines()[0] if text.strip() else ""
        if text.count(first + "\n") == 1 and first.strip() and 2_000 < len(text) < 20_000:
            return str(path.relative_to(tree)), first
    raise SystemExit("no suitable Python file to edit")


def recorded_answer(path: str, first_line: str) -> str:
    return (
        f"The module needs a note at the top.\n\n{path}\n```python\n<<<<<<< SEARCH\n"
        f"{first_line}\n=======\n# Reviewed by the benchmark.\n{first_line}\n"
        ">>>>>>> REPLACE\n```\n\nSUMMARY: adds a note at the top of the module.\n"
    )


# ---------------------------------------------------------------- baseline


def baseline(remote: Path, work: Path, path: str) -> float:
    """`git clone --depth 1`, one small commit, `git push` of a branch back to the remote."""
    start = time.perf_counter()
    git("clone", "--quiet", "--depth", "1", f"file://{remote}", str(work))
    target = work / path
    target.write_text("# Reviewed by the benchmark.\n" + target.read_text())
    git("-c", "user.name=dev", "-c", "user.email=dev@example.com", "commit", "-qam", "note",
        cwd=work)  # fmt: skip
    git("push", "--quiet", "origin", f"HEAD:refs/heads/baseline-{uuid.uuid4().hex[:6]}", cwd=work)
    return time.perf_counter() - start


# ---------------------------------------------------------------- the app


def stamp_pull_requests(sim: GitHubSimulator) -> list[float]:
    """perf_counter() each time the simulator answers a PR creation with 201."""
    stamps: list[float] = []
    handle = sim.asgi.handle

    async def timed(scope: dict, raw_body: bytes) -> Any:
        reply = await handle(scope, raw_body)
        if scope["method"] == "POST" and scope["path"].endswith("/pulls") and reply.status == 201:
            stamps.append(time.perf_counter())
        return reply

    sim.asgi.handle = timed  # type: ignore[method-assign]
    return stamps


async def label_to_pr(
    sim: GitHubSimulator, settle: Any, stamps: list[float], title: str, path: str
) -> tuple[float, float]:
    """(seconds from the label to the PR's creation, to the app being idle again)."""
    body = f"Please add a short review note at the top of `{path}`."
    issue = await sim.open_issue(f"{OWNER}/{NAME}", title, body, user="reporter", labels=[])
    stamps.clear()
    start = time.perf_counter()
    await sim.label_issue(f"{OWNER}/{NAME}", issue.number, "issuewright", user="octocat")
    await settle()
    idle = time.perf_counter() - start
    if len(stamps) != 1:
        comments = [c.body for c in sim.comments(f"{OWNER}/{NAME}", issue.number)]
        raise SystemExit(f"no PR was opened for {title!r}: {comments}")
    return stamps[0] - start, idle


async def run_app(
    root: Path, tree: Path, path: str, first: str, profile: Path | None, warm_runs: int
) -> list:

    pem = new_app_private_key()
    sim = GitHubSimulator(root / "github", private_key_pem=pem)
    url = f"sqlite+aiosqlite:///{root / 'bench.db'}"
    engine = make_engine(url)
    await upgrade(engine)
    await engine.dispose()
    # The operator's endpoint and ceilings high enough for the repository's 50 open PRs.
    settings = make_settings(
        root,
        url,
        **sim.settings_overrides(),
        llm_endpoints=(TEST_ENDPOINT,),
        ceilings=Ceilings(max_open_prs=50, max_new_prs_per_hour=50),
    )
    access = GitHubAccess.from_settings(
        settings, transport=sim.transport(), cache_strategy=MemCacheStrategy()
    )
    llm = ScriptedLLM(recorded_answer(path, first))
    async with running_app(settings, github=access, llm_factory=llm.factory) as harness:

        async def deliver(event: str, payload: dict[str, Any]) -> None:
            response = await harness.post(event, payload, delivery=str(uuid.uuid4()))
            assert response.status_code in (200, 202), response.text

        async def settle() -> None:
            for _ in range(20):
                await sim.flush()
                if not await harness.drain() and not sim.outbox:
                    return
            raise RuntimeError("did not settle")

        sim.deliver = deliver
        repo = sim.create_repo(OWNER, NAME, {"README.md": "placeholder\n"})
        # Replace the simulator's one-file repository with the big one.
        shutil.rmtree(repo.git.path)
        make_remote(tree, repo.git.path)
        sim.set_permission(f"{OWNER}/{NAME}", "octocat", "admin")
        stamps = stamp_pull_requests(sim)
        times = [await label_to_pr(sim, settle, stamps, "Review note (cold)", path)]
        profiler = cProfile.Profile() if profile else None
        if profiler:
            profiler.enable()
        for i in range(warm_runs):
            times.append(await label_to_pr(sim, settle, stamps, f"Review note {i}", path))
        if profiler and profile:
            profiler.disable()
            profiler.dump_stats(str(profile))
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE)
    parser.add_argument("--synthetic", type=int, default=2500, help="files, without --source")
    parser.add_argument("--profile", type=Path, help="write a cProfile of the warm runs here")
    parser.add_argument("--runs", type=int, default=3, help="warm runs and baseline runs")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="iw-bench-") as tmp:
        root = Path(tmp)
        tree = root / "tree"
        if (args.source / "HEAD").exists():
            export_tree(args.source, tree)
            what = f"{args.source} at HEAD"
        else:
            synthetic_tree(tree, args.synthetic)
            what = f"synthetic package of {args.synthetic} files"
        path, first = pick_target(tree)
        files = sum(1 for p in tree.rglob("*") if p.is_file())
        size = sum(p.stat().st_size for p in tree.rglob("*") if p.is_file()) / 1e6
        cold, *warm_runs = asyncio.run(
            run_app(root / "app", tree, path, first, args.profile, args.runs)
        )
        remote = root / "app" / "github" / OWNER / f"{NAME}.git"
        # Disk and CPU are shared with other work here: the best of several runs on each side.
        base = min(baseline(remote, root / f"clone{i}", path) for i in range(args.runs))
        warm = min(warm_runs)
    print(f"repository: {what}: {files:,} files, {size:.1f} MB; edit in {path}")
    print(f"baseline  git clone --depth 1 + commit + git push: {base:6.2f} s")
    for name, (opened, idle) in (("cold (no mirror)", cold), ("warm (mirror, map cached)", warm)):
        print(
            f"pipeline  {name:26s} label → PR opened {opened:6.2f} s ({opened / base:.2f}x), "
            f"→ app idle {idle:6.2f} s ({idle / base:.2f}x)"
        )
    verdict = "met" if warm[0] <= 1.5 * base else "NOT met"
    print(f"target    warm label → PR opened <= 1.5x baseline: {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
