"""`issuewright check`, the pure parts: one result per setting, and the rules that need no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

# Seconds each network check waits at most: a service that hangs is a failed line, not a hung
# command.
NETWORK_TIMEOUT = 5.0
# Hosts a browser and GitHub's manifest flow accept over plain http: this machine only.
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


@dataclass(frozen=True)
class Check:
    """One line of `issuewright check`: what was checked, whether it passed, what was found,
    and (when it failed) what to do. Never holds a secret: callers scrub `detail`."""

    name: str
    ok: bool
    detail: str
    hint: str = ""

    def as_json(self) -> dict[str, object]:
        return {"name": self.name, "ok": self.ok, "detail": self.detail, "hint": self.hint}


def public_url_problem(url: str) -> str | None:
    """None when PUBLIC_URL looks reachable: an absolute http(s) URL with a host, https unless
    the host is this machine (GitHub only delivers webhooks to a public https address)."""
    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018 (raises ValueError on a port that is not a number)
    except ValueError:
        return "is not a URL"
    if parts.scheme not in ("http", "https"):
        return "must start with https:// (or http:// for localhost)"
    host = (parts.hostname or "").lower()
    if not host:
        return "has no host name"
    local = host in LOCAL_HOSTS or host.endswith(".localhost")
    if parts.scheme == "http" and not local:
        return "must use https:// (plain http is for localhost only: webhooks carry secrets)"
    if parts.query or parts.fragment:
        return "must not have a query or fragment (the app appends /webhooks/github to it)"
    return None


def model_names(default_model: str | None, models: tuple[str, ...]) -> list[str]:
    """The models an endpoint offers by name, once each, the default first (`*` is no name)."""
    names = [m for m in (default_model, *models) if m and m != "*"]
    return list(dict.fromkeys(names))
