"""Hostile inputs shared by unit and e2e tests (repository YAML, issue bodies, templates)."""

from __future__ import annotations


def alias_bomb(key: str = "max_tasks_per_issue") -> str:
    """Eight levels of nine aliases: ~330 bytes that print as ~300 MB (9**8 items)."""
    lines = ["a: &a [x,x,x,x,x,x,x,x,x]"]
    for prev, name in zip("abcdefg", "bcdefgh", strict=True):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    return "\n".join([*lines, f"{key}: *h"]) + "\n"


def deep(levels: int) -> str:
    return "trigger_label: " + "[" * levels + "x" + "]" * levels + "\n"


def many_items(count: int, deps: int) -> str:
    """A task list of `count` items, each naming the `deps` items before it as dependencies
    (the shape that made the cycle check search millions of paths)."""
    lines = ["## Tasks"]
    for n in range(1, count + 1):
        before = ", ".join(str(d) for d in range(max(1, n - deps), n)) or "nothing"
        lines.append(f"- [ ] Add operation {n}, after tasks {before}.")
    return "\n".join(lines) + "\n"


# Jinja that stays small as text and does not stay small as work: appended to a built-in
# template, each makes an override that passes every other check.
NESTED_LOOPS = "{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}"
NESTED_LOOPS_WITH_OUTPUT = (
    "{% for a in range(100000) %}{% for b in range(100000) %}x{% endfor %}{% endfor %}"
)
