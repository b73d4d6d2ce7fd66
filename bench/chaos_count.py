"""The chaos benchmark's tally: what the sender saw, what the stand-in saw and what the
database holds, counted against one `/issuewright help` command per delivery.

Each delivery carries one person's comment; acting on it is, visibly: 👀 and 🚀 on the
comment and one reply carrying the hidden marker `issuewright:reply:comment:<id>:…`. The
tally trusts nothing the app says about itself: a reply is any comment by the App that names
the command's comment in its marker, a reaction is a write the stand-in answered 201.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from bot.report.reply_once import reply_marker

FAILURES = ("lost", "duplicated", "missing", "incomplete", "stuck", "unexpected", "unacknowledged")
_REACTION = re.compile(r"^/repos/[^/]+/[^/]+/issues/comments/(\d+)/reactions$")
_TOKEN = re.compile(r"^/app/installations/\d+/access_tokens$")
_REPLY = re.compile(r"issuewright:reply:comment:(\d+):")
EXPECTED_REACTIONS = ("eyes", "rocket")


@dataclass
class Sent:
    """One delivery as the sender knows it: every answer it got (0: no answer at all)."""

    delivery_id: str
    comment_id: int
    statuses: list[int] = field(default_factory=list)

    @property
    def acknowledged(self) -> bool:
        return any(200 <= s < 300 for s in self.statuses)


@dataclass
class Tally:
    lost: int = 0  # acknowledged with a 2xx, never answered
    duplicated: int = 0  # a reply or a reaction made more than once for one command
    missing: int = 0  # stored in the database, never answered
    incomplete: int = 0  # answered, but without its 👀 or 🚀
    stuck: int = 0  # jobs neither done nor dead at the end
    unexpected: int = 0  # writes a help command never makes, replies to no command
    unacknowledged: int = 0  # deliveries never accepted however often they were re-sent
    info: dict[str, int] = field(default_factory=dict)
    examples: list[str] = field(default_factory=list)  # a few of what was counted, to look into

    def example(self, what: str) -> None:
        if len(self.examples) < 20:
            self.examples.append(what)

    @property
    def failed(self) -> bool:
        return any(getattr(self, name) for name in FAILURES)


def replies_by_command(effects: dict[str, Any]) -> tuple[Counter[int], int]:
    """How many replies the App posted per command comment, and how many name none."""
    per_command: Counter[int] = Counter()
    strays = 0
    for comment in effects["comments"]:
        if comment["user"] != effects["bot"]:
            continue
        named = {int(m) for m in _REPLY.findall(comment["body"] or "")}
        if len(named) != 1:
            strays += 1
            continue
        per_command[named.pop()] += 1
    return per_command, strays


def reactions_by_command(
    effects: dict[str, Any],
) -> tuple[Counter[tuple[int, str]], int, list[str]]:
    """Reactions created per (comment, content); repeated calls GitHub answered 200 (it
    keeps one reaction per person and content); and every other write."""
    created: Counter[tuple[int, str]] = Counter()
    repeated = 0
    others: list[str] = []
    for write in effects["writes"]:
        found = _REACTION.match(write["path"]) if write["method"] == "POST" else None
        if found:
            key = (int(found.group(1)), (write["body"] or {}).get("content", ""))
            if write["status"] == 201:
                created[key] += 1
            elif write["status"] == 200:
                repeated += 1
        elif not (write["method"] == "POST" and _TOKEN.match(write["path"])) and not (
            write["method"] == "POST" and write["path"].endswith("/comments")
        ):
            others.append(f"{write['method']} {write['path']} answered {write['status']}")
    return created, repeated, others


def tally(
    sent: list[Sent],
    effects: dict[str, Any],
    stored: dict[str, str],
    jobs: list[tuple[str | None, str]],
) -> Tally:
    """`stored`: delivery id → its status in the database; `jobs`: (delivery id, status) of
    every job."""
    replies, strays = replies_by_command(effects)
    created, repeated, other_writes = reactions_by_command(effects)
    commands = {s.comment_id for s in sent}
    result = Tally()
    for s in sent:
        answered = replies[s.comment_id] > 0
        reactions = {c: created[(s.comment_id, c)] for c in EXPECTED_REACTIONS}
        counted = {
            "unacknowledged": not s.acknowledged,
            "lost": s.acknowledged and not answered,
            "missing": s.delivery_id in stored and not answered,
            "duplicated": max(0, replies[s.comment_id] - 1)
            + sum(max(0, n - 1) for n in reactions.values()),
            "incomplete": answered and not all(reactions.values()),
        }
        for name, n in counted.items():
            setattr(result, name, getattr(result, name) + int(n))
            if n:
                result.example(
                    f"{name}: delivery {s.delivery_id} (comment {s.comment_id}): answers "
                    f"{s.statuses}, {replies[s.comment_id]} replies, reactions {reactions}, "
                    f"stored {stored.get(s.delivery_id)}"
                )
    unexpected = [f"a reply to no command: comment {cid}" for cid in replies if cid not in commands]
    unexpected += ["an App comment naming no command"] * strays
    unexpected += [
        f"reaction {content!r} created {n}x on comment {cid}"
        for (cid, content), n in created.items()
        if cid not in commands or content not in EXPECTED_REACTIONS
    ]
    unexpected += other_writes
    # Every write the stand-in answered is in `writes`: labels, PRs, check runs, edits…
    result.unexpected = len(unexpected)
    for what in unexpected:
        result.example(f"unexpected: {what}")
    stuck = [(d, status) for d, status in jobs if status not in {"done", "dead"}]
    result.stuck = len(stuck)
    for delivery_id, status in stuck:
        result.example(f"stuck: the job of delivery {delivery_id} is {status}")
    per_delivery = Counter(d for d, _ in jobs if d)
    result.info = {
        "deliveries": len(sent),
        "stored": len(stored),
        "replies": sum(replies.values()),
        "reactions created": sum(created.values()),
        "reaction calls repeated (GitHub keeps one)": repeated,
        "jobs": len(jobs),
        "jobs dead": sum(1 for _, status in jobs if status == "dead"),
        "deliveries queued twice": sum(1 for n in per_delivery.values() if n > 1),
        "answers 2xx": sum(1 for s in sent for st in s.statuses if 200 <= st < 300),
        "answers 503": sum(1 for s in sent for st in s.statuses if st == 503),
        "no answer (connection refused, reset, timeout)": sum(
            1 for s in sent for st in s.statuses if st == 0
        ),
        "stand-in errors": int(effects.get("server_errors", 0))
        + len(effects.get("violations", [])),
        "requests cut by a dying caller (not acted on)": int(effects.get("cut_requests", 0)),
    }
    return result


def expected_marker(comment_id: int) -> str:
    """The marker of the help reply to a comment (as the App writes it)."""
    return reply_marker(f"comment:{comment_id}:help")
