"""Adapter around the `git` binary: mirrors, worktrees, sparse checkouts, pushes."""
