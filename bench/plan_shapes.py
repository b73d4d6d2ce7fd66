"""How many plans are right on real issue bodies, by shape, beside the old decomposer.

Each `tests/fixtures/issues/NAME.md` is a real issue body; `NAME.json` holds its title,
labels, shape and the plan a maintainer would accept (see the README there). A plan is right
when every expected figure matches: the number of tasks, of done (skipped) items and of
criteria, and where given the first task's type, the task titles and which items each task
covers.

The old decomposer (regular expressions, before issue 14) is read from git at `--old-rev`
into a temporary package and run on the same bodies; nothing of it is kept in `bot/`.

    .venv/bin/python -m bench.plan_shapes [--old-rev c6f13a2] [-v]
"""

from __future__ import annotations

import argparse
import importlib
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "issues"
OLD_REV = "c6f13a2"  # the last commit with the line-scanner decomposer
OLD_MODULES = ("decompose", "markdown_items", "task_types")
MAX_TASKS = 50  # the figures are about splitting, not the per-issue cap


def load_fixtures() -> list[dict[str, Any]]:
    cases = []
    for side in sorted(FIXTURES.glob("*.json")):
        meta = json.loads(side.read_text(encoding="utf-8"))
        meta["name"] = side.stem
        meta["body"] = side.with_suffix(".md").read_text(encoding="utf-8")
        cases.append(meta)
    return cases


def old_decomposer(rev: str, into: Path) -> Callable[..., Any]:
    """`decompose` as it was at `rev`, imported from a temporary package."""
    package = into / "old_plan"
    package.mkdir()
    (package / "__init__.py").write_text("")
    for name in OLD_MODULES:
        source = subprocess.run(
            ["git", "show", f"{rev}:bot/core/{name}.py"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for other in OLD_MODULES:
            source = source.replace(f"bot.core.{other}", f"old_plan.{other}")
        (package / f"{name}.py").write_text(source)
    sys.path.insert(0, str(into))
    return importlib.import_module("old_plan.decompose").decompose  # type: ignore[no-any-return]


def figures(result: Any, expect: dict[str, Any]) -> dict[str, Any]:
    tasks = result.tasks
    got: dict[str, Any] = {
        "tasks": len(tasks),
        "done": len(result.done),
        "criteria": len(getattr(result, "criteria", [])),
    }
    if "type" in expect:
        got["type"] = tasks[0].type if tasks else None
    if "titles" in expect:
        got["titles"] = [t.title for t in tasks]
    if "items" in expect:
        got["items"] = [list(getattr(t, "items", None) or [t.ordinal]) for t in tasks]
    return got


def expected(expect: dict[str, Any]) -> dict[str, Any]:
    want = {"tasks": expect["tasks"], "done": expect.get("done", 0)}
    want["criteria"] = expect.get("criteria", 0)
    want.update({k: expect[k] for k in ("type", "titles", "items") if k in expect})
    return want


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--old-rev", default=OLD_REV)
    parser.add_argument("-v", "--verbose", action="store_true", help="show every wrong plan")
    args = parser.parse_args(argv)

    from bot.core.decompose import decompose

    cases = load_fixtures()
    with tempfile.TemporaryDirectory() as tmp:
        old = old_decomposer(args.old_rev, Path(tmp))
        table: dict[str, list[int]] = {}
        wrong: list[str] = []
        for case in cases:
            run = (case["title"], case["body"], case["labels"], "octo/repo", 1, MAX_TASKS)
            want = expected(case["expect"])
            counts = table.setdefault(case["shape"], [0, 0, 0])
            counts[0] += 1
            for column, fn in ((1, decompose), (2, old)):
                got = figures(fn(*run), case["expect"])
                if got == want:
                    counts[column] += 1
                elif column == 1:
                    wrong.append(f"{case['name']}: got {got}, want {want}")
    print(f"{'shape':<14} {'issues':>6} {'right now':>10} {'right before':>13}")
    for shape, (n, new, before) in sorted(table.items()):
        print(f"{shape:<14} {n:>6} {new:>10} {before:>13}")
    total = [sum(c[i] for c in table.values()) for i in range(3)]
    print(f"{'all':<14} {total[0]:>6} {total[1]:>10} {total[2]:>13}")
    if args.verbose:
        for line in wrong:
            print("wrong:", line)
    print_speed(decompose, old)
    return 0


def print_speed(new: Callable[..., Any], old: Callable[..., Any]) -> None:
    """Milliseconds per body on the inputs that make careless parsers quadratic (the tests
    check their plans; timing belongs here, beside the old decomposer on the same input)."""
    from tests.core.test_decompose import BIG_CHUNK, PATHOLOGICAL

    big = "## Tasks\n- [ ] Add the real task\n\n" + BIG_CHUNK * (65536 // len(BIG_CHUNK))
    print(f"\n{'input (ms)':<14} {'now':>10} {'before':>13}")
    for body in [big, *PATHOLOGICAL]:
        label = "64 KB issue" if body is big else repr(body[:8])
        ms = [_best_ms(fn, body) for fn in (new, old)]
        print(f"{label:<14} {ms[0]:>10.1f} {ms[1]:>13.1f}")


def _best_ms(fn: Callable[..., Any], body: str) -> float:
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        fn("t", body, [], "o/r", 1)
        best = min(best, time.perf_counter() - started)
    return best * 1000


if __name__ == "__main__":
    raise SystemExit(main())
