"""Every real issue in tests/fixtures/issues/ gets the plan a maintainer would accept
(its `expect`: task count, done items, criteria, and where given type, titles, grouping)."""

from __future__ import annotations

from typing import Any

import pytest

from bench.plan_shapes import MAX_TASKS, expected, figures, load_fixtures
from bot.core.decompose import decompose

CASES = load_fixtures()
# Known wrong, kept to be honest about the rules' reach: six checklist lines that all
# describe one roadmap document are planned as six tasks.
KNOWN_WRONG = {"autspaces-33"}


def test_the_collection_covers_every_shape() -> None:
    shapes = {c["shape"] for c in CASES}
    assert len(CASES) >= 30
    assert {"bug_template", "bug_prose", "roadmap", "meta", "criteria", "feature"} <= shapes


@pytest.mark.parametrize(
    "case",
    [
        pytest.param(c, marks=pytest.mark.xfail(strict=True)) if c["name"] in KNOWN_WRONG else c
        for c in CASES
    ],
    ids=[c["name"] for c in CASES],
)
def test_real_issue_gets_the_expected_plan(case: dict[str, Any]) -> None:
    result = decompose(
        case["title"], case["body"], case["labels"], "octo/repo", 1, max_tasks=MAX_TASKS
    )
    assert figures(result, case["expect"]) == expected(case["expect"])
    assert result.reasons, "every plan says why it split or did not"
