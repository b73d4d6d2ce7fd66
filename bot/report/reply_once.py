"""Replies the app posts in answer to a delivery or a command, posted at most once.

A job can run again after it already replied (killed after the call, its lease expired;
a database blip before its completion was recorded). Each reply carries a hidden marker
derived from what caused it (the command's comment id, or the delivery id, and the action),
and is looked up by that marker, among the app's own comments, before one is created.
"""

from __future__ import annotations

import re

from bot.github.models import Comment
from bot.repo.access import RepoAccess

_UNSAFE = re.compile(r"[^A-Za-z0-9:._-]")


def reply_marker(key: str) -> str:
    """The hidden marker for `key` (e.g. "comment:123:help"); only safe characters, so
    nothing in it can end the HTML comment early."""
    return f"<!-- issuewright:reply:{_UNSAFE.sub('_', key)} -->"


async def reply_once(repo: RepoAccess, number: int, key: str, body: str) -> Comment:
    """Post `body` on issue or PR `number` unless the app already posted the reply for
    `key` there; returns the reply either way."""
    marker = reply_marker(key)
    bot = repo.ctx.require_github().bot_login
    existing = await repo.api.find_comment(repo.owner, repo.name, number, marker, author=bot)
    if existing is not None:
        return existing
    return await repo.api.create_comment(repo.owner, repo.name, number, f"{body}\n\n{marker}")
