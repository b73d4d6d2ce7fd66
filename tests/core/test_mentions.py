"""What an issue names on purpose: paths, dotted modules and symbols, from prose and inline
code; code blocks, comments, frames, URLs and absolute paths are not names."""

from __future__ import annotations

from bot.core.mentions import Mentions, extract_mentions

FLASK_FEATURE = """`flask routes` prints a table that is hard to read from scripts.

- Add `flask routes --json` that prints the routes as JSON (endpoint, methods, rule)
- Add tests in `tests/test_cli.py`
- Document it in `docs/cli.rst` and CHANGES.rst
"""


def test_the_flask_feature_request_names_its_test_docs_and_changelog_files() -> None:
    found = extract_mentions(FLASK_FEATURE)
    assert found.paths == ("tests/test_cli.py", "docs/cli.rst", "CHANGES.rst")
    assert found.modules == () and found.symbols == ()  # a command line names no symbol


def test_modules_and_symbols_in_order_of_appearance() -> None:
    found = extract_mentions(
        "The bug is in flask.cli: `FlaskGroup` calls `Flask.run()` and "
        "`routes_command(app)`; see also `flask.json`."
    )
    assert found.modules == ("flask.cli", "Flask.run", "flask.json")
    assert found.symbols == ("FlaskGroup", "routes_command")


def test_code_blocks_comments_frames_urls_and_absolute_paths_are_not_names() -> None:
    body = (
        "It crashes:\n\n"
        "```\n"
        "Traceback (most recent call last):\n"
        '  File "/usr/lib/python3/site-packages/flask/app.py", line 3, in run\n'
        "  src/in_a_fence.py\n"
        "```\n\n"
        "    src/indented_code.py\n\n"
        "<!-- Please name the file, e.g. src/template_hint.py -->\n"
        'File "src/frame_outside_a_fence.py", line 9, in main\n'
        "See /home/me/project/abs.py and https://example.com/docs/page.rst.\n"
        "The real place is src/pkg/real.py.\n"
    )
    assert extract_mentions(body) == Mentions(paths=("src/pkg/real.py",))


def test_github_file_links_name_their_path() -> None:
    body = "See https://github.com/pallets/flask/blob/main/src/flask/helpers.py#L10-L20."
    assert extract_mentions(body).paths == ("src/flask/helpers.py",)


def test_relative_prefixes_and_trailing_punctuation_are_dropped() -> None:
    found = extract_mentions("Edit ./docs/usage.rst, ../README.md; and `Makefile`.")
    assert found.paths == ("docs/usage.rst", "README.md", "Makefile")


def test_words_that_only_look_like_names_are_not_taken() -> None:
    found = extract_mentions(
        "e.g. `None`, `x`, `self`, i.e. `a + b`, version 1.2.3, `pip install foo`"
    )
    assert found == Mentions()
    assert not found


def test_a_file_named_like_a_module_is_tried_as_both() -> None:
    found = extract_mentions("`flask.json` and `setup.py`")
    assert found.paths == ("flask.json", "setup.py")
    assert found.modules == ("flask.json",)  # `setup.py` is only a file


def test_repeats_are_kept_once_and_the_count_is_bounded() -> None:
    body = "`Foo` and `Foo` " + " ".join(f"`name_{i}`" for i in range(500))
    found = extract_mentions(body)
    assert found.symbols[0] == "Foo" and found.symbols.count("Foo") == 1
    assert len(found.symbols) == 50


def test_hostile_bodies_give_bounded_answers() -> None:
    # Each regex is linear; a backtracking one would hang here on 64 KB.
    for body in ("a." * 32_000, "`" * 64_000, "a/" * 32_000 + ".py", "`a." * 16_000):
        found = extract_mentions(body)
        assert all(len(kind) <= 50 for kind in (found.paths, found.modules, found.symbols))
