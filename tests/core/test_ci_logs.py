"""Choosing the part of a CI log a model should see."""

from __future__ import annotations

from bot.core.ci_logs import log_excerpt

SETUP = "".join(
    f"2026-11-22T04:00:{i % 60:02d}.1234567Z Downloading action repository 'actions/setup-{i}'\n"
    for i in range(200)
)
ACTIONS_LOG = (
    SETUP
    + "2026-11-22T04:01:00.0000000Z ============================= test session starts ===\n"
    + "2026-11-22T04:01:01.0000000Z \x1b[31mFAILED\x1b[0m tests/test_ops.py::test_add\n"
    + "2026-11-22T04:01:01.0000000Z     def test_add():\n"
    + "2026-11-22T04:01:01.0000000Z >       assert add(2, 3) == 5\n"
    + "2026-11-22T04:01:01.0000000Z E   AssertionError: assert -1 == 5\n"
    + "2026-11-22T04:01:02.0000000Z ##[error]Process completed with exit code 1.\n"
    + "2026-11-22T04:01:03.0000000Z Post job cleanup.\n"
)


def test_the_failing_stretch_is_kept_and_the_setup_left_out() -> None:
    text = log_excerpt(ACTIONS_LOG)
    assert "E   AssertionError: assert -1 == 5" in text and "exit code 1" in text
    assert "FAILED tests/test_ops.py::test_add" in text  # colours gone
    assert "\x1b[" not in text and "2026-11-22T" not in text
    assert "setup-0'" not in text and "earlier log lines left out" in text


def test_a_log_without_failure_markers_gives_its_tail() -> None:
    log = "".join(f"step {i}\n" for i in range(500))
    text = log_excerpt(log)
    assert text.endswith("step 499") and "step 100\n" not in text


def test_the_excerpt_is_bounded() -> None:
    log = "error: boom\n" * 10_000
    assert len(log_excerpt(log, max_chars=1000)) <= 1000
