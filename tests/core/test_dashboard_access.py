"""Who sees what on the dashboard and how long a login lasts (bot/core/dashboard_access.py)."""

from __future__ import annotations

from typing import Any

from bot.core.dashboard_access import (
    SESSION_MAX_AGE_SECONDS,
    Viewer,
    page_is_live,
    session_expired,
    viewer_for,
    writable_repositories,
)


def repo(id: int, name: str, **permissions: bool) -> dict[str, Any]:
    return {"id": id, "full_name": name, "permissions": permissions}


def test_only_repositories_with_push_permission_count() -> None:
    listed = [
        repo(1, "o/admin", admin=True, push=True, pull=True),
        repo(2, "o/write", admin=False, push=True, pull=True),
        repo(3, "o/triage", admin=False, push=False, triage=True, pull=True),
        repo(4, "o/read", admin=False, push=False, pull=True),
        {"id": 5, "full_name": "o/no-permissions-object"},
        repo(6, "o/truthy-string", push="yes"),  # type: ignore[arg-type]
    ]
    assert writable_repositories(listed) == {1: "o/admin", 2: "o/write"}


def test_an_installation_is_seen_only_through_a_writable_repository() -> None:
    who = viewer_for(
        "Octocat",
        admin_logins=(),
        repositories_by_installation={
            10: [repo(1, "a/x", push=True), repo(2, "a/y", push=False)],
            20: [repo(3, "b/z", push=False, pull=True)],
            30: [],
        },
    )
    assert not who.admin
    assert who.installation_ids == {10} and who.repository_ids == {1}
    assert who.sees_installation(10) and not who.sees_installation(20)
    assert who.sees_repository(1) and not who.sees_repository(2) and not who.sees_repository(3)
    assert not who.sees_repository(None) and not who.sees_installation(None)


def test_admin_logins_see_everything_whatever_the_case() -> None:
    who = viewer_for("Ops-Person", admin_logins=("ops-person",), repositories_by_installation={})
    assert who.admin and who.sees_installation(999) and who.sees_repository(None)
    assert not viewer_for("someone", ("ops-person",), {}).admin


def test_a_session_lasts_its_max_age_and_not_a_second_longer() -> None:
    issued = 1_000_000.0
    assert not session_expired(issued, issued)
    assert not session_expired(issued, issued + SESSION_MAX_AGE_SECONDS - 0.001)
    assert session_expired(issued, issued + SESSION_MAX_AGE_SECONDS)
    assert session_expired(issued, issued - 60)  # issued "in the future": not trusted
    assert session_expired(issued, issued + 11, max_age=10)


def test_the_viewer_round_trips_through_the_session_until_it_expires() -> None:
    who = Viewer("octocat", False, frozenset({10}), frozenset({1, 2}))
    data = who.to_session(issued_at=500.0)
    assert Viewer.from_session(data, now=500.0 + 60) == who
    assert Viewer.from_session(data, now=500.0 + SESSION_MAX_AGE_SECONDS) is None
    assert Viewer.from_session({}, now=0) is None
    assert Viewer.from_session({"login": "x", "issued_at": "soon"}, now=0) is None


def test_pages_reload_only_while_something_runs() -> None:
    assert page_is_live({"generating": 1, "failed": 2})
    assert page_is_live({"checks_running": 1}) and page_is_live({"queued": 3})
    assert not page_is_live({"failed": 1, "merged": 4, "pr_open": 1})
    assert not page_is_live({"generating": 0})
