"""Who may steer the app on a repository: write, maintain or admin permission, and the one
reply people without it get."""

from __future__ import annotations

from bot.repo.access import RepoAccess

WRITE_ROLES = {"admin", "maintain", "write"}


async def may_command(repo: RepoAccess, login: str) -> bool:
    return await repo.api.permission(repo.owner, repo.name, login) in WRITE_ROLES


def denied_message(login: str) -> str:
    return (
        f"@{login} only people with write, maintain or admin permission on this repository can "
        f"start or steer Issuewright. <!-- issuewright:denied:{login} -->"
    )


async def reply_denied(
    repo: RepoAccess, number: int, login: str, comment_id: int | None = None
) -> None:
    """😕 and one short reply (never repeated for the same person on the same issue)."""
    if comment_id is not None:
        await repo.api.react_to_comment(repo.owner, repo.name, comment_id, "confused")
    else:
        await repo.api.react_to_issue(repo.owner, repo.name, number, "confused")
    marker = f"<!-- issuewright:denied:{login} -->"
    bot = repo.ctx.require_github().bot_login
    if await repo.api.find_comment(repo.owner, repo.name, number, marker, author=bot) is None:
        await repo.api.create_comment(repo.owner, repo.name, number, denied_message(login))
