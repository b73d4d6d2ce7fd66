"""File localization benchmark on SWE-bench Lite (a benchmark, not a test).

    python -m bench.localize [--limit N] [--repo owner/name] [--json OUT]

For every instance of ``tests/fixtures/swe-bench-lite/dev.json`` the repository is read at
``base_commit`` from a local git object database and both selectors run on the issue text:

* ``selector``  bot.context: rank_files + pack_context (slices of files);
* ``bm25``      plain BM25 (bm25s, its default tokenizer) over whole Python file contents,
                files packed whole in rank order while they fit.

Reported, each beside plain BM25 in the same run: rank of the gold file, Acc@1/3/5/10,
in-context@8k/16k/32k and per-instance wall and CPU time, for the weights in
``bot/context/rank.py``; then for weights refitted by ``bench.fit_rank.bagged_fit`` on all
instances (in-sample) and leaving each repository out (LORO: fitted on seven repositories,
the eighth ranked and packed again), the honest estimate of a refit on repositories outside
the dev set. ``--no-loo`` skips both refits. An instance
is in context when every line the gold patch changes lies inside the packed slices: each
removed pre-image line, and for a pure insertion one of the two pre-image lines around it.
Only this benchmark reads ``patch``; the selector never sees it.

Repositories: ``.cache/localize/repos.json`` maps ``owner/name`` to a git dir (bare is fine);
missing entries fall back to ``/work/.mirror/owner+name/repo`` (where the project's fetch tool
puts snapshots). Repository maps are cached per commit in ``.cache/localize/maps``.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

import bm25s
import numpy as np

from bot.context import RepoMap, pack_context
from bot.context.rank import PRIORS, WEIGHTS, combine, file_signals

ROOT = Path(__file__).resolve().parents[1]
DEV = ROOT / "tests" / "fixtures" / "swe-bench-lite" / "dev.json"
CACHE = ROOT / ".cache" / "localize"
BUDGETS = (8000, 16000, 32000)
HUNK_RE = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+\d+(?:,\d+)? @@")


def gold_requirements(patch: str) -> dict[str, list[set[int]]]:
    """Per file, sets of pre-image lines of which at least one must be in context."""
    out: dict[str, list[set[int]]] = defaultdict(list)
    path, old, pending_add, prev_removed = "", 0, False, False
    for line in patch.splitlines():
        if line.startswith("--- "):
            continue
        if line.startswith("+++ "):
            path = line[6:] if line.startswith("+++ b/") else line[4:]
            continue
        m = HUNK_RE.match(line)
        if m:
            old, pending_add, prev_removed = int(m.group(1)), False, False
            continue
        if not path or line.startswith("diff ") or line.startswith("\\"):
            continue
        if line.startswith("-"):
            out[path].append({old})
            old, prev_removed, pending_add = old + 1, True, False
        elif line.startswith("+"):
            if not prev_removed and not pending_add:
                out[path].append({max(1, old - 1), old})
            pending_add = True
        else:
            old, pending_add, prev_removed = old + 1, False, False
    return dict(out)


def widen_anchors(reqs: dict[str, list[set[int]]], repo_map: RepoMap) -> None:
    """An insertion may be anchored on the nearest non-blank line before or after it."""
    for path, rs in reqs.items():
        if path not in repo_map.index_of:
            continue
        lines = repo_map.entries[repo_map.index_of[path]].text.splitlines()
        for req in rs:
            if len(req) < 2:
                continue
            lo, hi = min(req), max(req)
            while lo > 1 and lo <= len(lines) and not lines[lo - 1].strip():
                lo -= 1
            while hi < len(lines) and not lines[hi - 1].strip():
                hi += 1
            req.update((lo, hi))


def in_context(reqs: dict[str, list[set[int]]], slices: list[tuple[str, int, int]]) -> bool:
    spans = defaultdict(list)
    for p, s, e in slices:
        spans[p].append((s, e))
    return all(
        any(any(s <= ln <= e for s, e in spans[path]) for ln in req)
        for path, rs in reqs.items()
        for req in rs
    )


def git_dir_for(repo: str) -> Path:
    mapping = CACHE / "repos.json"
    known = json.loads(mapping.read_text()) if mapping.exists() else {}
    return Path(known.get(repo) or f"/work/.mirror/{repo.replace('/', '+')}/repo")


def baseline(repo_map: RepoMap, query: str, gold: str, reqs: dict) -> tuple[int, list[bool]]:
    """Plain BM25 over whole .py files, packed whole in rank order while they fit."""
    idx = [i for i, p in enumerate(repo_map.paths) if p.endswith(".py")]
    texts = [repo_map.entries[i].text for i in idx]
    retriever = bm25s.BM25()
    retriever.index(bm25s.tokenize(texts, show_progress=False), show_progress=False)
    qtok = bm25s.tokenize([query], return_ids=False, show_progress=False)[0]
    known = [t for t in qtok if t in retriever.vocab_dict]
    scores = np.asarray(retriever.get_scores(known)) if known else np.zeros(len(idx))
    order = [idx[j] for j in np.argsort(-scores, kind="stable")]
    paths = [repo_map.paths[i] for i in order]
    rank = paths.index(gold) + 1 if gold in paths else 10**6
    hits = []
    for budget in BUDGETS:
        used, slices = 0, []
        for i in order:
            cost = (len(repo_map.entries[i].text) + 3) // 4
            if used + cost <= budget:
                used += cost
                slices.append((repo_map.paths[i], 1, 10**9))
        hits.append(in_context(reqs, slices))
    return rank, hits


def run(args: argparse.Namespace) -> dict:
    instances = json.loads(DEV.read_text())
    if args.repo:
        instances = [x for x in instances if x["repo"] == args.repo]
    instances = instances[: args.limit or None]
    rows: list[dict] = []
    features: list[dict] = []
    for x in instances:
        git_dir = git_dir_for(x["repo"])
        try:
            repo_map = RepoMap.from_git(git_dir, x["base_commit"], CACHE / "maps")
        except LookupError as exc:
            print(f"{x['instance_id']}: commit missing from snapshot: {exc}", file=sys.stderr)
            continue
        reqs = gold_requirements(x["patch"])
        widen_anchors(reqs, repo_map)
        gold = next(iter(reqs)) if reqs else ""
        statement = x["problem_statement"]
        title = statement.strip().splitlines()[0] if statement.strip() else ""
        t0, c0 = time.perf_counter(), time.process_time()
        feats = file_signals(repo_map, statement, title=title)  # what rank_files does, with
        scores = combine(repo_map, feats)  # the signals kept for the leave-one-repo-out refit
        ranked = _ranked(repo_map, scores)
        t_rank = time.perf_counter() - t0
        packs = [pack_context(repo_map, ranked, statement, b, title=title) for b in BUDGETS]
        t_total, cpu = time.perf_counter() - t0, time.process_time() - c0
        if args.loo:
            from bench.fit_rank import feature_row  # it imports this module

            features.append(feature_row(x, repo_map, gold, feats))
        paths = [p for p, _ in ranked]
        rank = paths.index(gold) + 1 if gold in paths else 10**6
        b_rank, b_hits = (
            baseline(repo_map, statement, gold, reqs) if args.baseline else (0, [False] * 3)
        )
        rows.append(
            {
                "id": x["instance_id"], "repo": x["repo"], "commit": x["base_commit"],
                "gold": gold, "title": title, "reqs": reqs,
                "rank": rank, "ctx": [in_context(reqs, p.slices) for p in packs],
                "bm25_rank": b_rank, "bm25_ctx": b_hits,
                "t_rank": t_rank, "t_total": t_total, "cpu": cpu,
            }
        )  # fmt: skip
        r = rows[-1]
        ctx = "".join("x" if c else "." for c in r["ctx"])
        bctx = "".join("x" if c else "." for c in r["bm25_ctx"])
        print(
            f"{r['id']:<32} rank {rank:>4}  ctx {ctx}  | bm25 rank {b_rank:>4} ctx {bctx}"
            f"  | {t_rank:.2f}s rank, {t_total:.2f}s rank+3 packs ({cpu:.2f}s CPU)",
            flush=True,
        )
    return {"rows": rows, "features": features}


def _ranked(repo_map: RepoMap, scores: np.ndarray) -> list[tuple[str, float]]:
    order = np.argsort(-scores, kind="stable")
    return [(repo_map.paths[i], float(scores[i])) for i in order]


def refits(rows: list[dict], features: list[dict]) -> dict[str, dict[str, dict]]:
    """The selector with refitted weights (bench.fit_rank.bagged_fit): ``refit`` fitted on
    every instance, ``loro`` fitted leaving the instance's repository out. Per instance its
    gold rank and the in-context hits of its packs, packed again from that ranking."""
    from bench.fit_rank import bagged_fit, leave_one_repo_out, ranks, row_scores

    _, fitted = leave_one_repo_out(features)
    everything = bagged_fit(features)
    out: dict[str, dict[str, dict]] = {"refit": {}, "loro": {}}
    statements = {x["instance_id"]: x["problem_statement"] for x in json.loads(DEV.read_text())}
    for row, feat in zip(rows, features, strict=True):
        repo_map = RepoMap.from_git(git_dir_for(row["repo"]), row["commit"], CACHE / "maps")
        for name, (weights, priors) in (("refit", everything), ("loro", fitted[row["repo"]])):
            ranked = _ranked(repo_map, row_scores(feat, weights, priors))
            packs = [
                pack_context(repo_map, ranked, statements[row["id"]], b, title=row["title"])
                for b in BUDGETS
            ]
            out[name][row["id"]] = {
                "rank": float(ranks([feat], weights, priors)[0]),
                "ctx": [in_context(row["reqs"], p.slices) for p in packs],
                "weights": {**weights, **priors},
            }
    return out


Selector = tuple[str, str, str]  # name, rank key, in-context key


def _summary(rows: list[dict], selectors: list[Selector]) -> list[str]:
    def acc(key: str, k: int) -> float:
        return 100 * sum(r[key] <= k for r in rows) / len(rows)

    def ctx(key: str, j: int) -> float:
        return 100 * sum(r[key][j] for r in rows) / len(rows)

    out = []
    for name, rk, ck in selectors:
        accs = " ".join(f"{acc(rk, k):5.1f}" for k in (1, 3, 5, 10))
        ctxs = " ".join(f"{ctx(ck, j):5.1f}" for j in range(3))
        out.append(f"  {name:<18} Acc@1/3/5/10 {accs}   in-context@8k/16k/32k {ctxs}")
    return out


def _headline(rows: list[dict], selectors: list[Selector]) -> list[str]:
    """The figures a change is judged by, one row per selector: file-level Acc@1 and Acc@5,
    in-context at 16k, and the slowest instance (only the selector is timed)."""
    wall, cpu = max(r["t_total"] for r in rows), max(r["cpu"] for r in rows)
    out = [f"  {'':<18} {'Acc@1':>6} {'Acc@5':>6} {'ctx@16k':>8}   max per instance"]
    for name, rk, ck in selectors:
        a1 = 100 * sum(r[rk] <= 1 for r in rows) / len(rows)
        a5 = 100 * sum(r[rk] <= 5 for r in rows) / len(rows)
        c16 = 100 * sum(r[ck][BUDGETS.index(16000)] for r in rows) / len(rows)
        timed = f"   {wall:.2f}s wall, {cpu:.2f}s CPU" if rk == "rank" else ""
        out.append(f"  {name:<18} {a1:6.1f} {a5:6.1f} {c16:8.1f}{timed}")
    return out


def report(rows: list[dict], refit: dict[str, dict[str, dict]] | None = None) -> None:
    if not rows:
        print("no instances ran")
        return
    selectors: list[Selector] = [("shipped (rank.py)", "rank", "ctx")]
    for name, label in (("refit", "refit, in-sample"), ("loro", "refit, LORO")):
        if refit:
            for r in rows:
                r[f"{name}_rank"], r[f"{name}_ctx"] = (
                    refit[name][r["id"]]["rank"],
                    refit[name][r["id"]]["ctx"],
                )
            selectors.append((label, f"{name}_rank", f"{name}_ctx"))
    if any(r["bm25_rank"] for r in rows):  # not with --no-baseline
        selectors.append(("bm25", "bm25_rank", "bm25_ctx"))
    print(f"\n== overall ({len(rows)} instances)")
    print("\n".join(_headline(rows, selectors)))
    print("\n".join(_summary(rows, selectors)))
    if refit:
        print(
            "  refit: bench.fit_rank.bagged_fit on these instances; LORO: each repository"
            " ranked by the weights refitted without it, the estimate for other repositories"
        )
    times, cpus = [r["t_total"] for r in rows], [r["cpu"] for r in rows]
    print(
        f"  time per instance (warm map, rank + 3 packs): median {statistics.median(times):.2f}s"
        f", max {max(times):.2f}s; CPU median {statistics.median(cpus):.2f}s, max "
        f"{max(cpus):.2f}s; rank only median {statistics.median(r['t_rank'] for r in rows):.2f}s"
    )
    print("\n== per repository")
    for repo in sorted({r["repo"] for r in rows}):
        sub = [r for r in rows if r["repo"] == repo]
        print(f"{repo} ({len(sub)})")
        print("\n".join(_summary(sub, selectors)))
        if refit:
            held = refit["loro"][sub[0]["id"]]["weights"]
            moved = {k: v for k, v in held.items() if v != {**WEIGHTS, **PRIORS}.get(k)}
            print(f"  refitted without it, differs from rank.py: {moved}")
    print("\n== gold file outside the selector's top 5")
    for r in rows:
        if r["rank"] > 5:
            print(f"  {r['id']:<32} rank {r['rank']:>4}  {r['gold']}  | {r['title'][:80]}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit", type=int, default=0)
    parser.add_argument("--repo", default="")
    parser.add_argument("--json", type=Path, help="write per-instance rows here")
    parser.add_argument("--no-baseline", dest="baseline", action="store_false")
    parser.add_argument(
        "--no-loo", dest="loo", action="store_false", help="skip the leave-one-repo-out refit"
    )
    args = parser.parse_args(argv)
    result = run(args)
    refit = None
    if args.loo and len({f["repo"] for f in result["features"]}) > 1:
        t0 = time.perf_counter()
        refit = refits(result["rows"], result["features"])
        print(f"(refits and their packs took {time.perf_counter() - t0:.0f}s)")
    report(result["rows"], refit)
    if args.json:
        for r in result["rows"]:
            r["reqs"] = {p: [sorted(s) for s in rs] for p, rs in r["reqs"].items()}
        args.json.write_text(json.dumps({"rows": result["rows"]}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
