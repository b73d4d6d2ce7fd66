"""Every command and every option says what it is for, in `--help`."""

from __future__ import annotations

import argparse
from collections.abc import Iterator

import pytest

from bot.cli.main import build_parser, main


def commands(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser, argparse.Action | None]]:
    """(command words, its parser, the entry its parent lists it with) for the whole tree."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            listed = {choice.dest: choice for choice in action._choices_actions}
            for name, child in action.choices.items():
                yield (*path, name), child, listed.get(name)
                yield from commands(child, (*path, name))


def test_every_subcommand_and_option_has_help() -> None:
    parser = build_parser()
    missing = []
    walked = [((), parser, None), *commands(parser)]
    for path, command, entry in walked:
        name = " ".join(("issuewright", *path))
        if path and (entry is None or not entry.help):
            missing.append(f"{name}: no help in the command list")
        if path and not command.description:
            missing.append(f"{name}: no description in its --help")
        for action in command._actions:
            if isinstance(action, argparse._SubParsersAction):
                continue
            if not action.help or action.help == argparse.SUPPRESS:
                missing.append(f"{name} {'/'.join(action.option_strings) or action.dest}")
    assert missing == []
    # The walk sees the whole tree, the commands registered by other modules included.
    names = {" ".join(path) for path, _, _ in walked}
    assert {"db upgrade", "context rank", "prompts check", "stats", "cleanup", "plan"} <= names


@pytest.mark.parametrize("argv", [["plan"], ["context", "rank"], ["jobs"]])
def test_a_commands_help_says_what_it_does(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as done:
        main([*argv, "--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    [usage, *rest] = out.split("\n\n")
    assert usage.startswith(f"usage: issuewright {' '.join(argv)}")
    assert rest[0].strip().endswith(".") and not rest[0].startswith("options")
