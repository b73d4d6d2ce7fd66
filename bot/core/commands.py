"""Parse people's comments into bot commands, and the status comment's retry checkboxes.

Pure: text in, values out. Who may command, acknowledgement and running once per comment id
are the handler's job. Comment text is untrusted, so the grammar is small and strict:

- a command is a line that starts (after at most 3 spaces, as in Markdown) with
  ``/issuewright`` or ``@<app-slug>`` (either case; ``@<slug>[bot]`` too), then a word;
- lines inside fenced code blocks, quoted reply lines (``> ``), indented code (4+ spaces)
  and HTML comments are never commands, so quoting or documenting a command does not run it;
- only the first command of a comment counts;
- ``task N`` right after the word picks a task; the rest of the line is free text (retry
  passes it to the model as extra instructions; other commands ignore it);
- an unknown word becomes ``help`` with ``unknown`` set, so the reply can say what was wrong.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.core.publish import neutralize, neutralize_line

SLASH = "/issuewright"
COMMANDS: tuple[str, ...] = ("retry", "cancel", "status", "plan", "fix-ci", "rollback", "help")
# Spellings people type for the same command; keys are lowercase.
_ALIASES = {"fixci": "fix-ci", "fix_ci": "fix-ci"}

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_HTML_COMMENT = re.compile(r"<!--.*?(-->|\Z)", re.DOTALL)
_TASK = re.compile(r"task\b\s*#?(\S*)", re.IGNORECASE)
_SEPARATOR = r"(?=[\s:,]|$)[:,]?"  # "@bot: retry" and "@bot, retry" read naturally too


@dataclass(frozen=True, slots=True)
class Command:
    name: str  # one of COMMANDS
    task: int | None = None  # 1-based task number from "task N"
    text: str = ""  # rest of the line: free-text instructions for retry
    # The word that was not a command (name is then "help"), made inert: it is only quoted
    # back in the App's reply, which must not mention or reference anything through it.
    unknown: str | None = None
    error: str | None = None  # malformed arguments; the handler replies with it, runs nothing


def parse_command(body: str | None, slug: str | None = None) -> Command | None:
    """The first command in a comment body, or None when the comment holds none."""
    if not body:
        return None
    trigger = _trigger(slug)
    for line in _candidate_lines(body):
        match = trigger.match(line)
        if match:
            return _parse_rest(line[match.end() :])
    return None


def _trigger(slug: str | None) -> re.Pattern[str]:
    names = [re.escape(SLASH)]
    if slug:
        names.append("@" + re.escape(slug.lstrip("@")) + r"(?:\[bot\])?")
    return re.compile(r"^ {0,3}(?:" + "|".join(names) + ")" + _SEPARATOR, re.IGNORECASE)


def _candidate_lines(body: str) -> list[str]:
    """Lines that could hold a command: not fenced, not quoted, not in an HTML comment."""
    body = _HTML_COMMENT.sub("", body.replace("\r\n", "\n").replace("\r", "\n"))
    lines: list[str] = []
    fence: str | None = None  # the opening fence while inside a fenced block
    for line in body.split("\n"):
        opened = _FENCE.match(line)
        if fence is not None:
            # A fence closes only with the same character, at least as long (CommonMark).
            if opened and opened.group(1)[0] == fence[0] and len(opened.group(1)) >= len(fence):
                if not line.strip().strip(fence[0]):
                    fence = None
            continue
        if opened:
            fence = opened.group(1)
            continue
        if line.lstrip().startswith(">"):
            continue
        lines.append(line)
    return lines


def _parse_rest(rest: str) -> Command:
    words = rest.split(None, 1)
    if not words:
        return Command("help")
    word = words[0].lower().rstrip(".!?,;:")
    word = _ALIASES.get(word, word)
    tail = words[1].strip() if len(words) > 1 else ""
    if word not in COMMANDS:
        return Command("help", unknown=neutralize_line(words[0], 60))
    task: int | None = None
    match = _TASK.match(tail)
    if match:
        number = match.group(1).rstrip(".,;:")
        if not number.isascii() or not number.isdigit() or int(number) < 1:
            quoted = neutralize(repr(tail[:80]))
            return Command(word, error=f"`task` needs a task number such as `task 2`: {quoted}")
        task = int(number)
        # "retry task 2, use pathlib": the comma belongs to the sentence, not the text.
        tail = tail[match.end() :].strip().lstrip(",;:-").strip()
    return Command(word, task=task, text=tail)


def help_text(slug: str | None = None) -> str:
    """Markdown reply listing the commands, for `help` and unknown commands."""
    mention = f" or `@{slug} <command>`" if slug else ""
    return "\n".join(
        [
            f"Commands start a line with `{SLASH} <command>`{mention}:",
            "",
            "| Command | What it does |",
            "| --- | --- |",
            "| `retry [task N] [instructions]` | Start the task again (on a fresh branch),"
            " with your instructions added to the prompt |",
            "| `cancel [task N]` | Stop the task; a running attempt stops at its next safe point |",
            "| `status` | Refresh the status comment |",
            "| `plan` | Show how the issue is split into tasks |",
            "| `fix-ci [task N]` | Try to fix the failing checks of the task's PR |",
            "| `rollback [task N]` | Close the task's PR, delete its branch, cancel the task |",
            "| `help` | Show this list |",
            "",
            "Without `task N`, a command on a pull request means that PR's task and on the"
            " issue means every task. Only people with write, maintain or admin permission"
            " on the repository can give commands; commands in quotes or code blocks are"
            " ignored. Ticking a `retry` box in the status comment is the same as"
            f" `{SLASH} retry task N`.",
        ]
    )


# --- retry checkboxes in the status comment ------------------------------------------------

# The hidden marker, not the visible words, identifies the task: people may edit the label
# text, and the visible text of other lines may look like a checkbox too.
_MARKER = "<!-- issuewright:retry-task:{n} -->"
_CHECKBOX = re.compile(
    r"^\s*[-*+]\s+\[(?P<mark>[ xX])\]\s.*?<!--\s*issuewright:retry-task:(?P<n>\d+)\s*-->",
    re.MULTILINE,
)


def render_retry_checkbox(n: int, checked: bool = False, label: str | None = None) -> str:
    """One Markdown list line with a checkbox that `ticked_retries` recognises; `label` (one
    line, already made inert) replaces the plain "retry task N"."""
    return f"- [{'x' if checked else ' '}] {label or f'retry task {n}'} {_MARKER.format(n=n)}"


def retry_checkboxes(body: str | None) -> dict[int, bool]:
    """Task number → ticked, for every retry checkbox in a status comment body."""
    boxes: dict[int, bool] = {}
    for match in _CHECKBOX.finditer(body or ""):
        n = int(match.group("n"))
        # If a task appears twice (hand edit), one ticked box is enough to count.
        boxes[n] = boxes.get(n, False) or match.group("mark") in "xX"
    return boxes


def ticked_retries(old_body: str | None, new_body: str | None) -> list[int]:
    """Task numbers whose box went from unticked to ticked between two versions of a body.

    A box that was not in the old body does not count even if ticked: only a click on a box
    the app rendered is a request, not a hand-written line or a re-render.
    """
    before = retry_checkboxes(old_body)
    after = retry_checkboxes(new_body)
    return sorted(n for n, ticked in after.items() if ticked and before.get(n) is False)
