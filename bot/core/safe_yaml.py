"""YAML from repositories, read with limits: size, nesting depth, no anchors or aliases.

Repository files (`.github/issuewright.yml`, prompt override front matter) are written by
anyone with write access. PyYAML's safe loader still expands aliases (a few hundred bytes of
nested `&a`/`*a` become hundreds of megabytes once printed), recurses once per nesting level
(`RecursionError` at a few hundred levels) and turns huge digit strings into ints. Here every
such file is refused before it costs anything, and every failure is one short sentence
(`YamlRefused`), never an exception of another kind. Pure: no I/O.
"""

from __future__ import annotations

from typing import Any

import yaml

MAX_BYTES = 64 * 1024  # configuration, not data: far above any real file
MAX_DEPTH = 32  # mappings and lists inside each other
SHOWN_CHARS = 40  # how much of a user's value a message repeats


class YamlRefused(ValueError):
    """The text is not usable YAML within the limits. The message says why in one short
    line that reads after the file's name: "… is not UTF-8 text"."""


def brief(value: object, limit: int = SHOWN_CHARS) -> str:
    """`repr(value)` cut to `limit` characters, for messages that echo a user's value.

    Containers are summarised without building their whole repr (which is what makes an
    expanded alias expensive), strings are cut before repr."""
    if isinstance(value, dict):
        return f"a mapping of {len(value)} key(s)"
    if isinstance(value, list | tuple | set):
        return f"a list of {len(value)} item(s)"
    if isinstance(value, str) and len(value) > limit:
        value = value[:limit]
        return repr(value)[:-1] + "…" + repr(value)[-1]
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


class _BoundedLoader(yaml.SafeLoader):
    """SafeLoader whose composer refuses aliases and counts depth before recursing."""

    def __init__(self, stream: str, max_depth: int) -> None:
        super().__init__(stream)
        self._depth = 0
        self._max_depth = max_depth

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            raise YamlRefused("uses an alias (`*name`); anchors and aliases are not allowed")
        self._depth += 1
        if self._depth > self._max_depth:
            raise YamlRefused(f"nests lists or mappings more than {self._max_depth} deep")
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def _yaml_reason(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
    problem = getattr(exc, "problem", None) or "invalid YAML"
    # A problem can quote the file (a tag name, a character): keep it short.
    problem = " ".join(str(problem).split())
    if len(problem) > 80:
        problem = problem[:79] + "…"
    return f"is not valid YAML{where}: {problem}"


def load_yaml(text: str | bytes, *, max_bytes: int = MAX_BYTES, max_depth: int = MAX_DEPTH) -> Any:
    """One YAML document as Python values; raise YamlRefused with the reason otherwise."""
    if isinstance(text, bytes):
        if len(text) > max_bytes:
            raise YamlRefused(f"is {len(text):,} bytes, over the {max_bytes:,}-byte limit")
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            raise YamlRefused("is not UTF-8 text") from None
    size = len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))
    if size > max_bytes:
        raise YamlRefused(f"is {size:,} bytes, over the {max_bytes:,}-byte limit")
    if "\ufffd" in text:  # what a reader that replaced undecodable bytes leaves behind
        raise YamlRefused("is not UTF-8 text")
    loader = None
    try:
        loader = _BoundedLoader(text, max_depth)  # the reader checks characters here
        return loader.get_single_data()
    except YamlRefused:
        raise
    except yaml.YAMLError as exc:
        raise YamlRefused(_yaml_reason(exc)) from None
    except RecursionError:
        raise YamlRefused(f"nests more than {max_depth} deep") from None
    except Exception as exc:  # MemoryError, ValueError (a 5,000-digit int), …: never raise
        raise YamlRefused(f"could not be read ({type(exc).__name__})") from None
    finally:
        if loader is not None:
            loader.dispose()
