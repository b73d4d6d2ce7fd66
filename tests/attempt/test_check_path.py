"""Path rules on names no file system can hold: refused with a reason, never raised."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.attempt.apply_answer import answer_paths
from bot.attempt.safe_write import check_location
from bot.core.edits import EditProblem, shown
from bot.core.file_rules import MAX_NAME_BYTES, MAX_PATH_BYTES, check_path
from tests.e2e.pipeline_helpers import both, new_file


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("a\x00b.py", "control characters"),
        ("\x00", "control characters"),
        ("src\x00/x.py", "control characters"),
        ("x" * 6000, "6,000 bytes long"),
        ("a/" * 600 + "x.py", "bytes long"),
        ("src/" + "n" * (MAX_NAME_BYTES + 1) + ".py", f"longer than {MAX_NAME_BYTES} bytes"),
        ("src/" + "\u00e9" * 128, f"longer than {MAX_NAME_BYTES} bytes"),  # 256 bytes
        ("/".join(["d" * 200] * 30), "bytes long"),
    ],
)
def test_unusable_paths_are_refused(path: str, reason: str) -> None:
    refusal = check_path(path, ())
    assert refusal is not None and reason in refusal
    assert len(refusal) < 120  # the reason never repeats the path


def test_the_limits_themselves_are_allowed() -> None:
    assert check_path("src/" + "n" * MAX_NAME_BYTES, ()) is None
    deep = "/".join(["d" * 99] * 10)  # 999 bytes
    assert check_path(deep, ()) is None
    longest = ("d" * 99 + "/") * 10 + "x" * (MAX_PATH_BYTES - 1000)
    assert len(longest.encode()) == MAX_PATH_BYTES and check_path(longest, ()) is None
    assert check_path(longest + "x", ()) is not None


@pytest.mark.parametrize("path", ["x" * 6000, "x" * 300, "a\x00b", "/".join(["d" * 250] * 20)])
def test_check_location_refuses_instead_of_raising(tmp_path: Path, path: str) -> None:
    refusal = check_location(tmp_path, path)
    assert refusal is not None and "cannot be used on disk" in refusal
    assert str(tmp_path) not in refusal  # no server folder in what the model or a person sees


def test_sparse_checkout_never_gets_an_unusable_path() -> None:
    answer = both(
        new_file("ok.py", "x = 1\n"),
        new_file("a\x00b.py", "x = 1\n"),
        new_file("x" * 6000, "x = 1\n"),
        new_file("../up.py", "x = 1\n"),
    )
    assert answer_paths(answer) == ["ok.py"]


def test_problems_show_a_hostile_path_escaped_and_cut() -> None:
    problem = EditProblem("a\x00b" + "x" * 6000, "bad", 3)
    text = problem.render()
    assert "\x00" not in text and "\\x00" in text and len(text) < 300
    assert "(6,003 characters)" in text
    assert problem.brief().endswith(": bad")
    assert shown("src/ok.py") == "src/ok.py"
