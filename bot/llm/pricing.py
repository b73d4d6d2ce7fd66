"""USD per million tokens, per model, so every call's cost can be recorded and budgeted.

The built-in table holds list prices the vendors published (standard tier, no batch or cache
discounts). Prices change: operators override or add models with LLM_PRICING
(`Settings.llm_pricing_overrides`), which always wins over this table.

Prices match a model id exactly (case-insensitive) or through an explicit alias (a vendor's
dated id, a `-latest` name), never by prefix: `o1-pro` is not `o1`. A model the table does not
know — a local llama.cpp / Ollama model, or a new cloud model — has `known=False`, and calls to
it are refused until the operator prices it (LLM_PRICING, `0` for a free local model), so its
spend is never silently counted as $0.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

# (input, output) USD per 1M tokens.
DEFAULT_PRICES: dict[str, tuple[float, float]] = {
    # OpenAI
    "gpt-5": (1.25, 10.00),
    "gpt-5-mini": (0.25, 2.00),
    "gpt-5-nano": (0.05, 0.40),
    "gpt-4.1": (2.00, 8.00),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1-nano": (0.10, 0.40),
    "gpt-4o": (2.50, 10.00),
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4-turbo": (10.00, 30.00),
    "gpt-3.5-turbo": (0.50, 1.50),
    "o3": (2.00, 8.00),
    "o3-mini": (1.10, 4.40),
    "o4-mini": (1.10, 4.40),
    "o1": (15.00, 60.00),
    # Anthropic (dated ids are aliases below)
    "claude-opus-4-5": (5.00, 25.00),
    "claude-opus-4-1": (15.00, 75.00),
    "claude-opus-4": (15.00, 75.00),
    "claude-sonnet-4-5": (3.00, 15.00),
    "claude-sonnet-4": (3.00, 15.00),
    "claude-haiku-4-5": (1.00, 5.00),
    "claude-3-7-sonnet": (3.00, 15.00),
    "claude-3-5-sonnet": (3.00, 15.00),
    "claude-3-5-haiku": (0.80, 4.00),
    "claude-3-opus": (15.00, 75.00),
    "claude-3-haiku": (0.25, 1.25),
    # Groq
    "llama-3.3-70b-versatile": (0.59, 0.79),
    "llama-3.1-8b-instant": (0.05, 0.08),
    "openai/gpt-oss-120b": (0.15, 0.75),
    "openai/gpt-oss-20b": (0.10, 0.50),
    "qwen/qwen3-32b": (0.29, 0.59),
    "moonshotai/kimi-k2-instruct": (1.00, 3.00),
    # Together
    "meta-llama/llama-3.3-70b-instruct-turbo": (0.88, 0.88),
    "meta-llama/meta-llama-3.1-8b-instruct-turbo": (0.18, 0.18),
    "meta-llama/meta-llama-3.1-70b-instruct-turbo": (0.88, 0.88),
    "meta-llama/meta-llama-3.1-405b-instruct-turbo": (3.50, 3.50),
    "qwen/qwen2.5-coder-32b-instruct": (0.80, 0.80),
    "qwen/qwen2.5-72b-instruct-turbo": (1.20, 1.20),
    "deepseek-ai/deepseek-v3": (1.25, 1.25),
    "deepseek-ai/deepseek-r1": (3.00, 7.00),
}

# Other ids the vendors serve at the same price: dated snapshots and moving "-latest" names.
ALIASES: dict[str, str] = {
    "gpt-5-2025-08-07": "gpt-5",
    "gpt-5-mini-2025-08-07": "gpt-5-mini",
    "gpt-5-nano-2025-08-07": "gpt-5-nano",
    "gpt-4.1-2025-04-14": "gpt-4.1",
    "gpt-4.1-mini-2025-04-14": "gpt-4.1-mini",
    "gpt-4.1-nano-2025-04-14": "gpt-4.1-nano",
    "gpt-4o-2024-05-13": "gpt-4o",
    "gpt-4o-2024-08-06": "gpt-4o",
    "gpt-4o-2024-11-20": "gpt-4o",
    "gpt-4o-mini-2024-07-18": "gpt-4o-mini",
    "gpt-4-turbo-2024-04-09": "gpt-4-turbo",
    "gpt-3.5-turbo-0125": "gpt-3.5-turbo",
    "o3-2025-04-16": "o3",
    "o3-mini-2025-01-31": "o3-mini",
    "o4-mini-2025-04-16": "o4-mini",
    "o1-2024-12-17": "o1",
    "claude-opus-4-5-20251101": "claude-opus-4-5",
    "claude-opus-4-1-20250805": "claude-opus-4-1",
    "claude-opus-4-20250514": "claude-opus-4",
    "claude-opus-4-0": "claude-opus-4",
    "claude-sonnet-4-5-20250929": "claude-sonnet-4-5",
    "claude-sonnet-4-20250514": "claude-sonnet-4",
    "claude-sonnet-4-0": "claude-sonnet-4",
    "claude-haiku-4-5-20251001": "claude-haiku-4-5",
    "claude-3-7-sonnet-20250219": "claude-3-7-sonnet",
    "claude-3-7-sonnet-latest": "claude-3-7-sonnet",
    "claude-3-5-sonnet-20241022": "claude-3-5-sonnet",
    "claude-3-5-sonnet-20240620": "claude-3-5-sonnet",
    "claude-3-5-sonnet-latest": "claude-3-5-sonnet",
    "claude-3-5-haiku-20241022": "claude-3-5-haiku",
    "claude-3-5-haiku-latest": "claude-3-5-haiku",
    "claude-3-opus-20240229": "claude-3-opus",
    "claude-3-opus-latest": "claude-3-opus",
    "claude-3-haiku-20240307": "claude-3-haiku",
}


@dataclass(frozen=True)
class ModelPrice:
    input_per_mtok: float
    output_per_mtok: float
    known: bool = True  # False: not in the table; calls are refused until it is priced


UNKNOWN = ModelPrice(0.0, 0.0, known=False)


class PricingTable:
    """The built-in prices overlaid with operator overrides (model, input, output per MTok)."""

    def __init__(
        self,
        overrides: Iterable[tuple[str, float, float]] = (),
        base: dict[str, tuple[float, float]] | None = None,
    ) -> None:
        prices = dict(DEFAULT_PRICES if base is None else base)
        for model, input_per_mtok, output_per_mtok in overrides:
            if input_per_mtok < 0 or output_per_mtok < 0:
                raise ValueError(f"price for {model!r} must not be negative")
            prices[model] = (float(input_per_mtok), float(output_per_mtok))
        # Model ids are case-insensitive in practice (Together documents mixed case).
        self._prices = {k.lower(): v for k, v in prices.items()}

    def price(self, model: str) -> ModelPrice:
        key = model.strip().lower()
        key = key if key in self._prices else ALIASES.get(key, key)
        return ModelPrice(*self._prices[key]) if key in self._prices else UNKNOWN

    def is_known(self, model: str) -> bool:
        return self.price(model).known

    def cost_usd(self, model: str, input_tokens: int, output_tokens: int) -> float:
        price = self.price(model)
        return (
            max(input_tokens, 0) * price.input_per_mtok
            + max(output_tokens, 0) * price.output_per_mtok
        ) / 1_000_000


_DEFAULT_TABLE = PricingTable()


def cost_usd(
    model: str,
    input_tokens: int,
    output_tokens: int,
    overrides: Iterable[tuple[str, float, float]] = (),
) -> float:
    """USD for one call from the provider's reported usage."""
    table = PricingTable(overrides) if overrides else _DEFAULT_TABLE
    return table.cost_usd(model, input_tokens, output_tokens)
