"""The official `mistralai` Python SDK (v3, `mistralai.client`), pointed at the
simulator, parses its answers.

Token numbers are worked out by hand from the simulator's documented rules
(tests/simulator/src/lib.rs): tokens(text) = whitespace-separated words;
chat prompt = 3 + per message (4 + tokens(content) + tokens(name) + per tool
call tokens(name) + tokens(arguments)) + per tool (8 + tokens(description) +
number of parameter properties).
"""

from __future__ import annotations

import json
import math
import re

import pytest
from mistralai.client import Mistral, errors, models

MODEL = "mistral-small-latest"
HELLO_REPLY = "Hello from the simulator. You said: Say hello to the world"

WEATHER_TOOL = models.Tool(
    type="function",
    function=models.Function(
        name="get_weather",
        description="Get the current weather",
        parameters={
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    ),
)


@pytest.fixture(scope="module")
def client(sim):
    with Mistral(api_key=sim.api_key, server_url=sim.mistral_base, timeout_ms=10_000) as c:
        yield c


def test_chat_complete(client):
    resp = client.chat.complete(
        model=MODEL,
        messages=[
            models.SystemMessage(content="You are terse."),
            models.UserMessage(content="Say hello to the world"),
        ],
    )
    assert resp.object == "chat.completion"
    assert resp.model == MODEL
    assert len(resp.choices) == 1
    choice = resp.choices[0]
    assert choice.index == 0
    assert choice.finish_reason == "stop"
    assert choice.message.role == "assistant"
    assert choice.message.content == HELLO_REPLY
    assert not choice.message.tool_calls
    # prompt: 3 + system (4 + 3) + user (4 + 5) = 19; completion: 11 words
    assert resp.usage.prompt_tokens == 19
    assert resp.usage.completion_tokens == 11
    assert resp.usage.total_tokens == 30


def test_chat_stream(client):
    with client.chat.stream(
        model=MODEL, messages=[models.UserMessage(content="Say hello to the world")]
    ) as stream:
        events = list(stream)
    chunks = [e.data for e in events]
    assert all(c.object == "chat.completion.chunk" for c in chunks)
    assert len({c.id for c in chunks}) == 1
    # role chunk + one chunk per word + final chunk with the finish reason
    assert len(chunks) == 1 + 11 + 1
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert text == HELLO_REPLY
    assert [c.choices[0].finish_reason for c in chunks[:-1]] == [None] * 12
    final = chunks[-1]
    assert final.choices[0].finish_reason == "stop"
    assert all(c.usage is None for c in chunks[:-1])
    # prompt: 3 + user (4 + 5) = 12
    assert final.usage.prompt_tokens == 12
    assert final.usage.completion_tokens == 11
    assert final.usage.total_tokens == 23


def test_tool_call_round_trip(client):
    messages: list = [models.UserMessage(content="What is the weather in Paris?")]
    first = client.chat.complete(
        model=MODEL, messages=messages, tools=[WEATHER_TOOL], tool_choice="any"
    )
    choice = first.choices[0]
    assert choice.finish_reason == "tool_calls"
    assistant = choice.message
    assert assistant.content == ""
    assert len(assistant.tool_calls) == 1
    call = assistant.tool_calls[0]
    assert re.fullmatch(r"[A-Za-z0-9]{9}", call.id)
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"city": "sample"}
    # prompt: 3 + user (4 + 6) + tool (8 + 4 + 1) = 26; completion: 1 + 1
    assert first.usage.prompt_tokens == 26
    assert first.usage.completion_tokens == 2

    # Send the assistant message back as parsed, then the tool's answer.
    messages.append(assistant)
    messages.append(
        models.ToolMessage(tool_call_id=call.id, name="get_weather", content="sunny, 21C")
    )
    second = client.chat.complete(model=MODEL, messages=messages, tools=[WEATHER_TOOL])
    answer = second.choices[0]
    assert answer.finish_reason == "stop"
    assert answer.message.content == "Tool result received: sunny, 21C"
    assert not answer.message.tool_calls
    # prompt: 26 + assistant (4 + 0 + name 1 + arguments 1)
    #            + tool message (4 + 2 + name 1) = 39; completion: 5 words
    assert second.usage.prompt_tokens == 39
    assert second.usage.completion_tokens == 5
    assert second.usage.total_tokens == 44


def test_embeddings(client):
    resp = client.embeddings.create(
        model="mistral-embed", inputs=["hello world", "another text to embed"]
    )
    assert resp.model == "mistral-embed"
    assert [d.index for d in resp.data] == [0, 1]
    for item in resp.data:
        assert len(item.embedding) == 1024
        assert math.sqrt(sum(x * x for x in item.embedding)) == pytest.approx(1.0, abs=1e-5)
    assert resp.data[0].embedding != resp.data[1].embedding
    assert resp.usage.prompt_tokens == 2 + 4
    assert resp.usage.total_tokens == 6


def test_wrong_key_raises_sdk_error(sim):
    with Mistral(api_key="wrong-key", server_url=sim.mistral_base, timeout_ms=10_000) as bad:
        with pytest.raises(errors.SDKError) as info:
            bad.chat.complete(model=MODEL, messages=[models.UserMessage(content="hi")])
    err = info.value
    assert isinstance(err, errors.MistralError)
    assert err.status_code == 401
    assert json.loads(err.body) == {"detail": "Unauthorized"}


def test_unknown_model_raises_sdk_error(client):
    with pytest.raises(errors.SDKError) as info:
        client.chat.complete(model="sim-missing", messages=[models.UserMessage(content="hi")])
    err = info.value
    assert err.status_code == 404
    assert "Invalid model: sim-missing" in err.body
