"""Hundreds of task items: the work before the cap is one scan, and the plan within the cap
needs no path search while dependencies only point backwards."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from bot.core import decompose as decompose_module
from bot.core.decompose import MAX_DEPENDENCIES, decompose
from tests.hostile import many_items


def counting(monkeypatch: pytest.MonkeyPatch, name: str) -> list[int]:
    calls = [0]
    real: Callable[..., Any] = getattr(decompose_module, name)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(decompose_module, name, wrapper)
    return calls


def test_over_the_cap_no_task_is_built(monkeypatch: pytest.MonkeyPatch) -> None:
    bodies, searches = counting(monkeypatch, "body_of"), counting(monkeypatch, "_reaches")
    result = decompose("t", many_items(600, 100), [], "o/r", 1, max_tasks=10)
    assert result.too_many and result.tasks == []
    assert result.message is not None and "600 open tasks" in result.message
    assert bodies == [0] and searches == [0]


def test_hundreds_of_items_within_the_cap_need_no_path_search(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    searches = counting(monkeypatch, "_reaches")
    result = decompose("t", many_items(400, 50), [], "o/r", 1, max_tasks=400)
    assert len(result.tasks) == 400 and not result.too_many
    assert searches == [0]
    assert result.tasks[-1].depends_on == list(range(350, 400))[:MAX_DEPENDENCIES]


def test_forward_edges_still_never_close_a_cycle() -> None:
    body = "## Tasks\n1. Add A after 3.\n2. Add B\n3. Add C after 1.\n"
    tasks = {t.ordinal: t.depends_on for t in decompose("t", body, [], "o/r", 1).tasks}
    assert tasks == {1: [3], 2: [1], 3: []}  # 3 → 1 would close 1 → 3 → 1


def test_the_path_search_visits_each_item_once() -> None:
    # A dense graph: 60 items, each linked to every earlier one (1,770 edges, ~2**58 paths).
    graph = {n: list(range(1, n)) for n in range(1, 61)}
    visited: list[int] = []

    class Recording(dict[int, list[int]]):
        def get(self, key: int, default: Any = None) -> Any:
            visited.append(key)
            return super().get(key, default)

    assert not decompose_module._reaches(Recording(graph), 60, 61)
    assert sorted(visited) == list(range(1, 61))
