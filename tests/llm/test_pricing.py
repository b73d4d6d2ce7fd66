"""Cost per call from reported usage; unknown (local) models are free but flagged."""

from __future__ import annotations

import pytest

from bot.llm.pricing import DEFAULT_PRICES, PricingTable, cost_usd


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        ("gpt-4o-mini", (0.15, 0.60)),
        ("gpt-4o-mini-2024-07-18", (0.15, 0.60)),  # dated id: an explicit alias
        ("gpt-4o-2024-08-06", (2.50, 10.00)),
        ("claude-sonnet-4-5-20250929", (3.00, 15.00)),
        ("claude-3-5-haiku-latest", (0.80, 4.00)),
        ("llama-3.3-70b-versatile", (0.59, 0.79)),
        ("meta-llama/Llama-3.3-70B-Instruct-Turbo", (0.88, 0.88)),  # case as Together spells it
    ],
)
def test_known_models(model: str, expected: tuple[float, float]) -> None:
    price = PricingTable().price(model)
    assert (price.input_per_mtok, price.output_per_mtok) == expected and price.known


@pytest.mark.parametrize(
    "model",
    [
        "qwen2.5-coder:7b",
        "SmolLM2-135M-Instruct-Q8_0.gguf",
        "gpt-4oz",
        "gpt-4",
        # Never by prefix: a longer id is another model, often a dearer one.
        "o1-pro",
        "gpt-4o-mini-realtime-preview",
        "claude-opus-4-5-thinking",
        "gpt-4o-mini:free",
        # Routers price their own ids: the operator adds them with LLM_PRICING.
        "openrouter/anthropic/claude-haiku-4-5",
    ],
)
def test_unknown_models_are_not_priced_and_say_so(model: str) -> None:
    table = PricingTable()
    assert table.price(model).known is False
    assert not table.is_known(model)
    assert table.cost_usd(model, 10_000, 10_000) == 0.0


def test_cost_from_usage() -> None:
    # 87 prompt + 46 completion tokens on gpt-4o-mini, as in the recorded answer
    assert cost_usd("gpt-4o-mini-2024-07-18", 87, 46) == pytest.approx(
        (87 * 0.15 + 46 * 0.60) / 1e6
    )
    assert cost_usd("claude-opus-4-1", 1_000_000, 1_000_000) == pytest.approx(90.0)


def test_overrides_win_and_add_models() -> None:
    overrides = [("gpt-4o-mini", 1.0, 2.0), ("qwen2.5-coder:7b", 0.01, 0.02)]
    table = PricingTable(overrides)
    assert table.cost_usd("gpt-4o-mini", 1_000_000, 1_000_000) == pytest.approx(3.0)
    assert table.price("qwen2.5-coder:7b").known
    assert cost_usd("qwen2.5-coder:7b", 1_000_000, 0, overrides) == pytest.approx(0.01)
    assert PricingTable().price("gpt-4o-mini").input_per_mtok == 0.15  # the default is untouched


def test_negative_prices_are_refused() -> None:
    with pytest.raises(ValueError, match="must not be negative"):
        PricingTable([("m", -1.0, 1.0)])


def test_negative_token_counts_cost_nothing() -> None:
    assert cost_usd("gpt-4o", -5, -5) == 0.0


def test_table_covers_each_vendor() -> None:
    keys = " ".join(DEFAULT_PRICES)
    for needle in ("gpt-", "claude-", "llama-3.3-70b-versatile", "meta-llama/"):
        assert needle in keys
