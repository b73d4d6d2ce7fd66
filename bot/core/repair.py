"""What a refused answer becomes (pure): the message the model gets for its one repair round,
the part of its answer sent back with it, and the reason people read when the repair fails."""

from __future__ import annotations

from collections.abc import Sequence

from bot.core.edits import EditProblem

# A repair round resends the refused answer; beyond this it is cut (see `echoed_answer`).
MAX_ECHOED_ANSWER_CHARS = 60_000
# How a refused answer's reason reads; `core.failure_notice` knows the cause by these words.
REFUSED_WORDS = "the model's answer was refused"


def render_repair_message(problems: Sequence[EditProblem]) -> str:
    """The message sent back to the model for its one repair round."""
    listed = "\n".join(f"- {p.render()}" for p in problems)
    return (
        "Your answer could not be applied, so nothing was changed.\n\n"
        f"Problems:\n{listed}\n\n"
        "Send the complete answer again with these fixed: every edit, not only the failing "
        "ones. Use the same format: the file's path alone on a line, then a fenced block "
        "with `<<<<<<< SEARCH`, the exact current lines, `=======`, the new lines, and "
        "`>>>>>>> REPLACE`. Copy SEARCH lines exactly from the file, with enough context "
        "that each SEARCH matches exactly once. An empty SEARCH creates a new file."
    )


def refusal_message(
    problems: Sequence[EditProblem], retry_hint: str = "Comment `/issuewright retry` to try again."
) -> str:
    """The reason first: the status table shows only the start of a task's last error;
    `retry_hint` is what to do next where it is read (a comment command, or `--resume`)."""
    detail = "; ".join(p.brief() for p in problems[:3])
    detail = detail or "the answer had no edits"
    if len(problems) > 3:
        detail += f"; {len(problems) - 3} more"
    return (
        f"{detail} — {REFUSED_WORDS}, also after a repair round, so nothing "
        f"was pushed. {retry_hint}"
    )


def echoed_answer(text: str) -> str:
    """The model's refused answer as sent back for repair. A huge one (a generated blob) is
    not worth paying for again as input: the problems list says what to change."""
    if len(text) <= MAX_ECHOED_ANSWER_CHARS:
        return text
    return (
        text[: MAX_ECHOED_ANSWER_CHARS // 2]
        + f"\n\n[… {len(text) - MAX_ECHOED_ANSWER_CHARS // 2:,} more characters left out …]\n"
    )
