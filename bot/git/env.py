"""The environment of every git process the app runs.

Git reads configuration and attributes from the host as well as from the repository: the
system files (/etc/gitconfig, /etc/gitattributes), the user's (~/.gitconfig,
~/.config/git/config and attributes) and GIT_* variables (GIT_CONFIG_PARAMETERS,
GIT_DIR, GIT_SSL_NO_VERIFY, …). A filter driver defined there (`filter.lfs`, or any
`filter.<name>.clean = some command`) runs on the server for every repository whose
`.gitattributes` names it, so a tenant's repository could pick a command from the operator's
own setup. The app's git therefore sees none of it: no system or global configuration, a
HOME of its own that holds nothing, no GIT_* variable from the operator, and only the
settings the app passes (through GIT_CONFIG_COUNT/KEY/VALUE, never argv, so a token among
them stays out of `ps`).
"""

from __future__ import annotations

import atexit
import functools
import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

# Besides every GIT_* variable: what points git (or ssh/curl under it) at the operator's
# own configuration, prompts or credentials.
_DROPPED = frozenset({"HOME", "XDG_CONFIG_HOME", "SSH_ASKPASS", "EMAIL"})

# Hooks never run on the bot's host, user credential helpers are not consulted, and a host
# that signs commits by default does not make every bot commit fail. System and global
# configuration are not read at all (_FIXED); the attributes and ignore files are named
# anyway so that no rules from outside the repository apply to its checkout.
BASE_CONFIG = (
    ("core.hooksPath", "/dev/null"),
    ("credential.helper", ""),
    ("commit.gpgSign", "false"),
    ("gc.auto", "0"),
    ("core.attributesFile", "/dev/null"),
    ("core.excludesFile", "/dev/null"),
)

_FIXED = {
    "GIT_CONFIG_NOSYSTEM": "1",  # no /etc/gitconfig
    "GIT_CONFIG_SYSTEM": os.devnull,  # the same, for git versions that prefer this one
    "GIT_CONFIG_GLOBAL": os.devnull,  # no ~/.gitconfig, no $XDG_CONFIG_HOME/git/config
    "GIT_ATTR_NOSYSTEM": "1",  # no system-wide gitattributes
    "GIT_TERMINAL_PROMPT": "0",  # a missing credential fails instead of waiting for a tty
}


@functools.cache
def _home() -> Path:
    # One private, empty folder per process (0700): nothing git or curl could read from a
    # HOME (~/.config/git/attributes, ~/.netrc, ~/.ssh/config) exists in it.
    home = tempfile.mkdtemp(prefix="issuewright-git-home-")
    atexit.register(shutil.rmtree, home, ignore_errors=True)
    return Path(home)


def git_home() -> Path:
    home = _home()
    if not home.is_dir():  # removed by a tmp cleaner while the process runs
        _home.cache_clear()
        home = _home()
    return home


def git_environment(
    config: Sequence[tuple[str, str]], extra: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The environment for one git process: the host's minus its git settings, the app's
    `config` as GIT_CONFIG_COUNT/KEY/VALUE, then the app's own `extra` variables (identity,
    an index file). `extra` comes from the app, never from the operator's environment."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("GIT_") and key not in _DROPPED
    }
    home = git_home()
    env.update(_FIXED, HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"))
    env.update(extra or {})
    env["GIT_CONFIG_COUNT"] = str(len(config))
    for i, (key, value) in enumerate(config):
        env[f"GIT_CONFIG_KEY_{i}"], env[f"GIT_CONFIG_VALUE_{i}"] = key, value
    return env
