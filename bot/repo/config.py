"""The LLM a repository uses: an endpoint and model the operator offers (bot/core/policy.py)."""

from __future__ import annotations

from bot.core.policy import LLMChoice, choose_llm
from bot.settings import RepoConfig, Settings


def llm_choice(config: RepoConfig, settings: Settings) -> LLMChoice | None:
    """The operator's endpoint and model a repository uses, or None (plan-only mode)."""
    return choose_llm(config, settings.policy)[0]
