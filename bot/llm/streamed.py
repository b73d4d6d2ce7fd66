"""A streamed answer as it arrives: its output tokens so far, for `LLMRequest.progress`,
and its size, held to the client's cap (LLM_MAX_RESPONSE_BYTES) on the text itself.

Until the provider reports usage the count is estimated from the text received (the same
estimate budgets use); a count the provider sends mid-stream (Anthropic's message_delta,
vLLM's continuous usage) is taken as soon as it is larger. The listener hears only changes,
and a listener that raises is dropped with a warning: a broken display never costs the
answer it displays.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable

from bot.core.budget import CHARS_PER_TOKEN

from .base import ResponseTooLargeError

log = logging.getLogger("bot.llm")


class TokenMeter:
    def __init__(
        self,
        listener: Callable[[int], None] | None,
        max_bytes: int | None = None,
        provider: str = "LLM",
    ) -> None:
        self._listener = listener
        self._max_bytes = max_bytes
        self._provider = provider
        self._bytes = 0
        self._chars = 0
        self._reported = 0
        self._told = 0

    @property
    def tokens(self) -> int:
        return max(math.ceil(self._chars / CHARS_PER_TOKEN), self._reported)

    def text(self, delta: str) -> None:
        """More answer text arrived (or thinking: it is billed as output too)."""
        if not delta:
            return
        self._chars += len(delta)
        self._bytes += len(delta.encode("utf-8", errors="replace"))
        if self._max_bytes is not None and self._bytes > self._max_bytes:
            raise ResponseTooLargeError(
                f"the streamed answer's text passed {self._max_bytes:,} bytes",
                provider=self._provider,
                limit_bytes=self._max_bytes,
            )
        self._tell()

    def reported(self, output_tokens: object) -> None:
        """The provider's own count so far, when a chunk carries one."""
        if isinstance(output_tokens, int) and not isinstance(output_tokens, bool):
            self._reported = max(self._reported, output_tokens)
            self._tell()

    def final(self, output_tokens: int) -> None:
        """The answer's real count, once it is complete (streamed or not)."""
        self._told = -1  # always said, even when equal to the estimate
        self._reported = self._chars = 0
        self._emit(output_tokens)

    def _tell(self) -> None:
        tokens = self.tokens
        if tokens != self._told:
            self._emit(tokens)

    def _emit(self, tokens: int) -> None:
        if self._listener is None:
            return
        self._told = tokens
        try:
            self._listener(tokens)
        except Exception:
            log.warning("LLM progress listener failed; the answer is read on", exc_info=True)
            self._listener = None
