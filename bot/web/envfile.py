"""Write the GitHub App's credentials into a `.env` file, keeping everything else in it.

Values are written bare when safe, else double-quoted with `\\`, `"` and newlines escaped (a
PEM becomes one line with `\\n`), which python-dotenv and `Settings.from_env` both read back.
Earlier assignments to the replaced keys are dropped, multi-line quoted values included. The
file is replaced atomically and left at mode 0600.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Iterable
from pathlib import Path

CREDENTIAL_KEYS = ("APP_ID", "PRIVATE_KEY", "PRIVATE_KEY_PATH", "WEBHOOK_SECRET")
# PRIVATE_KEY_PATH is dropped on a confirmed replace so no stale key file lingers in .env.
REPLACED_KEYS = (*CREDENTIAL_KEYS, "CLIENT_ID", "CLIENT_SECRET", "APP_SLUG")
_BARE_VALUE = re.compile(r"[A-Za-z0-9._:/+=@-]*")
_ASSIGNMENT = re.compile(r"\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)")


def _env_value(value: str) -> str:
    if _BARE_VALUE.fullmatch(value):
        return value
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped.replace(chr(13), "")}"'


def _closes(text: str, quote_char: str) -> bool:
    """Does `text` hold an unescaped closing quote?"""
    return re.search(r"(?:^|[^\\])(?:\\\\)*" + re.escape(quote_char), text) is not None


def _lines_without(text: str, keys: Iterable[str]) -> list[str]:
    """Lines of a .env minus the assignments to `keys`, including multi-line quoted values."""
    drop, kept, open_quote = set(keys), [], ""
    for line in text.splitlines():
        if open_quote:
            open_quote = "" if _closes(line, open_quote) else open_quote
            continue
        match = _ASSIGNMENT.fullmatch(line)
        if match and match.group(1) in drop:
            value = match.group(2)
            if value[:1] in ("'", '"') and not _closes(value[1:], value[0]):
                open_quote = value[0]
            continue
        kept.append(line)
    return kept


def write_env(path: Path, values: dict[str, str], note: str) -> None:
    """Replace `values` (and the other REPLACED_KEYS) in the .env, keep every other line, and
    leave the file at mode 0600 even if it was readable by others before."""
    path = path.resolve()  # write through a symlinked .env, not over the link
    path.parent.mkdir(parents=True, exist_ok=True)
    old = path.read_text() if path.exists() else ""
    lines = _lines_without(old, REPLACED_KEYS)
    while lines and not lines[-1].strip():
        lines.pop()
    block = [f"# {note}", *(f"{k}={_env_value(v)}" for k, v in values.items())]
    text = "\n".join([*lines, "", *block] if lines else block) + "\n"
    temp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.fchmod(fd, 0o600)  # the umask may only narrow os.open's mode; make it exact
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)  # atomic: a crash never leaves half a .env
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
