"""CLI commands that work on local files: plan, apply, context rank, prompts check, stats,
cleanup. Each module keeps its logic; this file only wires arguments to it."""

from __future__ import annotations

import argparse
from typing import Any


def register_tools(sub: Any) -> None:
    """Registered as they land; see bot/cli.py for the server commands."""
    _ = (sub, argparse)
