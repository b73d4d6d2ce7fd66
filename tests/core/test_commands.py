"""Comment command parsing and the status comment's retry checkboxes."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.commands import (
    COMMANDS,
    Command,
    help_text,
    parse_command,
    render_retry_checkbox,
    retry_checkboxes,
    ticked_retries,
)

SLUG = "issuewright-bot"

CASES: list[tuple[str, str, Command | None]] = [
    # (id, body, expected)
    ("slash", "/issuewright retry", Command("retry")),
    ("mention", "@issuewright-bot status", Command("status")),
    ("mention-case", "@IssueWright-Bot STATUS", Command("status")),
    ("mention-bot-suffix", "@issuewright-bot[bot] plan", Command("plan")),
    ("mention-colon", "@issuewright-bot: cancel task 1", Command("cancel", task=1)),
    ("slash-case", "/IssueWright Fix-CI", Command("fix-ci")),
    ("fix-ci-alias", "/issuewright fix_ci", Command("fix-ci")),
    ("rollback", "/issuewright rollback task 3", Command("rollback", task=3)),
    ("help", "/issuewright help", Command("help")),
    ("bare-trigger", "/issuewright", Command("help")),
    ("bare-mention", "@issuewright-bot   ", Command("help")),
    ("cancel-task", "/issuewright cancel task 1", Command("cancel", task=1)),
    ("task-hash", "/issuewright cancel task #12", Command("cancel", task=12)),
    (
        "retry-task-text",
        "/issuewright retry task 2 please use pathlib",
        Command("retry", task=2, text="please use pathlib"),
    ),
    (
        "retry-text-only",
        "/issuewright retry Use pathlib, not os.path.",
        Command("retry", text="Use pathlib, not os.path."),
    ),
    (
        "retry-task-comma",
        "/issuewright retry task 2, use pathlib",
        Command("retry", task=2, text="use pathlib"),
    ),
    ("retry-tasks-word", "/issuewright retry tasks fail", Command("retry", text="tasks fail")),
    ("extra-space", "   /issuewright    retry    TASK   4   ", Command("retry", task=4)),
    ("trailing-dot", "/issuewright status.", Command("status")),
    ("crlf", "Thanks!\r\n/issuewright cancel task 2\r\nbye", Command("cancel", task=2)),
    ("cr-only", "Thanks!\r/issuewright status", Command("status")),
    ("later-line", "Looks wrong.\n\n@issuewright-bot retry task 1", Command("retry", task=1)),
    ("first-wins", "/issuewright status\n/issuewright cancel", Command("status")),
    ("unknown", "/issuewright deploy now", Command("help", unknown="deploy")),
    ("unknown-mention", "@issuewright-bot thanks!", Command("help", unknown="thanks!")),
    # Not commands.
    ("empty", "", None),
    ("prose", "I think we should retry this.", None),
    ("mid-line", "please run /issuewright retry", None),
    ("mid-line-mention", "thanks @issuewright-bot retry later", None),
    ("inline-code", "`/issuewright retry`", None),
    ("other-app", "@issuewright-bot-dev retry", None),
    ("glued", "/issuewrightretry", None),
    ("indented-code", "    /issuewright retry", None),
    ("quote", "> /issuewright retry\n\nno, don't", None),
    ("quote-indented", "  > @issuewright-bot cancel", None),
    ("nested-quote", ">> /issuewright cancel", None),
    ("fence", "```\n/issuewright retry\n```", None),
    ("fence-info", "```text\n@issuewright-bot cancel\n```\n", None),
    ("tilde-fence", "~~~\n/issuewright retry\n~~~", None),
    ("unclosed-fence", "```\n/issuewright retry", None),
    ("html-comment", "<!--\n/issuewright retry\n-->", None),
]

AFTER_BLOCKS: list[tuple[str, str, Command | None]] = [
    ("after-fence", "```\n/issuewright cancel\n```\n/issuewright status", Command("status")),
    (
        "longer-fence",
        "````\n```\n/issuewright cancel\n````\n/issuewright plan",
        Command("plan"),
    ),
    ("mixed-fence", "```\n~~~\n/issuewright cancel\n```\n/issuewright plan", Command("plan")),
    ("after-quote", "> /issuewright cancel\n\n/issuewright status", Command("status")),
    ("after-comment", "<!-- x -->\n/issuewright status", Command("status")),
    ("crlf-fence", "```\r\n/issuewright cancel\r\n```\r\n/issuewright plan", Command("plan")),
]

ERRORS: list[tuple[str, str]] = [
    ("task-missing", "/issuewright retry task"),
    ("task-word", "/issuewright retry task please use pathlib"),
    ("task-zero", "/issuewright cancel task 0"),
    ("task-negative", "/issuewright cancel task -1"),
    ("task-unicode-digit", "/issuewright cancel task ٣"),
]


@pytest.mark.parametrize(
    ("body", "expected"),
    [(body, expected) for _, body, expected in CASES + AFTER_BLOCKS],
    ids=[case_id for case_id, _, _ in CASES + AFTER_BLOCKS],
)
def test_parse(body: str, expected: Command | None) -> None:
    assert parse_command(body, SLUG) == expected


@pytest.mark.parametrize("body", [body for _, body in ERRORS], ids=[i for i, _ in ERRORS])
def test_malformed_task_number_is_an_error_not_a_guess(body: str) -> None:
    command = parse_command(body, SLUG)
    assert command is not None and command.error and command.task is None


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.sampled_from(
                [
                    "/issuewright",
                    "@issuewright-bot",
                    "```",
                    "~~~",
                    "> ",
                    "<!--",
                    "-->",
                    "task",
                    *COMMANDS,
                ]
            ),
            st.text(max_size=12),
        ),
        max_size=12,
    ).map(" ".join)
)
def test_parse_never_raises(body: str) -> None:
    command = parse_command(body, SLUG)
    assert command is None or command.name in COMMANDS
    if command is not None and command.task is not None:
        assert command.task >= 1


def test_mention_needs_a_slug() -> None:
    assert parse_command("@issuewright-bot retry", None) is None
    assert parse_command("/issuewright retry", None) == Command("retry")
    assert parse_command(None, SLUG) is None


def test_slug_is_matched_literally() -> None:
    # A slug is escaped: "." in it must not match any character.
    assert parse_command("@aXb retry", "a.b") is None
    assert parse_command("@a.b retry", "a.b") == Command("retry")


def test_help_text_lists_every_command_and_both_forms() -> None:
    text = help_text(SLUG)
    for name in COMMANDS:
        assert f"`{name}" in text
    assert "/issuewright <command>" in text and f"@{SLUG} <command>" in text
    assert "@" not in help_text(None).split("\n")[0]


def test_checkbox_round_trip() -> None:
    line = render_retry_checkbox(3)
    assert "\n" not in line and line.startswith("- [ ] retry task 3")
    assert retry_checkboxes(line) == {3: False}
    assert retry_checkboxes(render_retry_checkbox(3, checked=True)) == {3: True}


def status_body(*boxes: tuple[int, bool]) -> str:
    rows = "\n".join(render_retry_checkbox(n, checked) for n, checked in boxes)
    return (
        f"<!-- issuewright:status -->\n| Task | State |\n| --- | --- |\n| 1 | failed |\n\n{rows}\n"
    )


def test_ticked_retries_reports_newly_ticked_boxes_only() -> None:
    old = status_body((1, False), (3, False), (4, True))
    new = status_body((1, True), (3, True), (4, True))
    assert ticked_retries(old, new) == [1, 3]
    assert ticked_retries(new, new) == []
    assert ticked_retries(new, old) == []  # unticking is not a request


def test_ticked_retries_on_github_edits() -> None:
    old = status_body((2, False)).replace("\n", "\r\n")
    new = old.replace("- [ ] retry task 2", "- [X] retry task 2")
    assert ticked_retries(old, new) == [2]
    # A box added already ticked (hand edit or re-render) is not a click on a rendered box.
    assert ticked_retries(status_body(), status_body((5, True))) == []
    assert ticked_retries(None, status_body((5, True))) == []
    # Without the hidden marker a checkbox is just text.
    assert ticked_retries("- [ ] retry task 7", "- [x] retry task 7") == []
