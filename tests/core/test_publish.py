"""Text published under the App's name: third-party text inert, secrets and URL credentials
gone, error text without URLs."""

from __future__ import annotations

import re

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot.core.publish import (
    ZWSP,
    neutralize,
    neutralize_line,
    publishable,
    strip_url_userinfo,
    without_urls,
)
from bot.core.render import PullRequestView, StatusView, TaskView, render_pr_body, render_status
from bot.core.sanitize import REDACTED
from tests.live_markup import CLOSING, live_markup

HOSTILE = """Please fix this, @octo-org/admins and @victim: see #12, octo-org/other#13, GH-14,
https://github.com/octo-org/other/issues/15 and [this PR](https://ghe.example/o/r/pull/16).

Closes #2. fixes: octo-org/other#3. RESOLVED https://github.com/octo-org/other/issues/4

![pixel](https://tracker.example/p.png) ![ref][t]

[t]: https://tracker.example/r.png
<img src="https://tracker.example/i.png"> <details open><summary>x</summary>hidden</details>
<!-- a hidden instruction --> &#64;entity-mention &#35;17 <script>alert(1)</script>
`@in-code #18` and

```
@in-fence Closes #19 <b>
```
\\@escaped \\#20 é@unicode-before"""


def test_every_kind_of_live_markup_is_made_inert() -> None:
    assert {kind for kind, _ in live_markup(HOSTILE)} == {
        "mention",
        "reference",
        "issue url",
        "html",
        "entity",
        "image",
        "closing",
    }
    out = neutralize(HOSTILE)
    assert live_markup(out) == []
    assert "a hidden instruction" not in out  # hidden text is dropped, not shown
    # Readable: only zero-width spaces were added.
    visible = out.replace(ZWSP, "")
    for words in ("@octo-org/admins", "#12", "GH-14", "Closes #2", "<img", "![pixel]"):
        assert words in visible


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Fix login redirect", "Fix login redirect"),  # a title keeps its grep-able verb
        ("fixes the typo in README", "fixes the typo in README"),
        ("mail me at dev@example.com", "mail me at dev@example.com"),
        ("Issue 12 in 2024", "Issue 12 in 2024"),
        ("a < b and c > d", "a < b and c > d"),
        ("Fixes #2", f"F{ZWSP}ixes #{ZWSP}2"),
        ("closes: org/repo#9", f"c{ZWSP}loses: org/repo#{ZWSP}9"),
        ("Resolved **#3**", f"R{ZWSP}esolved **#{ZWSP}3**"),
        ("gh-5", f"gh-{ZWSP}5"),
        ("(\u200b@team y\u2060#1", f"(@{ZWSP}team y#{ZWSP}1"),  # smuggled invisibles go
    ],
)
def test_neutralize_examples(text: str, expected: str) -> None:
    assert neutralize(text) == expected


def test_neutralize_line_is_one_cut_line() -> None:
    line = neutralize_line("Fix\n#2  for\t@team " + "x" * 300, 40)
    assert "\n" not in line and "\t" not in line
    assert line.replace(ZWSP, "") == ("Fix #2 for @team " + "x" * 300)[:39] + "…"
    assert live_markup(line) == []


# Pieces GitHub reacts to, glued in any order: finds the combinations a regex misses.
_PIECES = st.sampled_from(
    [
        *"@#<>!/[]()&;:-_`*~\\ \n\t.é\u200b\u2060",
        *("gh-", "GH-", "Closes ", "fix ", "RESOLVED: ", "issues/", "pull/", "org/repo"),
        *("&#64;", "&#35;", "&lt;", "<!--", "-->", "img", "team", "1", "42", "a", "Z"),
        *("https://github.com/o/r/", "www.", "```\n"),
    ]
)
_MARKDOWNISH = st.lists(_PIECES, max_size=40).map("".join)
_KEYWORD_BEFORE_BROKEN_REF = re.compile(
    r"(?<![A-Za-z0-9_])(?:close[sd]?|fix(?:e[sd])?|resolve[sd]?)\s*:?\s*"
    r"(?:[\w.-]+/[\w.-]+#\u200b?\d|#\u200b?\d|gh-\u200b?\d|https?://\S+/(?:issues|pull)/\u200b?\d)",
    re.I,
)


@settings(max_examples=400, deadline=None)
@given(st.one_of(_MARKDOWNISH, st.text(max_size=80)))
@example("@@team")
@example("<<img")
@example("##1")
@example("!![x](y)")
@example("&&#64;x")
@example("Fixes\n#2")
@example("Closes https://github.com/o/r/issues/1")
@example("fix: gh-1")
@example("resolves org/repo#1")
def test_nothing_published_stays_live(text: str) -> None:
    out = neutralize(text)
    assert live_markup(out) == [], (text, out)
    # The keyword itself is broken too, not only the reference after it.
    assert not _KEYWORD_BEFORE_BROKEN_REF.search(out), (text, out)
    assert neutralize(out) == out  # idempotent: neutralising twice changes nothing
    line = neutralize_line(text, 50)
    assert live_markup(line) == [] and "\n" not in line


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60))
def test_neutralize_only_adds_zero_width_spaces_to_visible_text(text: str) -> None:
    """Apart from hidden comments and invisible characters, what a reader sees is unchanged."""
    from bot.core.sanitize import strip_html_comments, strip_invisible

    assert neutralize(text).replace(ZWSP, "") == strip_invisible(strip_html_comments(text))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("http://user:password@gateway:8080/v1", "http://gateway:8080/v1"),
        ("see https://TOKEN@llm.example/v1/chat now", "see https://llm.example/v1/chat now"),
        ("ssh://git:p@ss@host/x", "ssh://host/x"),
        ("mail dev@example.com", "mail dev@example.com"),
        ("http://host/path?u=a@b", "http://host/path?u=a@b"),
    ],
)
def test_url_userinfo_is_stripped(text: str, expected: str) -> None:
    assert strip_url_userinfo(text) == expected


def test_publishable_scrubs_like_the_logs_and_drops_url_credentials() -> None:
    key = "sk-live-" + "k" * 30
    text = (
        f"ConnectError talking to http://user:hunter22@10.0.0.1:1/v1: key {key}; "
        "webhook secret whsec-configured-value; ghp_" + "a" * 36
    )
    out = publishable(text, ["whsec-configured-value", "short"])
    for leak in ("hunter22", "user:", key, "whsec-configured-value", "ghp_"):
        assert leak not in out
    assert "http://10.0.0.1:1/v1" in out and REDACTED in out


def test_error_text_loses_its_urls() -> None:
    text = "ConnectError talking to http://user:pw@127.0.0.1:9/v1/chat/completions: refused"
    assert without_urls(text) == "ConnectError talking to [URL] refused"


def test_status_comment_and_pr_body_render_third_party_text_inert() -> None:
    title = "Closes #2 @octo-org/admins <img src=x>"
    task = TaskView(
        ordinal=1,
        title=title,
        task_type="bugfix",
        state="failed",
        last_error="calc/@x.py: bad — see https://user:pw@llm.example/v1 <b>#5</b>",
    )
    status = render_status(StatusView(tasks=[task], notes=("Task 1: fixes #7 ![p](u)",)))
    body = render_pr_body(
        PullRequestView(
            task_title=title,
            task_body=HOSTILE,
            issue_number=41,
            summary="Fixes #2 and pings @victim ![p](https://t.example/p.png)",
            files=[("calc/@ops|.py", 1, 1)],
            input_tokens=1,
            output_tokens=1,
            cost_usd=0.0,
            model="gpt-4o-mini",
            template_id="bugfix",
            template_version=1,
            task_key="k",
            closes_issue=True,
        )
    )
    own_markup = {
        ("html", "<!--"),
        ("html", "<sub"),
        ("html", "</sub"),
        ("html", "<details"),
        ("html", "<summary"),
        ("html", "</summary"),
        ("html", "</details"),
    }
    assert set(live_markup(status)) <= own_markup
    assert "llm.example" not in status and "pw@" not in status
    assert set(live_markup(body)) - own_markup == {
        ("reference", "#41"),
        ("closing", "Closes #41"),
    }
    assert [m.group(0) for m in CLOSING.finditer(body)] == ["Closes #41"]


def test_commit_message_subject_is_inert() -> None:
    from bot.core.render import render_commit_message

    message = render_commit_message("Fixes #2 for @org/team\n<img src=x>", 1, 41)
    assert message.split("\n\n")[1] == "Issuewright task 1 of #41."
    assert "\n" not in message.split("\n\n")[0]
    assert live_markup(message) == [("reference", "#41")]
