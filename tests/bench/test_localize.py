"""The localization benchmark's table: the shipped weights, the in-sample and the
leave-one-repository-out refits and plain BM25 side by side, each figure counted from the
per-instance ranks and packs; and the gold lines an instance needs in context."""

from __future__ import annotations

import pytest

from bench.localize import gold_requirements, in_context, report

PATCH = """diff --git a/pkg/core.py b/pkg/core.py
--- a/pkg/core.py
+++ b/pkg/core.py
@@ -10,3 +10,4 @@ def run():
     a = 1
-    b = 2
+    b = 3
+    c = 4
     return a
"""


def _row(i: str, repo: str, rank: int, loro: int, bm25: int, ctx16: bool) -> dict:
    return {
        "id": i, "repo": repo, "gold": "pkg/core.py", "title": "t",
        "rank": rank, "ctx": [False, ctx16, True],
        "refit_rank": rank, "refit_ctx": [False, ctx16, True],
        "loro_rank": loro, "loro_ctx": [False, False, True],
        "bm25_rank": bm25, "bm25_ctx": [False, False, False],
        "t_total": 0.5, "cpu": 0.25, "t_rank": 0.1,
    }  # fmt: skip


def test_headline_puts_shipped_refits_and_bm25_side_by_side(
    capsys: pytest.CaptureFixture[str],
) -> None:
    rows = [_row("a", "o/x", 1, 1, 4, True), _row("b", "o/y", 3, 7, 20, False)]
    refit = {
        name: {
            r["id"]: {
                "rank": r[f"{name}_rank"],
                "ctx": r[f"{name}_ctx"],
                "weights": {"bm25": 2.0},
            }
            for r in rows
        }
        for name in ("refit", "loro")
    }
    report(rows, refit)
    out = capsys.readouterr().out
    head = out.split("== overall (2 instances)\n")[1].splitlines()
    assert head[0].split()[:3] == ["Acc@1", "Acc@5", "ctx@16k"]
    assert head[1].split()[:5] == ["shipped", "(rank.py)", "50.0", "100.0", "50.0"]
    assert "0.50s wall, 0.25s CPU" in head[1]
    assert head[2].split() == ["refit,", "in-sample", "50.0", "100.0", "50.0"]
    assert head[3].split() == ["refit,", "LORO", "50.0", "50.0", "0.0"]
    assert head[4].split() == ["bm25", "0.0", "50.0", "0.0"]


def test_gold_lines_are_the_removed_ones_and_an_insertion_anchor() -> None:
    reqs = gold_requirements(PATCH)
    assert reqs == {"pkg/core.py": [{11}]}  # `+ c = 4` follows a removal: no anchor of its own
    assert in_context(reqs, [("pkg/core.py", 5, 11)])
    assert not in_context(reqs, [("pkg/core.py", 12, 40), ("pkg/other.py", 1, 99)])
