"""Installation lifecycle as people drive it in GitHub's settings, with its webhooks:
`installation` (created, suspend, unsuspend, deleted) and `installation_repositories`."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from . import events
from .state import Installation, Repo, now_iso

if TYPE_CHECKING:
    from .state import SimState


class InstallActs:
    """Mixin of `GitHubSimulator`."""

    state: SimState

    def create_installation(
        self, account: str, *, repositories: Iterable[str] | None = None, type: str = "User"
    ) -> Installation:
        raise NotImplementedError

    def repo(self, full_name: str) -> Repo:
        raise NotImplementedError

    def _emit(self, event: str, payload: dict[str, Any]) -> None:
        raise NotImplementedError

    async def flush(self, *, raise_errors: bool = True) -> None:
        raise NotImplementedError

    async def install(
        self,
        account: str,
        *,
        repositories: Iterable[str] | None = None,
        type: str = "User",
        sender: str | None = None,
    ) -> Installation:
        """Install the app (all repositories, or `repositories`): `installation.created`."""
        inst = self.create_installation(account, repositories=repositories, type=type)
        who = self.state.user(sender or account)
        self._emit("installation", events.installation(self, inst, "created", who))  # type: ignore[arg-type]
        await self.flush()
        return inst

    async def change_repositories(
        self,
        installation_id: int,
        *,
        add: Iterable[str] = (),
        remove: Iterable[str] = (),
        sender: str | None = None,
    ) -> None:
        """Grant / withdraw repositories ("owner/name"): `installation_repositories.added`
        or `.removed` (the installation becomes "selected", as GitHub does)."""
        inst = self.state.installations[installation_id]
        added = [self.repo(name) for name in add]
        removed = [self.repo(name) for name in remove]
        if inst.repository_selection == "all":
            inst.repositories = {r.full_name for r in self.state.repos.values() if inst.covers(r)}
            inst.repository_selection = "selected"
        inst.repositories |= {r.full_name for r in added}
        inst.repositories -= {r.full_name for r in removed}
        who = self.state.user(sender or inst.account.login)
        action = "added" if added else "removed"
        payload = events.installation_repositories(self, inst, action, added, removed, who)  # type: ignore[arg-type]
        self._emit("installation_repositories", payload)
        await self.flush()

    async def suspend(self, installation_id: int, sender: str | None = None) -> None:
        await self._lifecycle(installation_id, "suspend", sender)

    async def unsuspend(self, installation_id: int, sender: str | None = None) -> None:
        await self._lifecycle(installation_id, "unsuspend", sender)

    async def uninstall(self, installation_id: int, sender: str | None = None) -> None:
        """`installation.deleted`; the installation and its tokens are gone afterwards."""
        await self._lifecycle(installation_id, "deleted", sender)
        del self.state.installations[installation_id]
        for token in [t for t, i in self.state.tokens.items() if i == installation_id]:
            del self.state.tokens[token]

    async def _lifecycle(self, installation_id: int, action: str, sender: str | None) -> None:
        inst = self.state.installations[installation_id]
        if action == "suspend":
            inst.suspended_at = now_iso()
        elif action == "unsuspend":
            inst.suspended_at = None
        who = self.state.user(sender or inst.account.login)
        self._emit("installation", events.installation(self, inst, action, who))  # type: ignore[arg-type]
        await self.flush()
