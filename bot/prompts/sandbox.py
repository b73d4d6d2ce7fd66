"""The Jinja sandbox repository prompt overrides render in, with a budget per render.

Jinja's `SandboxedEnvironment` stops attribute tricks, not work: two nested loops over
`range(100000)` run 10**10 steps, and `'x' * 10**10`, `ns.s = ns.s + ns.s` or `|center(10**9)`
allocate gigabytes. Here every loop step, call and operator counts against a step budget and a
deadline, strings and lists that operators, calls, namespaces and the output produce are
checked against a size budget before they are built where they can be, and a render past any
limit raises `RenderLimit` (the library then uses the built-in template and says why).

The checks are cooperative: they run between Jinja operations, so one operation on values
already inside the limits is the most that happens past a limit.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from jinja2 import Template, nodes
from jinja2.runtime import Context
from jinja2.sandbox import SandboxedEnvironment
from jinja2.utils import Namespace

MAX_SECONDS = 2.0  # per render; a built-in renders in milliseconds
MAX_STEPS = 200_000  # loop iterations, calls and operators per render
MAX_CHARS = 2_000_000  # any string or list built, and the output; prompts are ~100 KB
MAX_WIDTH = 10_000  # a width, count or padding given to a filter or string method
MAX_INT_BITS = 4096  # integers from `*` and `**`
MAX_TEMPLATE_CHARS = 64 * 1024  # an override's source
_GUARD = "issuewright_guard_iter"
_WIDTH_FILTERS = {"center", "indent", "wordwrap", "truncate", "batch", "slice"}
_WIDTH_METHODS = {"center", "ljust", "rjust", "zfill", "expandtabs"}


class RenderLimit(Exception):
    """A render went past a limit; the message names it in words for the status comment."""


class _Budget(threading.local):
    active: bool = False
    deadline: float = 0.0
    steps: int = 0


_BUDGET = _Budget()


def _tick() -> None:
    if not _BUDGET.active:
        return
    _BUDGET.steps += 1
    if _BUDGET.steps > MAX_STEPS:
        raise RenderLimit(f"it took more than {MAX_STEPS:,} steps (loops inside loops?)")
    if _BUDGET.steps % 64 == 0 and time.monotonic() > _BUDGET.deadline:
        raise RenderLimit(f"it took longer than {MAX_SECONDS:g} s to render")


def _check_size(value: Any, what: str = "a value") -> Any:
    if isinstance(value, str | list | tuple | dict) and len(value) > MAX_CHARS:
        raise RenderLimit(f"{what} grew past {MAX_CHARS:,} characters or items")
    return value


def _sized(value: Any) -> int | None:
    return len(value) if isinstance(value, str | list | tuple) else None


class _GuardedNamespace(Namespace):
    """`namespace()` whose attributes cannot grow past the size budget across iterations."""

    def __setitem__(self, name: str, value: Any) -> None:
        _tick()
        Namespace.__setitem__(self, name, _check_size(value, "a namespace attribute"))


def _guard_iter(iterable: Iterable[Any]) -> Iterator[Any]:
    for item in iterable:
        _tick()
        yield item


def _width_checked(name: str, func: Any) -> Any:
    def checked(*args: Any, **kwargs: Any) -> Any:
        _tick()
        for arg in (*args[1:], *kwargs.values()):
            if isinstance(arg, int) and not isinstance(arg, bool) and abs(arg) > MAX_WIDTH:
                raise RenderLimit(f"`{name}` was given {arg}, over the limit of {MAX_WIDTH:,}")
        return _check_size(func(*args, **kwargs), f"the result of `{name}`")

    checked.__dict__.update(func.__dict__)  # keeps jinja's pass_context/… markers
    return checked


class GuardedEnvironment(SandboxedEnvironment):
    """A sandbox that counts steps, checks sizes and refuses formatting with widths
    inside the format string (`'{:>999999999}'.format(1)`), which no argument check sees."""

    intercepted_binops = frozenset({"+", "-", "*", "/", "//", "%", "**"})

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.globals.pop("lipsum", None)  # lipsum(n=10**7) is work with no use in a prompt
        self.globals["namespace"] = _GuardedNamespace
        self.globals[_GUARD] = _guard_iter
        self.filters.pop("format", None)  # '%999999999d'|format(1)
        for name in _WIDTH_FILTERS & set(self.filters):
            self.filters[name] = _width_checked(name, self.filters[name])

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        if len(source) > MAX_TEMPLATE_CHARS:
            raise RenderLimit(f"the template is over {MAX_TEMPLATE_CHARS:,} characters")
        tree = super()._parse(source, name, filename)
        for loop in tree.find_all(nodes.For):  # every {% for %} steps through the guard
            guard = nodes.Call(nodes.Name(_GUARD, "load"), [loop.iter], [], None, None)
            loop.iter = guard.set_lineno(loop.lineno).set_environment(self)
        return tree

    def wrap_str_format(self, value: Any) -> Any:
        # The sandbox hands `str.format`/`format_map` out before asking is_safe_attribute.
        if super().wrap_str_format(value) is None:
            return None

        def refused(*args: Any, **kwargs: Any) -> Any:
            raise RenderLimit("`format` of text is not allowed in prompt overrides")

        return refused

    def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        _tick()
        for arg in (*args, *kwargs.values()):
            _check_size(arg, "an argument")
        owner = getattr(__obj, "__self__", None)
        name = getattr(__obj, "__name__", "")
        if isinstance(owner, str) and name in _WIDTH_METHODS:
            for arg in (*args, *kwargs.values()):
                if isinstance(arg, int) and abs(arg) > MAX_WIDTH:
                    raise RenderLimit(f"`{name}` was given {arg}, over the limit of {MAX_WIDTH:,}")
        if isinstance(owner, str) and name == "replace" and len(args) >= 2:
            old, new = str(args[0]), str(args[1])
            if len(owner) + owner.count(old) * len(new) > MAX_CHARS:
                raise RenderLimit(f"`replace` would grow past {MAX_CHARS:,} characters")
        return _check_size(
            SandboxedEnvironment.call(__self, __context, __obj, *args, **kwargs),
            f"the result of `{name or 'a call'}`",
        )

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        _tick()
        _check_binop(operator, left, right)
        return _check_size(super().call_binop(context, operator, left, right), "a value")


def _check_binop(operator: str, left: Any, right: Any) -> None:
    if operator == "%" and isinstance(left, str):
        raise RenderLimit("`%` formatting of text is not allowed in prompt overrides")
    sizes = (_sized(left), _sized(right))
    if operator == "+" and None not in sizes and sum(s or 0 for s in sizes) > MAX_CHARS:
        raise RenderLimit(f"`+` would grow past {MAX_CHARS:,} characters or items")
    if operator == "*":
        count = right if sizes[0] is not None else left
        size = sizes[0] if sizes[0] is not None else sizes[1]
        if size is not None and isinstance(count, int) and size * count > MAX_CHARS:
            raise RenderLimit(f"`*` would grow past {MAX_CHARS:,} characters or items")
        if isinstance(left, int) and isinstance(right, int):
            if left.bit_length() + right.bit_length() > MAX_INT_BITS:
                raise RenderLimit(f"`*` would make a number over {MAX_INT_BITS} bits")
    if operator == "**" and isinstance(left, int) and isinstance(right, int):
        if abs(left) > 1 and right > 0 and left.bit_length() * right > MAX_INT_BITS:
            raise RenderLimit(f"`**` would make a number over {MAX_INT_BITS} bits")


@contextmanager
def _budget() -> Iterator[None]:
    outer = (_BUDGET.active, _BUDGET.deadline, _BUDGET.steps)
    _BUDGET.active, _BUDGET.deadline, _BUDGET.steps = True, time.monotonic() + MAX_SECONDS, 0
    try:
        yield
    finally:
        _BUDGET.active, _BUDGET.deadline, _BUDGET.steps = outer


def render_limited(template: Template, values: Mapping[str, Any]) -> str:
    """Render chunk by chunk within the step, time and size budgets; RenderLimit past one."""
    parts: list[str] = []
    total = 0
    with _budget():
        for chunk in template.generate(dict(values)):
            _tick()
            total += len(chunk)
            if total > MAX_CHARS:
                raise RenderLimit(f"the prompt grew past {MAX_CHARS:,} characters")
            parts.append(chunk)
    return "".join(parts)
