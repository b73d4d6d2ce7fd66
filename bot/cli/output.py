"""How every command speaks when it fails: one line on stderr, `issuewright: error: …` (the
form argparse uses for a wrong argument), and exit status 2."""

from __future__ import annotations

import sys

PROG = "issuewright"


def fail(message: str) -> int:
    print(f"{PROG}: error: {message}", file=sys.stderr)
    return 2
