"""`already_applied`: an answer whose edits are already in the files is recognised, so it is
not applied a second time (an insertion would be inserted twice)."""

from __future__ import annotations

from bot.core.applied import already_applied
from bot.core.edit_apply import apply_edits
from bot.core.edits import FileEdit, parse_answer

OPS = "def add(a, b):\n    return a - b\n\n\ndef sub(a, b):\n    return a - b\n"


def block(path: str, *sections: tuple[str, str]) -> str:
    body = "".join(f"<<<<<<< SEARCH\n{s}=======\n{r}>>>>>>> REPLACE\n" for s, r in sections)
    return f"{path}\n```\n{body}```\n"


def edits(*blocks: str) -> tuple[FileEdit, ...]:
    parsed = parse_answer("".join(blocks))
    assert parsed.ok, parsed.problems
    return parsed.edits


def applied(files: dict[str, str | None], answer: tuple[FileEdit, ...]) -> dict[str, str | None]:
    result = apply_edits(files, answer)
    assert result.ok, result.problems
    return {**files, **result.files}


def test_an_insertion_after_an_anchor_is_recognised_once_applied() -> None:
    insert = edits(
        block(
            "calc/ops.py",
            ("def sub(a, b):\n", "def mul(a, b):\n    return a * b\n\n\ndef sub(a, b):\n"),
        )
    )
    before = {"calc/ops.py": OPS}
    after = applied(before, insert)
    assert not already_applied(before, insert)
    assert already_applied(after, insert)
    # Without the check, applying again succeeds and inserts `mul` a second time.
    assert applied(after, insert)["calc/ops.py"].count("def mul") == 2  # type: ignore[union-attr]


def test_a_replacement_is_recognised_once_applied() -> None:
    fix = edits(
        block(
            "calc/ops.py",
            ("def add(a, b):\n    return a - b\n", "def add(a, b):\n    return a + b\n"),
        )
    )
    before = {"calc/ops.py": OPS}
    assert not already_applied(before, fix)
    assert already_applied(applied(before, fix), fix)


def test_several_sections_and_files_all_or_nothing() -> None:
    answer = edits(
        block(
            "calc/ops.py",
            ("    return a - b\n\n\ndef sub(a, b):\n", "    return a + b\n\n\ndef sub(a, b):\n"),
        ),
        block("calc/ops.py", ("def sub(a, b):\n", "def sub(a: int, b: int) -> int:\n")),
        block("README.md", ("# calc\n", "# calc\n\nAdds and subtracts.\n")),
    )
    before: dict[str, str | None] = {"calc/ops.py": OPS, "README.md": "# calc\n"}
    after = applied(before, answer)
    assert already_applied(after, answer)
    assert not already_applied(before, answer)
    # Half applied (the README only): not applied, so it goes through the usual checks.
    half = {**before, "README.md": after["README.md"]}
    assert not already_applied(half, answer)


def test_a_created_file_is_applied_when_it_holds_exactly_what_was_created() -> None:
    create = edits(block("calc/mul.py", ("", "def mul(a, b):\n    return a * b\n")))
    assert already_applied({"calc/mul.py": "def mul(a, b):\n    return a * b\n"}, create)
    assert not already_applied({}, create)
    assert not already_applied({"calc/mul.py": "def mul(a, b):\n    pass\n"}, create)


def test_a_delete_is_applied_when_the_file_is_absent() -> None:
    delete = edits("calc/old.py\n```\n<<<<<<< DELETE FILE\n```\n")
    assert already_applied({}, delete)
    assert not already_applied({"calc/old.py": "x = 1\n"}, delete)


def test_a_rename_with_edits_is_applied_when_the_new_file_holds_them() -> None:
    rename = edits(
        "calc/ops.py\n```\n<<<<<<< RENAME TO calc/arith.py\n"
        "<<<<<<< SEARCH\n    return a - b\n\n\ndef sub(a, b):\n=======\n    return a + b\n\n\ndef sub(a, b):\n"
        ">>>>>>> REPLACE\n```\n"
    )
    before: dict[str, str | None] = {"calc/ops.py": OPS, "calc/arith.py": None}
    after = applied(before, rename)
    assert after["calc/ops.py"] is None and after["calc/arith.py"]
    assert already_applied(after, rename)
    assert not already_applied(before, rename)
    # The old file back beside the new one: not the result of this rename.
    assert not already_applied({**after, "calc/ops.py": OPS}, rename)


def test_an_answer_that_only_removes_lines_is_never_taken_as_applied() -> None:
    remove = edits(block("calc/ops.py", ("\n\ndef sub(a, b):\n    return a - b\n", "")))
    before = {"calc/ops.py": OPS}
    assert not already_applied(applied(before, remove), remove)
    assert not already_applied(before, remove)


def test_no_edits_is_not_applied() -> None:
    assert not already_applied({"a.py": "x\n"}, ())
