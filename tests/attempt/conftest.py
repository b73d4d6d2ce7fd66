"""Attempt tests write answers into real git checkouts: the same isolated git as tests/git."""

from tests.git.conftest import git_env

__all__ = ["git_env"]
