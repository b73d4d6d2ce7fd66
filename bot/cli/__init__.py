"""Every `issuewright …` command; `main` is the entry point."""

from bot.cli.main import main

__all__ = ["main"]
