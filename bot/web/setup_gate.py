"""Who may register the GitHub App through `/setup`: the person who can read the console.

`/setup` is served to anyone who reaches the server while it has no credentials, so reaching it
must not be enough. At start the server prints a one-time setup code on its console (as Jenkins
prints its initial admin password); it lives in this process only (never in the database or
`.env`), is entered in a POSTed form (never in a URL, which proxies and browsers log), and is
compared in constant time. Each registration it unlocks gets a manifest `state` bound to a
random HttpOnly cookie, so a callback from another browser or with a forged state is refused.
The gate closes the moment credentials are written; only a restart opens it again.
"""

from __future__ import annotations

import hmac
import logging
import re
import secrets
import sys
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)

STATE_TTL_SECONDS = 3600.0  # GitHub's manifest codes expire after an hour, so states may too
MAX_PENDING = 256  # bound what unlocked page views can make us keep
COOKIE = "issuewright_setup"
MAX_ENTERED = 200  # longer input is not a setup code; never normalise unbounded text
_SEPARATORS = re.compile(r"[\s-]+")


def new_setup_code() -> str:
    """128 random bits as 32 hex digits: unguessable online, easy to copy from a terminal."""
    return secrets.token_hex(16)


@dataclass(frozen=True)
class Pending:
    org: str | None
    force: bool
    browser: str  # the cookie value this state was handed out with
    created: float


class StateStore:
    """One random state per unlocked registration, kept in memory until its callback
    succeeds, it expires, or setup closes."""

    def __init__(self, ttl: float = STATE_TTL_SECONDS, clock: Callable[[], float] = time.monotonic):
        self.ttl, self.clock = ttl, clock
        self._pending: OrderedDict[str, Pending] = OrderedDict()

    def issue(self, org: str | None, force: bool) -> tuple[str, str]:
        """A new (state, cookie value) pair."""
        while len(self._pending) >= MAX_PENDING:
            self._pending.popitem(last=False)
        state, browser = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        self._pending[state] = Pending(org, force, browser, self.clock())
        return state, browser

    def get(self, state: str) -> Pending | None:
        pending = self._pending.get(state)
        if pending is not None and self.clock() - pending.created > self.ttl:
            del self._pending[state]
            return None
        return pending

    def discard(self, state: str) -> None:
        self._pending.pop(state, None)

    def clear(self) -> None:
        self._pending.clear()


def same_browser(pending: Pending, cookie: str | None) -> bool:
    """Was this state handed out to the browser presenting `cookie`? (constant time)"""
    return bool(cookie) and hmac.compare_digest(pending.browser.encode(), str(cookie).encode())


class SetupGate:
    """The setup code of this process, its pending states, and whether setup has closed.
    Tests pass a known `code`; the server lets it be generated."""

    def __init__(
        self, code: str | None = None, *, url: str = "/setup", states: StateStore | None = None
    ):
        self.code = code or new_setup_code()
        self.url = url  # where the operator opens setup; only used in the console line
        self.states = states or StateStore()
        self.completed: str | None = None  # what was registered, once credentials are written
        self.wrong_codes = 0

    @property
    def closed(self) -> bool:
        return self.completed is not None

    def accepts(self, entered: str | None) -> bool:
        """Is `entered` this process's setup code? Spaces, dashes and case are forgiven (it
        is read off a terminal); the comparison itself takes constant time."""
        given = _SEPARATORS.sub("", (entered or "")[:MAX_ENTERED]).lower()
        if given and hmac.compare_digest(given.encode(), self.code.lower().encode()):
            return True
        self.wrong_codes += 1
        if self.wrong_codes & (self.wrong_codes - 1) == 0:  # 1, 2, 4, 8…: a flood stays short
            log.warning("setup: %d wrong or missing setup code(s) entered so far", self.wrong_codes)
        return False

    def close(self, completed: str) -> None:
        """Credentials are written: refuse every further registration in this process."""
        self.completed = completed
        self.states.clear()

    def announce(self) -> None:
        """Print the code where only the operator sees it: the log at WARNING (stderr), or
        stderr itself when the log level hides warnings, since setup needs the code."""
        line = (
            f"setup is open: to register the GitHub App, open {self.url} and enter the "
            f"one-time setup code {self.code} (a new one at every start; it stops working "
            "once the App is registered)"
        )
        if log.isEnabledFor(logging.WARNING):
            log.warning("%s", line)
        else:
            print(f"issuewright: {line}", file=sys.stderr, flush=True)
