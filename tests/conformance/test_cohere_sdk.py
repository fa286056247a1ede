"""The official `cohere` Python SDK (v2 client), pointed at the simulator,
parses its chat answers, event streams, tool calls, embeddings and errors.

Token numbers follow the simulator's documented rules
(tests/simulator/src/lib.rs): billed input = 3 + per message (4 +
tokens(text) + per tool call tokens(name) + tokens(arguments)) + per tool
(8 + tokens(description) + number of properties); `usage.tokens` adds 10
preamble input tokens and 1 output token that are not billed. A tool call's
output also counts its tool plan, "I will use the <name> tool." (6 words).
"""

from __future__ import annotations

import json
import math

import cohere
import pytest

MODEL = "command-a-03-2025"
HELLO_REPLY = "Hello from the simulator. You said: Say hello to the world"

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}


@pytest.fixture(scope="module")
def client(sim):
    return cohere.ClientV2(api_key=sim.api_key, base_url=sim.cohere_base, timeout=10)


def test_chat(client, sim):
    resp = client.chat(
        model=MODEL,
        messages=[
            {"role": "system", "content": "You are terse."},
            {"role": "user", "content": "Say hello to the world"},
        ],
    )
    assert resp.finish_reason == "COMPLETE"
    assert resp.message.role == "assistant"
    assert resp.message.content[0].type == "text"
    assert resp.message.content[0].text == HELLO_REPLY
    # billed: 3 + system (4 + 3) + user (4 + 5) = 19; 11 words.
    assert resp.usage.billed_units.input_tokens == 19
    assert resp.usage.billed_units.output_tokens == 11
    assert resp.usage.tokens.input_tokens == 29
    assert resp.usage.tokens.output_tokens == 12
    req = sim.last_request()
    assert req["path"] == "/cohere/v2/chat"
    assert req["headers"]["authorization"].startswith("Bearer ")


def test_chat_stream(client):
    events = list(
        client.chat_stream(model=MODEL, messages=[{"role": "user", "content": "Say hello to the world"}])
    )
    kinds = [e.type for e in events]
    assert kinds[0] == "message-start"
    assert kinds[1] == "content-start"
    assert kinds[-2] == "content-end"
    assert kinds[-1] == "message-end"
    text = "".join(e.delta.message.content.text for e in events if e.type == "content-delta")
    assert text == HELLO_REPLY
    end = events[-1]
    assert end.delta.finish_reason == "COMPLETE"
    # billed: 3 + user (4 + 5) = 12
    assert end.delta.usage.billed_units.input_tokens == 12
    assert end.delta.usage.billed_units.output_tokens == 11


def test_tool_call_round_trip(client):
    messages: list = [{"role": "user", "content": "What is the weather in Paris?"}]
    first = client.chat(model=MODEL, messages=messages, tools=[WEATHER_TOOL], tool_choice="REQUIRED")
    assert first.finish_reason == "TOOL_CALL"
    assert first.message.tool_plan == "I will use the get_weather tool."
    (call,) = first.message.tool_calls
    assert call.id.startswith("get_weather_")
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"city": "sample"}
    # billed: 3 + user (4 + 6) + tool (8 + 4 + 1) = 26; output 1 + 1 + plan 6.
    assert first.usage.billed_units.input_tokens == 26
    assert first.usage.billed_units.output_tokens == 8

    messages.append(
        {"role": "assistant", "tool_plan": first.message.tool_plan, "tool_calls": first.message.tool_calls}
    )
    messages.append(
        {
            "role": "tool",
            "tool_call_id": call.id,
            "content": [{"type": "document", "document": {"data": "sunny, 21C"}}],
        }
    )
    second = client.chat(model=MODEL, messages=messages, tools=[WEATHER_TOOL])
    assert second.finish_reason == "COMPLETE"
    assert second.message.content[0].text == "Tool result received: sunny, 21C"


def test_streamed_tool_call(client):
    events = list(
        client.chat_stream(
            model=MODEL, messages=[{"role": "user", "content": "Weather?"}], tools=[WEATHER_TOOL]
        )
    )
    kinds = {e.type for e in events}
    assert {"tool-plan-delta", "tool-call-start", "tool-call-delta", "tool-call-end"} <= kinds
    plan = "".join(e.delta.message.tool_plan for e in events if e.type == "tool-plan-delta")
    assert plan == "I will use the get_weather tool."
    start = next(e for e in events if e.type == "tool-call-start")
    assert start.delta.message.tool_calls.function.name == "get_weather"
    args = "".join(
        e.delta.message.tool_calls.function.arguments for e in events if e.type == "tool-call-delta"
    )
    assert json.loads(args) == {"city": "sample"}
    assert events[-1].delta.finish_reason == "TOOL_CALL"


def test_json_mode_stop_and_max_tokens(client):
    resp = client.chat(
        model=MODEL,
        messages=[{"role": "user", "content": "Say hello"}],
        response_format={"type": "json_object"},
    )
    assert json.loads(resp.message.content[0].text) == {"reply": "Hello from the simulator. You said: Say hello"}
    resp = client.chat(model=MODEL, messages=[{"role": "user", "content": "Say hello"}], max_tokens=2)
    assert resp.finish_reason == "MAX_TOKENS"
    assert resp.message.content[0].text == "Hello from"
    resp = client.chat(
        model=MODEL, messages=[{"role": "user", "content": "Say hello"}], stop_sequences=["simulator"]
    )
    assert resp.finish_reason == "STOP_SEQUENCE"


def test_embed(client):
    resp = client.embed(
        model="embed-v4.0",
        texts=["hello world", "another text to embed"],
        input_type="search_document",
        embedding_types=["float"],
    )
    floats = resp.embeddings.float_
    assert len(floats) == 2
    for v in floats:
        assert len(v) == 1536
        assert math.sqrt(sum(x * x for x in v)) == pytest.approx(1.0, abs=1e-5)
    assert resp.meta.billed_units.input_tokens == 2 + 4


def test_errors(client, sim):
    bad = cohere.ClientV2(api_key="wrong", base_url=sim.cohere_base, timeout=10)
    with pytest.raises(cohere.errors.UnauthorizedError) as info:
        bad.chat(model=MODEL, messages=[{"role": "user", "content": "hi"}])
    assert info.value.body["message"] == "invalid api token"

    with pytest.raises(cohere.errors.NotFoundError) as info:
        client.chat(model="sim-missing", messages=[{"role": "user", "content": "hi"}])
    assert "not found" in info.value.body["message"]

    with pytest.raises(cohere.errors.BadRequestError) as info:
        client.embed(model="embed-v4.0", texts=["x"], input_type="bogus", embedding_types=["float"])
    assert "input_type bogus" in info.value.body["message"]

    with pytest.raises(cohere.errors.TooManyRequestsError):
        client.chat(
            model=MODEL,
            messages=[{"role": "user", "content": "hi"}],
            request_options={"additional_headers": {"x-simulator-fault": "status=429"}, "max_retries": 0},
        )
