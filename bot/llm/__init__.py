"""LLM providers on httpx: OpenAI-compatible chat completions and Anthropic messages.

Callers use `make_client(...)` and the types below; provider modules stay internal.
"""

from .base import (
    AuthenticationError,
    ChatMessage,
    ConfigurationError,
    ContentFilteredError,
    ContextTooLongError,
    DeadlineExceededError,
    InvalidRequestError,
    LLMClient,
    LLMError,
    LLMRequest,
    LLMResponse,
    MalformedResponseError,
    ProviderUnavailableError,
    QuotaError,
    RateLimitedError,
    ResponseTooLargeError,
)
from .factory import PROVIDERS, make_client
from .pricing import ModelPrice, PricingTable, cost_usd
from .retry import RetryPolicy

__all__ = [
    "PROVIDERS",
    "AuthenticationError",
    "ChatMessage",
    "ConfigurationError",
    "ContentFilteredError",
    "ContextTooLongError",
    "DeadlineExceededError",
    "InvalidRequestError",
    "LLMClient",
    "LLMError",
    "LLMRequest",
    "LLMResponse",
    "MalformedResponseError",
    "ModelPrice",
    "PricingTable",
    "ProviderUnavailableError",
    "QuotaError",
    "RateLimitedError",
    "ResponseTooLargeError",
    "RetryPolicy",
    "cost_usd",
    "make_client",
]
