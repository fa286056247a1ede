"""Money is exact: Decimal everywhere, equal to catalog price × tokens."""

from __future__ import annotations

from decimal import Decimal

import pytest

from indoxrouter import Client, Cost, Usage

MILLION = Decimal(1_000_000)


def walk(value):
    if isinstance(value, dict):
        for v in value.values():
            yield from walk(v)
    elif isinstance(value, list):
        for v in value:
            yield from walk(v)
    else:
        yield value


def test_reference_cost(client: Client):
    cost = client.cost("openai/gpt-4o-mini", {"prompt_tokens": 23, "completion_tokens": 18})
    assert isinstance(cost, Cost)
    assert cost.total == Decimal("0.00001425")
    assert str(cost.total) == "0.00001425"
    assert cost.input == Decimal("0.00000345") and cost.output == Decimal("0.0000108")


def test_cost_accepts_usage_objects_and_details(client: Client):
    usage = client.chat("Hello").usage
    assert isinstance(usage, Usage)
    assert client.cost("openai/gpt-4o-mini", usage) == client.chat("Hello").cost
    cached = client.cost(
        "openai/gpt-4o-mini",
        {"prompt_tokens": 1000, "completion_tokens": 0, "prompt_tokens_details": {"cached_tokens": 400}},
    )
    assert cached.input == 600 * Decimal("0.15") / MILLION
    assert cached.cached_input == 400 * Decimal("0.075") / MILLION
    assert cached.total == cached.input + cached.cached_input


@pytest.mark.parametrize(
    "model",
    ["openai/gpt-4o-mini", "anthropic/claude-haiku-4-5", "gemini/gemini-2.5-flash",
     "cohere/command-r-08-2024", "mistral/mistral-small-latest"],
)
def test_chat_cost_is_price_times_tokens(client: Client, model: str):
    resp = client.chat("What does this cost exactly?", model=model)
    prices = client.model(model).pricing
    expected = (
        resp.usage.prompt_tokens * prices["input"] + resp.usage.completion_tokens * prices["output"]
    ) / MILLION
    assert resp.cost.total == expected
    assert all(not isinstance(v, float) for v in walk(resp.to_dict()["cost"]))
    assert all(isinstance(v, Decimal) for v in walk(resp.to_dict()["cost"]))


def test_large_sums_stay_exact(client: Client):
    # A float would drift here; 10 billion tokens at $0.15/M is $1500 exactly.
    cost = client.cost("openai/gpt-4o-mini", {"prompt_tokens": 10_000_000_000, "completion_tokens": 1})
    assert cost.input == Decimal("1500")
    assert cost.total == Decimal("1500.0000006")


def test_unpriced_is_none_not_zero(client: Client):
    # A catalog model without token prices (an image model) is unpriced for tokens.
    assert client.cost("openai/dall-e-3", {"prompt_tokens": 10, "completion_tokens": 10}) is None


def test_pricing_in_catalog_is_decimal(client: Client):
    for m in client.models("openai"):
        for v in walk(m.pricing):
            assert not isinstance(v, float)
