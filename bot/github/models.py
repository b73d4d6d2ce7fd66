"""What GitHub answers, read leniently into small frozen dataclasses.

githubkit's strict models reject real payloads (see ARCHITECTURE.md), so each `of` reads
only the fields the bot uses from the raw JSON and defaults what may be absent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


def _login(obj: Any) -> str:
    return (obj or {}).get("login", "") if isinstance(obj, dict) else ""


@dataclass(frozen=True)
class Comment:
    id: int
    body: str
    user: str
    html_url: str

    @classmethod
    def of(cls, d: dict[str, Any]) -> Comment:
        return cls(d["id"], d.get("body") or "", _login(d.get("user")), d.get("html_url", ""))


@dataclass(frozen=True)
class Issue:
    number: int
    title: str
    body: str
    state: str
    user: str
    labels: tuple[str, ...]
    is_pull_request: bool
    html_url: str

    @classmethod
    def of(cls, d: dict[str, Any]) -> Issue:
        labels = tuple(x["name"] if isinstance(x, dict) else x for x in d.get("labels") or [])
        return cls(
            d["number"],
            d.get("title") or "",
            d.get("body") or "",
            d.get("state", "open"),
            _login(d.get("user")),
            labels,
            "pull_request" in d,
            d.get("html_url", ""),
        )


@dataclass(frozen=True)
class PullRequest:
    number: int
    state: str
    title: str
    body: str
    draft: bool
    merged: bool
    head_ref: str
    head_sha: str
    base_ref: str
    html_url: str
    user: str

    @classmethod
    def of(cls, d: dict[str, Any]) -> PullRequest:
        head, base = d.get("head") or {}, d.get("base") or {}
        return cls(
            d["number"],
            d.get("state", "open"),
            d.get("title") or "",
            d.get("body") or "",
            bool(d.get("draft")),
            _merged(d),
            head.get("ref", ""),
            head.get("sha", ""),
            base.get("ref", ""),
            d.get("html_url", ""),
            _login(d.get("user")),
        )


def _merged(d: dict[str, Any]) -> bool:
    # Lists (pull-request-simple) carry only `merged_at`; a full PR says `merged` outright.
    return bool(d["merged"]) if "merged" in d else d.get("merged_at") is not None


@dataclass(frozen=True)
class Repository:
    full_name: str
    default_branch: str
    clone_url: str
    html_url: str
    private: bool
    id: int | None = None  # GitHub's repository id (a name can be re-registered by others)


@dataclass(frozen=True)
class CheckRun:
    id: int
    name: str
    head_sha: str
    status: str
    conclusion: str | None
    app_slug: str
    details_url: str | None
    title: str | None
    summary: str | None

    @classmethod
    def of(cls, d: dict[str, Any]) -> CheckRun:
        output = d.get("output") or {}
        return cls(
            d["id"],
            d.get("name", ""),
            d.get("head_sha", ""),
            d.get("status", ""),
            d.get("conclusion"),
            (d.get("app") or {}).get("slug", ""),
            d.get("details_url"),
            output.get("title"),
            output.get("summary"),
        )


@dataclass(frozen=True)
class Annotation:
    path: str
    start_line: int
    end_line: int
    level: str | None
    title: str | None
    message: str | None

    @classmethod
    def of(cls, d: dict[str, Any]) -> Annotation:
        return cls(
            d.get("path", ""),
            d.get("start_line") or 0,
            d.get("end_line") or 0,
            d.get("annotation_level"),
            d.get("title"),
            d.get("message"),
        )


@dataclass(frozen=True)
class Review:
    id: int
    user: str
    state: str
    body: str
    commit_id: str | None

    @classmethod
    def of(cls, d: dict[str, Any]) -> Review:
        return cls(
            d["id"],
            _login(d.get("user")),
            d.get("state", ""),
            d.get("body") or "",
            d.get("commit_id"),
        )


@dataclass(frozen=True)
class ReviewComment:
    id: int
    user: str
    body: str
    path: str
    line: int | None

    @classmethod
    def of(cls, d: dict[str, Any]) -> ReviewComment:
        # `line` is null once the commented line is outdated; `original_line` still says where.
        return cls(
            d["id"],
            _login(d.get("user")),
            d.get("body") or "",
            d.get("path", ""),
            d.get("line") or d.get("original_line"),
        )
