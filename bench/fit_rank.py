"""Fit the ranking weights of ``bot.context.rank`` on the dev set, and judge them honestly.

    python -m bench.fit_rank [--refresh] [--rounds N]

1. Every signal of :func:`bot.context.rank.file_signals` is computed once per dev instance
   and cached (``.cache/localize/features-<MAP_VERSION>-<hash of the context code>.pkl``).
2. ``fit`` is a coordinate search over a small grid of round values, started from a neutral
   point (every weight 1, the size penalty 0, the default priors), maximising
   ``1.5*Acc@1 + Acc@5 + (Acc@3 + Acc@10 + MRR)/2`` over the instances it is given.
3. Printed: the weights fitted on all 63 instances with their in-sample figures, and the
   leave-one-repository-out figures: for each of the eight repositories, weights fitted on
   the other seven rank the held-out one; the held-out ranks of all instances are pooled.
   The gap between the two says how much of the in-sample figure is fitted to the dev set.

The weights in ``bot/context/rank.py`` are the ``all`` row rounded to the grid; rerun this
after changing a signal and copy them over (the bench does not read this script's output).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import pickle
from collections import defaultdict
from pathlib import Path

import numpy as np

from bench.localize import CACHE, DEV, git_dir_for, gold_requirements
from bot.context import rank as rank_mod
from bot.context.repomap import MAP_VERSION, RepoMap

GRID = (0.0, 0.25, 0.5, 1.0, 1.5, 2.0, 3.0)
SIZE_GRID = (-1.0, -0.5, -0.25, 0.0)
PRIOR_GRID = (0.03, 0.1, 0.2, 0.3, 0.5)
CODE = Path(rank_mod.__file__).parent


def _code_hash() -> str:
    h = hashlib.sha256()
    for name in ("rank.py", "signals.py", "textutil.py", "repomap.py", "units.py", "parse.py"):
        h.update((CODE / name).read_bytes())
    return h.hexdigest()[:12]


def feature_row(x: dict, repo_map: RepoMap, gold: str, feats: dict[str, np.ndarray]) -> dict:
    """What fitting needs of one instance: its repository, file kinds, signals, gold file."""
    return {
        "repo": x["repo"],
        "id": x["instance_id"],
        "kinds": np.array([e.kind for e in repo_map.entries]),
        "feats": {k: v.astype(np.float32) for k, v in feats.items()},
        "gold": repo_map.index_of.get(gold, -1),
    }


def load_features(refresh: bool = False) -> list[dict]:
    """Per instance: repo, id, kinds (array of file kinds), signals, gold index."""
    cache = CACHE / f"features-v{MAP_VERSION}-{_code_hash()}.pkl"
    if cache.exists() and not refresh:
        with cache.open("rb") as fh:
            return pickle.load(fh)
    rows = []
    for x in json.loads(DEV.read_text()):
        repo_map = RepoMap.from_git(git_dir_for(x["repo"]), x["base_commit"], CACHE / "maps")
        gold = next(iter(gold_requirements(x["patch"])), "")
        statement = x["problem_statement"]
        title = statement.strip().splitlines()[0] if statement.strip() else ""
        feats = rank_mod.file_signals(repo_map, statement, title=title)
        rows.append(feature_row(x, repo_map, gold, feats))
        print(f"features: {x['instance_id']}", flush=True)
    cache.parent.mkdir(parents=True, exist_ok=True)
    with cache.open("wb") as fh:
        pickle.dump(rows, fh, protocol=pickle.HIGHEST_PROTOCOL)
    return rows


def ranks(rows: list[dict], weights: dict[str, float], priors: dict[str, float]) -> np.ndarray:
    out = []
    for r in rows:
        prior = np.vectorize(lambda k: priors.get(k, 1.0), otypes=[float])(r["kinds"])
        scores = rank_mod.combine_arrays(prior, r["feats"], weights)
        g = r["gold"]
        out.append(1 + int((scores > scores[g]).sum()) if g >= 0 else 10**6)
    return np.array(out)


def figures(rk: np.ndarray) -> dict[str, float]:
    out = {f"acc@{k}": 100 * float((rk <= k).mean()) for k in (1, 3, 5, 10)}
    out["mrr"] = 100 * float((1 / rk).mean())
    return out


def objective(rk: np.ndarray) -> float:
    f = figures(rk)
    return 1.5 * f["acc@1"] + f["acc@5"] + (f["acc@3"] + f["acc@10"] + f["mrr"]) / 2


def neutral() -> tuple[dict[str, float], dict[str, float]]:
    weights = {k: 1.0 for k in rank_mod.WEIGHTS}
    weights["size"] = 0.0
    return weights, {"source": 1.0, "test": 0.1, "doc": 0.3, "other": 0.3}


def fit(rows: list[dict], rounds: int = 3) -> tuple[dict[str, float], dict[str, float]]:
    """Coordinate search over GRID from the neutral point; ties keep the current value."""
    weights, priors = neutral()
    best = objective(ranks(rows, weights, priors))
    for _ in range(rounds):
        changed = False
        for key in [*weights, *(f"prior:{k}" for k in ("test", "doc", "other"))]:
            is_prior = key.startswith("prior:")
            target, name = (priors, key[6:]) if is_prior else (weights, key)
            grid = PRIOR_GRID if is_prior else SIZE_GRID if key == "size" else GRID
            for value in grid:
                old = target[name]
                if value == old:
                    continue
                target[name] = value
                score = objective(ranks(rows, weights, priors))
                if score > best + 1e-9:
                    best, changed = score, True
                else:
                    target[name] = old
        if not changed:
            break
    return weights, priors


def leave_one_repo_out(
    rows: list[dict], rounds: int = 3
) -> tuple[np.ndarray, list[tuple[str, np.ndarray, dict[str, float]]]]:
    """Held-out ranks of every instance, each ranked by weights fitted without its repository;
    and per repository (name, held-out ranks, the weights used)."""
    by_repo: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        by_repo[r["repo"]].append(r)
    held: list[int] = []
    per_repo = []
    for repo, sub in sorted(by_repo.items()):
        w, p = fit([r for r in rows if r["repo"] != repo], rounds)
        rk = ranks(sub, w, p)
        held.extend(rk.tolist())
        per_repo.append((repo, rk, w))
    return np.array(held), per_repo


def _line(name: str, rk: np.ndarray) -> str:
    f = figures(rk)
    accs = " ".join(f"{f[f'acc@{k}']:5.1f}" for k in (1, 3, 5, 10))
    return f"  {name:<22} Acc@1/3/5/10 {accs}   MRR {f['mrr']:5.1f}   (n={len(rk)})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--refresh", action="store_true", help="recompute the signals")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    rows = load_features(args.refresh)

    print("== current weights (bot/context/rank.py)")
    print(_line("in-sample", ranks(rows, rank_mod.WEIGHTS, rank_mod.PRIORS)))
    weights, priors = fit(rows, args.rounds)
    print("== fitted on all instances from the neutral start")
    print(f"  WEIGHTS = {weights}\n  PRIORS = {priors}")
    print(_line("in-sample", ranks(rows, weights, priors)))

    held, per_repo = leave_one_repo_out(rows, args.rounds)
    print("== leave one repository out (fit on seven, rank the eighth)")
    for repo, rk, w in per_repo:
        changed = {k: v for k, v in w.items() if v != weights[k]}
        print(_line(repo, rk) + f"   differs: {changed}")
    print(_line("pooled held-out", held))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
