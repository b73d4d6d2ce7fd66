"""Fit the ranking weights of ``bot.context.rank`` on the dev set, and judge them honestly.

    python -m bench.fit_rank [--refresh] [--single]

1. Every signal of :func:`bot.context.rank.file_signals` is computed once per dev instance
   and cached (``.cache/localize/features-v<MAP_VERSION>.<ROW_FORMAT>-<code hash>.pkl``).
2. ``fit`` is a coordinate search over a small grid of round values, started from a neutral
   point (every weight 1, the size penalty 0, priors 0.1 for tests and docs, 0.3 for other
   files), maximising ``1.5*Acc@1 + Acc@5 + (Acc@3 + Acc@10 + MRR)/2`` over the instances it
   is given; a tie between the gold file and another counts as half a loss.
   ``bagged_fit`` (the default) takes the median of ``fit`` over 50 bootstrap resamples:
   a single search on 63 instances swings a weight to 0 or 3 for two instances, and its
   leave-one-repository-out weights disagree with each other; the median does not.
3. Printed: the weights fitted on all 63 instances with their in-sample figures, and the
   leave-one-repository-out figures: for each of the eight repositories, weights fitted (the
   same way) on the other seven rank the held-out one; the held-out ranks are pooled. That
   is the estimate for repositories outside the dev set; choose signals by it.

The weights in ``bot/context/rank.py`` are the bagged fit; rerun this after changing a signal
and copy them over (the bench does not read this script's output). ``bench.localize`` runs
the same leave-one-repository-out refit and packs each held-out ranking for its in-context
figures.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import json
import pickle
from collections.abc import Callable
from pathlib import Path

import numpy as np

from bench.localize import CACHE, DEV, git_dir_for, gold_requirements
from bot.context import rank as rank_mod
from bot.context.repomap import MAP_VERSION, RepoMap

GRID = (0.0, 0.25, 0.5, 1.0, 1.5, 2.0, 3.0)
SIZE_GRID = (-1.0, -0.5, -0.25, 0.0)
PRIOR_GRID = (0.03, 0.1, 0.2, 0.3, 0.5)
Weights = tuple[dict[str, float], dict[str, float]]  # weights, priors
CODE = Path(rank_mod.__file__).parent


def _code_hash() -> str:
    h = hashlib.sha256()
    for path in sorted(CODE.glob("*.py")):  # every module the signals may read
        h.update(path.read_bytes())
    return h.hexdigest()[:12]


KINDS = ("source", "test", "doc", "other")
ROW_FORMAT = 3  # bump when feature_row changes shape


def feature_row(x: dict, repo_map: RepoMap, gold: str, feats: dict[str, np.ndarray]) -> dict:
    """What fitting needs of one instance: its repository, file kinds, signals, gold file.
    The signals are one matrix (files x ``rank.WEIGHTS`` keys) so a candidate weighting
    scores every file with one product."""
    return {
        "repo": x["repo"],
        "id": x["instance_id"],
        "kinds": np.array([KINDS.index(k) for k in rank_mod.rank_kinds(repo_map)], dtype=np.int8),
        "X": np.stack([feats[k] for k in rank_mod.WEIGHTS], axis=1).astype(np.float32),
        "gold": repo_map.index_of.get(gold, -1),
    }


def load_features(refresh: bool = False) -> list[dict]:
    """Per instance: repo, id, kinds (codes into KINDS), signal matrix X, gold index."""
    cache = CACHE / f"features-v{MAP_VERSION}.{ROW_FORMAT}-{_code_hash()}.pkl"
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
    """Rank of each row's gold file under *weights* and *priors*."""
    out: list[float] = []
    for r in rows:
        g = r["gold"]
        if g < 0:
            out.append(10**6)
            continue
        scores = row_scores(r, weights, priors)
        # A tie counts as half a loss: an all-zero signal must not rank the gold file first.
        ahead, tied = int((scores > scores[g]).sum()), int((scores == scores[g]).sum()) - 1
        out.append(1 + ahead + tied / 2)
    return np.array(out, dtype=float)


def row_scores(row: dict, weights: dict[str, float], priors: dict[str, float]) -> np.ndarray:
    """Every file's score in one row, as ``rank.combine`` computes it (two matrix products)."""
    prior = np.array([priors.get(k, 1.0) for k in KINDS], dtype=np.float32)[row["kinds"]]
    w = np.array([weights.get(k, 0.0) for k in rank_mod.WEIGHTS], dtype=np.float32)
    scaled = _prior_scaled()
    return prior * (row["X"][:, scaled] @ w[scaled]) + row["X"][:, ~scaled] @ w[~scaled]


@functools.cache
def _prior_scaled() -> np.ndarray:
    """Which signals ``rank.combine_arrays`` multiplies by the kind prior, asked of it once."""
    half = np.array([0.5])
    return np.array(
        [
            float(rank_mod.combine_arrays(half, {k: np.ones(1)}, {k: 1.0})[0]) == 0.5
            for k in rank_mod.WEIGHTS
        ]
    )


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
    return weights, {"source": 1.0, "test": 0.1, "doc": 0.1, "other": 0.3}


def fit(rows: list[dict], rounds: int = 3) -> Weights:
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


SAMPLES, SEED, BAG_ROUNDS = 50, 1, 2


def bagged_fit(rows: list[dict], samples: int = SAMPLES, seed: int = SEED) -> Weights:
    """The median of ``fit`` over *samples* bootstrap resamples of *rows*, rounded to the
    grid: one search follows a handful of instances where a weight tips them, the median
    keeps what most resamples agree on, so it barely moves when a repository is left out."""
    rng = np.random.default_rng(seed)
    fits = [
        fit([rows[i] for i in rng.integers(0, len(rows), len(rows))], BAG_ROUNDS)
        for _ in range(samples)
    ]
    weights = {
        k: _on_grid([w[k] for w, _ in fits], SIZE_GRID if k == "size" else GRID) for k in fits[0][0]
    }
    priors = {k: _on_grid([p[k] for _, p in fits], PRIOR_GRID) for k in fits[0][1]}
    priors["source"] = 1.0  # the scale the others are relative to; never searched
    return weights, priors


def _on_grid(values: list[float], grid: tuple[float, ...]) -> float:
    median = float(np.median(values))
    return min(grid, key=lambda g: abs(g - median))


def leave_one_repo_out(
    rows: list[dict], fitter: Callable[[list[dict]], Weights] = bagged_fit
) -> tuple[np.ndarray, dict[str, Weights]]:
    """Held-out rank of every row (in row order), each ranked by weights fitted by *fitter*
    without its repository; and per repository the weights and priors that ranked it."""
    held = np.zeros(len(rows))
    fitted: dict[str, Weights] = {}
    for repo in sorted({r["repo"] for r in rows}):
        fitted[repo] = fitter([r for r in rows if r["repo"] != repo])
        idx = [i for i, r in enumerate(rows) if r["repo"] == repo]
        held[idx] = ranks([rows[i] for i in idx], *fitted[repo])
    return held, fitted


def _line(name: str, rk: np.ndarray) -> str:
    f = figures(rk)
    accs = " ".join(f"{f[f'acc@{k}']:5.1f}" for k in (1, 3, 5, 10))
    return f"  {name:<22} Acc@1/3/5/10 {accs}   MRR {f['mrr']:5.1f}   (n={len(rk)})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--refresh", action="store_true", help="recompute the signals")
    parser.add_argument("--single", action="store_true", help="one search, no bootstrap")
    args = parser.parse_args(argv)
    rows = load_features(args.refresh)
    fitter: Callable[[list[dict]], Weights] = fit if args.single else bagged_fit

    print("== current weights (bot/context/rank.py)")
    print(_line("in-sample", ranks(rows, rank_mod.WEIGHTS, rank_mod.PRIORS)))
    print(_line("neutral start", ranks(rows, *neutral())))
    weights, priors = fitter(rows)
    print(f"== fitted on all instances ({'one search' if args.single else 'bagged'})")
    print(f"  WEIGHTS = {weights}\n  PRIORS = {priors}")
    print(_line("in-sample", ranks(rows, weights, priors)))

    held, fitted = leave_one_repo_out(rows, fitter)
    print("== leave one repository out (fit on seven, rank the eighth)")
    for repo, (w, p) in fitted.items():
        rk = held[[i for i, r in enumerate(rows) if r["repo"] == repo]]
        changed = {k: v for k, v in {**w, **p}.items() if v != {**weights, **priors}[k]}
        print(_line(repo, rk) + f"   differs: {changed}")
    print(_line("pooled held-out", held))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
