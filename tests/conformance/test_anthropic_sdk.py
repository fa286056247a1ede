"""The official `anthropic` Python SDK, pointed at the simulator, parses its
Messages responses, named-event streams, tool use, thinking and errors.

Token numbers are worked out by hand from the simulator's documented rules
(tests/simulator/src/lib.rs). The Messages request is counted as its OpenAI
equivalent: 3 + per message (4 + tokens(text) + 85 per image + per tool call
tokens(name) + tokens(arguments)), the system prompt counting as one message,
each tool_result block as one tool message, plus per tool 8 + tokens(description)
+ number of properties.
"""

from __future__ import annotations

import base64

import anthropic
import pytest

MODEL = "claude-haiku-4-5"
HELLO_REPLY = "Hello from the simulator. You said: Say hello to the world"

WEATHER_TOOL = {
    "name": "get_weather",
    "description": "Get the current weather",
    "input_schema": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
    },
}

PNG_1X1 = base64.b64encode(
    bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
        "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082"
    )
).decode()


@pytest.fixture(scope="module")
def client(sim):
    with anthropic.Anthropic(
        api_key=sim.api_key, base_url=sim.anthropic_base, max_retries=0, timeout=10
    ) as c:
        yield c


def test_messages_create(client, sim):
    msg = client.messages.create(
        model=MODEL,
        max_tokens=100,
        system="You are terse.",
        messages=[{"role": "user", "content": "Say hello to the world"}],
    )
    assert isinstance(msg, anthropic.types.Message)
    assert msg.type == "message"
    assert msg.role == "assistant"
    assert msg.model == MODEL
    assert msg.id.startswith("msg_")
    assert msg.stop_reason == "end_turn"
    assert msg.stop_sequence is None
    assert [b.type for b in msg.content] == ["text"]
    assert msg.content[0].text == HELLO_REPLY
    # prompt: 3 + system (4 + 3) + user (4 + 5) = 19; output: 11 words
    assert msg.usage.input_tokens == 19
    assert msg.usage.output_tokens == 11
    assert msg.usage.cache_read_input_tokens == 0
    assert msg.usage.cache_creation_input_tokens == 0
    headers = sim.last_request()["headers"]
    # The SDK pins its own API version; the simulator requires one to be sent.
    assert headers["anthropic-version"]


def test_stop_sequence_and_max_tokens(client):
    msg = client.messages.create(
        model=MODEL,
        max_tokens=100,
        stop_sequences=["simulator"],
        messages=[{"role": "user", "content": "Say hello"}],
    )
    assert msg.stop_reason == "stop_sequence"
    assert msg.stop_sequence == "simulator"
    assert msg.content[0].text == "Hello from the "
    msg = client.messages.create(
        model=MODEL, max_tokens=2, messages=[{"role": "user", "content": "Say hello"}]
    )
    assert msg.stop_reason == "max_tokens"
    assert msg.content[0].text == "Hello from"
    assert msg.usage.output_tokens == 2


def test_stream_events_and_final_message(client):
    with client.messages.stream(
        model=MODEL,
        max_tokens=100,
        messages=[{"role": "user", "content": "Say hello to the world"}],
    ) as stream:
        kinds = []
        text = []
        for event in stream:
            kinds.append(event.type)
            if event.type == "content_block_delta" and event.delta.type == "text_delta":
                text.append(event.delta.text)
        final = stream.get_final_message()
    assert kinds[0] == "message_start"
    assert kinds[-1] == "message_stop"
    for expected in ("content_block_start", "content_block_delta", "content_block_stop", "message_delta"):
        assert expected in kinds
    assert "".join(text) == HELLO_REPLY
    assert final.content[0].text == HELLO_REPLY
    assert final.stop_reason == "end_turn"
    # prompt: 3 + user (4 + 5) = 12
    assert final.usage.input_tokens == 12
    assert final.usage.output_tokens == 11


def test_raw_stream_usage_is_cumulative(client):
    events = list(
        client.messages.create(
            model=MODEL,
            max_tokens=100,
            stream=True,
            messages=[{"role": "user", "content": "Say hello to the world"}],
        )
    )
    start = events[0]
    assert start.type == "message_start"
    assert start.message.usage.input_tokens == 12
    assert start.message.usage.output_tokens == 1
    delta = [e for e in events if e.type == "message_delta"][-1]
    assert delta.delta.stop_reason == "end_turn"
    assert delta.usage.output_tokens == 11


def test_tool_use_round_trip(client):
    messages: list = [{"role": "user", "content": "What is the weather in Paris?"}]
    first = client.messages.create(
        model=MODEL,
        max_tokens=100,
        messages=messages,
        tools=[WEATHER_TOOL],
        tool_choice={"type": "any"},
    )
    assert first.stop_reason == "tool_use"
    (use,) = first.content
    assert use.type == "tool_use"
    assert use.id.startswith("toolu_")
    assert use.name == "get_weather"
    assert use.input == {"city": "sample"}
    # prompt: 3 + user (4 + 6) + tool (8 + 4 + 1) = 26; output: 1 + 1
    assert first.usage.input_tokens == 26
    assert first.usage.output_tokens == 2

    messages.append({"role": "assistant", "content": first.content})
    messages.append(
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": use.id, "content": "sunny, 21C"}],
        }
    )
    second = client.messages.create(
        model=MODEL, max_tokens=100, messages=messages, tools=[WEATHER_TOOL]
    )
    assert second.stop_reason == "end_turn"
    assert second.content[0].text == "Tool result received: sunny, 21C"
    # prompt: 26 + assistant (4 + name 1 + input 1) + tool result (4 + 2) = 38
    assert second.usage.input_tokens == 38
    assert second.usage.output_tokens == 5


def test_streamed_tool_use_accumulates_input(client):
    with client.messages.stream(
        model=MODEL,
        max_tokens=100,
        messages=[{"role": "user", "content": "Weather?"}],
        tools=[WEATHER_TOOL],
    ) as stream:
        final = stream.get_final_message()
    assert final.stop_reason == "tool_use"
    assert final.content[0].type == "tool_use"
    assert final.content[0].input == {"city": "sample"}


def test_thinking_blocks(client):
    msg = client.messages.create(
        model=MODEL,
        max_tokens=2000,
        thinking={"type": "enabled", "budget_tokens": 1024},
        messages=[{"role": "user", "content": "Say hello"}],
    )
    assert [b.type for b in msg.content] == ["thinking", "text"]
    assert msg.content[0].thinking == "Let me think about that."
    assert msg.content[0].signature
    # output: 8 reply words + 5 thinking words
    assert msg.usage.output_tokens == 13
    with client.messages.stream(
        model=MODEL,
        max_tokens=2000,
        thinking={"type": "enabled", "budget_tokens": 1024},
        messages=[{"role": "user", "content": "Say hello"}],
    ) as stream:
        final = stream.get_final_message()
    assert final.content[0].thinking == "Let me think about that."
    assert final.content[0].signature
    assert final.usage.output_tokens == 13


def test_image_and_cache_usage(client):
    msg = client.messages.create(
        model=MODEL,
        max_tokens=100,
        system=[{"type": "text", "text": "You describe images.", "cache_control": {"type": "ephemeral"}}],
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG_1X1}},
                    {"type": "text", "text": "What is this?"},
                ],
            }
        ],
    )
    assert msg.content[0].text == "Hello from the simulator. You said: What is this? I see 1 image."
    # prompt: 3 + system (4 + 3) + user (4 + 3 + 85) = 102, split by the
    # simulator's cache rule: read 51, written 25, plain input 26.
    u = msg.usage
    assert (u.input_tokens, u.cache_read_input_tokens, u.cache_creation_input_tokens) == (26, 51, 25)


def test_models_list(client):
    page = client.models.list()
    ids = [m.id for m in page.data]
    assert "claude-haiku-4-5-20251001" in ids


def test_errors(client, sim):
    with anthropic.Anthropic(api_key="wrong", base_url=sim.anthropic_base, max_retries=0) as bad:
        with pytest.raises(anthropic.AuthenticationError) as info:
            bad.messages.create(model=MODEL, max_tokens=5, messages=[{"role": "user", "content": "hi"}])
    assert info.value.status_code == 401
    assert info.value.body["error"]["type"] == "authentication_error"

    with pytest.raises(anthropic.NotFoundError) as info:
        client.messages.create(model="sim-missing", max_tokens=5, messages=[{"role": "user", "content": "hi"}])
    assert info.value.body["error"]["message"] == "model: sim-missing"

    with pytest.raises(anthropic.BadRequestError) as info:
        client.messages.create(
            model=MODEL, max_tokens=5, messages=[{"role": "user", "content": "hi"}],
            extra_body={"stream_options": {"include_usage": True}},
        )
    assert "stream_options" in info.value.body["error"]["message"]

    with pytest.raises(anthropic.RateLimitError) as info:
        client.messages.create(
            model=MODEL, max_tokens=5, messages=[{"role": "user", "content": "hi"}],
            extra_headers={"x-simulator-fault": "status=429;retry_after=1"},
        )
    assert info.value.response.headers["retry-after"] == "1"
    assert info.value.body["error"]["type"] == "rate_limit_error"

    with pytest.raises(anthropic.InternalServerError) as info:
        client.messages.create(
            model=MODEL, max_tokens=5, messages=[{"role": "user", "content": "hi"}],
            extra_headers={"x-simulator-fault": "status=529"},
        )
    assert info.value.status_code == 529
    assert info.value.body["error"]["type"] == "overloaded_error"


def test_error_event_after_200_raises(client):
    with pytest.raises(anthropic.APIStatusError) as info:
        with client.messages.stream(
            model=MODEL,
            max_tokens=100,
            messages=[{"role": "user", "content": "Say hello to the world"}],
            extra_headers={"x-simulator-fault": "error=3"},
        ) as stream:
            for _ in stream:
                pass
    assert "Overloaded" in str(info.value)
