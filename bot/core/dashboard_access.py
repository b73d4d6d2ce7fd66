"""Who sees what on the dashboard, and how long a login lasts: pure rules, no I/O.

A person sees an installation and a repository only when GitHub says, to their own user token,
that they can push to it (`permissions.push` on `GET /user/installations/{id}/repositories`);
an operator named in ADMIN_LOGINS sees everything. Decided once at login and kept in the
signed session, so a page never calls GitHub; a session lasts `SESSION_MAX_AGE_SECONDS`, after
which the person logs in again and what they may see is read afresh."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

SESSION_MAX_AGE_SECONDS = 8 * 3600  # a GitHub App user token's own lifetime


@dataclass(frozen=True)
class Viewer:
    """The person logged in, and what GitHub lets them push to."""

    login: str
    admin: bool
    installation_ids: frozenset[int] = frozenset()
    repository_ids: frozenset[int] = frozenset()

    def sees_installation(self, installation_id: int | None) -> bool:
        return self.admin or (
            installation_id is not None and installation_id in self.installation_ids
        )

    def sees_repository(self, repository_id: int | None) -> bool:
        return self.admin or (repository_id is not None and repository_id in self.repository_ids)

    def to_session(self, issued_at: float) -> dict[str, Any]:
        return {
            "login": self.login,
            "admin": self.admin,
            "installations": sorted(self.installation_ids),
            "repositories": sorted(self.repository_ids),
            "issued_at": issued_at,
        }

    @classmethod
    def from_session(cls, data: Mapping[str, Any], now: float) -> Viewer | None:
        """The viewer a session holds, or None when it holds none or has expired."""
        login, issued_at = data.get("login"), data.get("issued_at")
        if not isinstance(login, str) or not isinstance(issued_at, int | float):
            return None
        if session_expired(issued_at, now):
            return None
        return cls(
            login,
            bool(data.get("admin")),
            frozenset(int(i) for i in data.get("installations") or ()),
            frozenset(int(r) for r in data.get("repositories") or ()),
        )


def session_expired(issued_at: float, now: float, max_age: float = SESSION_MAX_AGE_SECONDS) -> bool:
    """A session is good from its login for `max_age` seconds; one from the future (a clock
    set back, a forged time) is not trusted either."""
    return not (issued_at <= now < issued_at + max_age)


def is_admin(login: str, admin_logins: Iterable[str]) -> bool:
    """GitHub logins are case-insensitive."""
    return login.lower() in {a.lower() for a in admin_logins}


def writable_repositories(repositories: Iterable[Mapping[str, Any]]) -> dict[int, str]:
    """id → full name of the repositories (GitHub's repository objects, as the user's token
    lists them) the person can push to; a missing or false `permissions.push` is no access."""
    found: dict[int, str] = {}
    for repo in repositories:
        permissions = repo.get("permissions")
        if isinstance(permissions, Mapping) and permissions.get("push") is True:
            found[int(repo["id"])] = str(repo.get("full_name", ""))
    return found


def viewer_for(
    login: str,
    admin_logins: Iterable[str],
    repositories_by_installation: Mapping[int, Iterable[Mapping[str, Any]]],
) -> Viewer:
    """The viewer for a person given, per installation, the repositories their token lists:
    an installation is seen when at least one of its repositories is writable."""
    installations: set[int] = set()
    repositories: set[int] = set()
    for installation_id, repos in repositories_by_installation.items():
        writable = writable_repositories(repos)
        if writable:
            installations.add(installation_id)
            repositories.update(writable)
    return Viewer(
        login, is_admin(login, admin_logins), frozenset(installations), frozenset(repositories)
    )


# While a task is in one of these, its page reloads itself to show the progress.
LIVE_STATES = frozenset({"queued", "generating", "fixing", "checks_running"})


def page_is_live(task_states: Mapping[str, int]) -> bool:
    """Whether a page showing tasks in these states (state → count) should reload itself."""
    return any(count and state in LIVE_STATES for state, count in task_states.items())
