"""The SEARCH/REPLACE edit format: strict parsing with answer line numbers, and applying."""

from __future__ import annotations

import textwrap

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.edit_apply import apply_edits, count_lines
from bot.core.edits import EditProblem, parse_answer
from bot.core.repair import render_repair_message


def answer(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


def block(path: str, *sections: tuple[str, str], lang: str = "") -> str:
    body = "".join(f"<<<<<<< SEARCH\n{s}=======\n{r}>>>>>>> REPLACE\n" for s, r in sections)
    return f"{path}\n```{lang}\n{body}```\n"


# ---------------------------------------------------------------- parsing


def test_parses_edit_create_delete_rename_and_summary() -> None:
    text = answer(
        """
        I will fix the bug.

        src/calc.py
        ```python
        <<<<<<< SEARCH
        def add(a, b):
            return a - b
        =======
        def add(a, b):
            return a + b
        >>>>>>> REPLACE
        ```

        `docs/new guide.md`:
        ```markdown
        <<<<<<< SEARCH
        =======
        # Guide
        ```python
        print("fences inside a section are content")
        ```
        >>>>>>> REPLACE
        ```

        old.txt
        ```
        <<<<<<< DELETE FILE
        ```

        a.py
        ```
        <<<<<<< RENAME TO pkg/b.py
        ```

        SUMMARY: Fixed add()
        and added a guide.
        """
    )
    parsed = parse_answer(text)
    assert parsed.problems == ()
    calc, guide, old, ren = parsed.edits
    assert (calc.path, calc.action, calc.line) == ("src/calc.py", "edit", 3)
    assert calc.sections[0].search == "def add(a, b):\n    return a - b\n"
    assert calc.sections[0].replace == "def add(a, b):\n    return a + b\n"
    assert calc.sections[0].line == 5
    assert guide.path == "docs/new guide.md"
    assert guide.sections[0].search == ""
    assert "```python\n" in guide.sections[0].replace
    assert (old.path, old.action) == ("old.txt", "delete")
    assert (ren.path, ren.action, ren.new_path, ren.sections) == ("a.py", "rename", "pkg/b.py", ())
    assert parsed.summary == "Fixed add()\nand added a guide."


def test_several_sections_in_one_block_and_crlf_answer() -> None:
    text = block("a.py", ("x = 1\n", "x = 2\n"), ("y = 1\n", "y = 2\n")).replace("\n", "\r\n")
    parsed = parse_answer(text)
    assert parsed.ok
    assert [s.line for s in parsed.edits[0].sections] == [3, 8]


def test_ordinary_code_fences_and_prose_are_ignored() -> None:
    text = "Example:\n```python\nprint(1)\n```\n\n" + block("a.py", ("a\n", "b\n"))
    parsed = parse_answer(text)
    assert parsed.ok and [e.path for e in parsed.edits] == ["a.py"]
    assert parsed.summary is None


def test_summary_stops_at_a_following_block() -> None:
    text = "SUMMARY: changed a\n\n" + block("a.py", ("a\n", "b\n"))
    parsed = parse_answer(text)
    assert parsed.ok and parsed.summary == "changed a"


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ("no edits here\n", None, "no edit blocks"),
        ("```\n<<<<<<< SEARCH\na\n=======\nb\n>>>>>>> REPLACE\n```\n", 1, "no file path"),
        ("Here is the fix:\n```\n<<<<<<< SEARCH\n=======\nb\n>>>>>>> REPLACE\n```\n", 1, "not a"),
        ("a.py\n```\n<<<<<<< SEARCH\na\n>>>>>>> REPLACE\n```\n", 5, "'======='"),
        ("a.py\n```\n<<<<<<< SEARCH\na\n=======\nb\n```\n", 3, "'>>>>>>> REPLACE'"),
        (
            "a.py\n```\n<<<<<<< SEARCH\na\n=======\nb\n=======\nc\n>>>>>>> REPLACE\n```\n",
            7,
            "second",
        ),
        ("a.py\n```\n<<<<<<< SEARCH\na\n=======\nb\n>>>>>>> REPLACE\nstray\n```\n", 8, "expected"),
        ("a.py\n```\n<<<<<<< SEARCH\na\n=======\nb\n>>>>>>> REPLACE\n", 2, "never closed"),
        ("a.py\n```\nhello\n<<<<<<< SEARCH\na\n=======\nb\n>>>>>>> REPLACE\n```\n", 3, "before"),
        ("a.py\n```\n<<<<<<< DELETE FILE\nx\n```\n", 4, "nothing else"),
        ("a.py\n```\n<<<<<<< RENAME TO\n```\n", 3, "new path"),
        ("a.py\n<<<<<<< SEARCH\na\n=======\nb\n>>>>>>> REPLACE\n", 2, "outside a fenced block"),
    ],
)
def test_parse_errors_name_the_answer_line(text: str, line: int | None, fragment: str) -> None:
    parsed = parse_answer(text)
    assert not parsed.ok
    problem = parsed.problems[0]
    assert problem.line == line, problem
    assert fragment in problem.reason


def test_a_broken_block_does_not_hide_later_blocks() -> None:
    text = "a.py\n```\n<<<<<<< SEARCH\nx\n>>>>>>> REPLACE\n```\n\n" + block("b.py", ("1\n", "2\n"))
    parsed = parse_answer(text)
    assert len(parsed.problems) == 1
    assert [e.path for e in parsed.edits] == ["b.py"]


def test_missing_divider_points_at_the_early_fence() -> None:
    text = "a.py\n```\n<<<<<<< SEARCH\na\n```\n"
    (problem,) = parse_answer(text).problems
    assert problem.line == 3 and "line 5" in problem.reason


# ---------------------------------------------------------------- applying


def edits_of(text: str):  # type: ignore[no-untyped-def]
    parsed = parse_answer(text)
    assert parsed.ok, parsed.problems
    return parsed.edits


def test_exact_match_replaces_once_and_counts_lines() -> None:
    files = {"a.py": "import os\n\ndef f():\n    return 1\n"}
    result = apply_edits(files, edits_of(block("a.py", ("    return 1\n", "    return 2\n"))))
    assert result.ok and result.notes == ()
    assert result.files["a.py"] == "import os\n\ndef f():\n    return 2\n"
    (change,) = result.changes
    assert (change.action, change.added, change.removed) == ("modify", 1, 1)


def test_search_matching_twice_is_refused_with_file_lines() -> None:
    files = {"a.py": "x = 1\ny = 2\nx = 1\n"}
    result = apply_edits(files, edits_of(block("a.py", ("x = 1\n", "x = 3\n"))))
    (problem,) = result.problems
    assert problem == EditProblem("a.py", problem.reason, 3)
    assert "matches 2 times" in problem.reason and "1, 3" in problem.reason


def test_search_not_matching_is_refused_with_a_hint() -> None:
    files = {"a.py": "def f():\n    return 1\n"}
    result = apply_edits(files, edits_of(block("a.py", ("def f():\n    return 9\n", "x\n"))))
    (problem,) = result.problems
    assert "does not match" in problem.reason and "file line(s) 1" in problem.reason
    result = apply_edits(files, edits_of(block("a.py", ("nothing\n", "x\n"))))
    assert "first line is not in the file" in result.problems[0].reason


def test_trailing_whitespace_fallback_is_reported() -> None:
    files = {"a.py": "x = 1   \ny = 2\n"}
    result = apply_edits(files, edits_of(block("a.py", ("x = 1\ny = 2\n", "x = 5\ny = 2\n"))))
    assert result.ok
    assert result.files["a.py"] == "x = 5\ny = 2\n"
    assert "trailing whitespace" in result.notes[0] and "a.py" in result.notes[0]


def test_uniform_indentation_fallback_reindents_the_replacement() -> None:
    files = {"a.py": "class A:\n    def f(self):\n        return 1\n"}
    text = block("a.py", ("def f(self):\n    return 1\n", "def f(self):\n    return 2\n"))
    result = apply_edits(files, edits_of(text))
    assert result.ok
    assert result.files["a.py"] == "class A:\n    def f(self):\n        return 2\n"
    assert "indent" in result.notes[0]


def test_fallback_must_be_unique() -> None:
    files = {"a.py": "if a:\n    x = 1\nif b:\n    x = 1\n"}
    result = apply_edits(files, edits_of(block("a.py", ("x = 1\n", "x = 2\n"))))
    assert "matches 2 places when whitespace is ignored" in result.problems[0].reason


def test_fallback_is_not_used_when_the_exact_match_exists() -> None:
    files = {"a.py": "x = 1\n    x = 1\n"}
    result = apply_edits(files, edits_of(block("a.py", ("x = 1\n", "x = 2\n"))))
    assert result.ok and result.notes == ()
    assert result.files["a.py"] == "x = 2\n    x = 1\n"


def test_keeps_crlf_and_missing_final_newline() -> None:
    files = {"a.txt": "one\r\ntwo\r\nthree"}
    result = apply_edits(files, edits_of(block("a.txt", ("three\n", "3\n"))))
    assert result.files["a.txt"] == "one\r\ntwo\r\n3"


def test_form_feed_is_content_not_a_line_break() -> None:
    files = {"a.py": "a = 1\x0cb = 2\nc = 3\n"}
    result = apply_edits(files, edits_of(block("a.py", ("c = 3\n", "c = 4\n"))))
    assert result.files["a.py"] == "a = 1\x0cb = 2\nc = 4\n"


def test_create_delete_rename() -> None:
    text = (
        block("new.py", ("", "print('hi')\n"))
        + "old.py\n```\n<<<<<<< DELETE FILE\n```\n"
        + "m.py\n```\n<<<<<<< RENAME TO pkg/m.py\n<<<<<<< SEARCH\nv = 1\n=======\nv = 2\n"
        + ">>>>>>> REPLACE\n```\n"
    )
    files = {"old.py": "a\nb\n", "m.py": "v = 1\n"}
    result = apply_edits(files, edits_of(text))
    assert result.ok, result.problems
    got = {(c.action, c.path, c.old_path, c.added, c.removed) for c in result.changes}
    assert got == {
        ("create", "new.py", None, 1, 0),
        ("delete", "old.py", None, 0, 2),
        ("rename", "pkg/m.py", "m.py", 1, 1),
    }
    assert result.files == {
        "new.py": "print('hi')\n",
        "old.py": None,
        "m.py": None,
        "pkg/m.py": "v = 2\n",
    }


@pytest.mark.parametrize(
    ("text", "files", "fragment"),
    [
        (block("a.py", ("", "x\n")), {"a.py": "y\n"}, "empty SEARCH but the file exists"),
        (block("a.py", ("x\n", "y\n")), {}, "no such file"),
        ("a.py\n```\n<<<<<<< DELETE FILE\n```\n", {}, "cannot delete"),
        ("a.py\n```\n<<<<<<< RENAME TO b.py\n```\n", {"a.py": "1\n", "b.py": "2\n"}, "exists"),
        ("a.py\n```\n<<<<<<< RENAME TO b.py\n```\n", {}, "cannot rename"),
    ],
)
def test_apply_problems(text: str, files: dict[str, str | None], fragment: str) -> None:
    result = apply_edits(files, edits_of(text))
    assert not result.ok and fragment in result.problems[0].reason


def test_sections_apply_in_order_and_later_blocks_see_earlier_ones() -> None:
    text = block("a.py", ("", "a = 1\n")) + block("a.py", ("a = 1\n", "a = 2\n"))
    result = apply_edits({}, edits_of(text))
    assert result.ok and result.files["a.py"] == "a = 2\n"
    assert [c.action for c in result.changes] == ["create"]


def test_unchanged_file_is_a_note_not_a_change() -> None:
    result = apply_edits({"a.py": "x\n"}, edits_of(block("a.py", ("x\n", "x\n"))))
    assert result.ok and result.changes == ()
    assert result.notes == ("a.py: the edits leave it unchanged",)


def test_repair_message_lists_every_problem() -> None:
    message = render_repair_message(
        [EditProblem("a.py", "SEARCH matches 2 times", 7), EditProblem(None, "bad", 3)]
    )
    assert "- a.py: SEARCH matches 2 times (answer line 7)" in message
    assert "- answer line 3: bad" in message
    assert "nothing was changed" in message and "complete answer again" in message


def test_count_lines() -> None:
    assert count_lines(None, "a\nb\n") == (2, 0)
    assert count_lines("a\nb\nc\n", "a\nc\nd\n") == (1, 1)


lines_st = st.lists(st.text(alphabet="ab \t", max_size=6), min_size=1, max_size=12)


@given(lines_st, st.integers(min_value=0, max_value=11), st.text(alphabet="xyz\n", max_size=10))
def test_an_exact_unique_match_replaces_exactly_those_lines(
    lines: list[str], start: int, new: str
) -> None:
    start = min(start, len(lines) - 1)
    content = "".join(f"{x}\n" for x in lines)
    search = f"{lines[start]}\n"
    replacement = new if not new or new.endswith("\n") else new + "\n"
    result = apply_edits({"f": content}, edits_of(block("f", (search, replacement))))
    exact = sum(1 for x in lines if x == lines[start])
    if exact == 1:
        expected = "".join(f"{x}\n" for x in lines[:start]) + replacement
        expected += "".join(f"{x}\n" for x in lines[start + 1 :])
        assert result.ok and result.files["f"] == expected
    else:
        assert not result.ok and "matches" in result.problems[0].reason


answer_lines = st.sampled_from(
    [
        "a.py",
        "`b c.py`",
        "```",
        "```python",
        "<<<<<<< SEARCH",
        "=======",
        ">>>>>>> REPLACE",
        "<<<<<<< DELETE FILE",
        "<<<<<<< RENAME TO d.py",
        "SUMMARY: s",
        "x = 1",
        "",
        "Here is the fix:",
    ]
)


@given(st.lists(answer_lines, max_size=40))
def test_parser_never_raises_and_problem_lines_exist(lines: list[str]) -> None:
    text = "\n".join(lines)
    parsed = parse_answer(text)
    assert parsed.ok == (not parsed.problems)
    for problem in parsed.problems:
        assert problem.line is None or 1 <= problem.line <= len(lines)
    for edit in parsed.edits:
        assert 1 <= edit.line <= len(lines)
        apply_edits({"a.py": "x = 1\n"}, parsed.edits)  # never raises either
