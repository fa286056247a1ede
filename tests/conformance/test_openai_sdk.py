"""The official `openai` Python SDK, pointed at the simulator, parses its answers.

Token numbers are worked out by hand from the simulator's documented rules
(tests/simulator/src/lib.rs): tokens(text) = whitespace-separated words;
chat prompt = 3 + per message (4 + tokens(content)) + per tool
(8 + tokens(description) + number of parameter properties).
"""

from __future__ import annotations

import base64
import json
import math
import urllib.request

import openai
import pytest

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
HELLO_REPLY = "Hello from the simulator. You said: Say hello to the world"


@pytest.fixture(scope="module")
def client(sim):
    with openai.OpenAI(
        api_key=sim.api_key, base_url=sim.openai_base, max_retries=0, timeout=10
    ) as c:
        yield c


def norm(vector) -> float:
    return math.sqrt(sum(x * x for x in vector))


def test_chat_completion(client):
    resp = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[
            {"role": "system", "content": "You are terse."},
            {"role": "user", "content": "Say hello to the world"},
        ],
    )
    assert resp.object == "chat.completion"
    assert resp.id.startswith("chatcmpl-")
    assert resp.model == "gpt-4o-mini"
    assert len(resp.choices) == 1
    choice = resp.choices[0]
    assert choice.index == 0
    assert choice.finish_reason == "stop"
    assert choice.message.role == "assistant"
    assert choice.message.content == HELLO_REPLY
    assert choice.message.tool_calls is None
    # prompt: 3 + system (4 + "You are terse." 3) + user (4 + 5 words) = 19
    # completion: "Hello from the simulator. You said: Say hello to the world" = 11 words
    assert resp.usage.prompt_tokens == 19
    assert resp.usage.completion_tokens == 11
    assert resp.usage.total_tokens == 30
    assert resp.usage.completion_tokens_details.reasoning_tokens == 0
    assert resp.usage.prompt_tokens_details.cached_tokens == 0


def test_chat_stream_with_usage(client):
    stream = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": "Say hello to the world"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    assert all(c.object == "chat.completion.chunk" for c in chunks)
    assert len({c.id for c in chunks}) == 1

    *content_chunks, usage_chunk = chunks
    assert content_chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in content_chunks)
    assert text == HELLO_REPLY
    # role chunk + one chunk per word + finish chunk
    assert len(content_chunks) == 1 + 11 + 1
    assert content_chunks[-1].choices[0].finish_reason == "stop"
    assert all(c.usage is None for c in content_chunks)

    assert usage_chunk.choices == []
    # prompt: 3 + user (4 + 5) = 12
    assert usage_chunk.usage.prompt_tokens == 12
    assert usage_chunk.usage.completion_tokens == 11
    assert usage_chunk.usage.total_tokens == 23


def test_tool_call(client):
    tools = [
        {
            "type": "function",
            "function": {
                "name": "lookup_time",
                "description": "Look up the time",
                "parameters": {
                    "type": "object",
                    "properties": {"zone": {"type": "string"}},
                    "required": ["zone"],
                },
            },
        },
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "description": "Get the current weather",
                "parameters": {
                    "type": "object",
                    "properties": {
                        "city": {"type": "string"},
                        "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                    },
                    "required": ["unit", "city"],
                },
            },
        },
    ]
    resp = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": "What is the weather in Paris?"}],
        tools=tools,
        tool_choice={"type": "function", "function": {"name": "get_weather"}},
    )
    choice = resp.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content is None
    assert len(choice.message.tool_calls) == 1
    call = choice.message.tool_calls[0]
    assert call.type == "function"
    assert call.id.startswith("call_") and len(call.id) == len("call_") + 24
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"city": "sample", "unit": "celsius"}
    # prompt: 3 + user (4 + 6) + lookup_time (8 + 4 + 1) + get_weather (8 + 4 + 2) = 40
    # completion: tokens(name) 1 + tokens(arguments) 1 = 2
    assert resp.usage.prompt_tokens == 40
    assert resp.usage.completion_tokens == 2
    assert resp.usage.total_tokens == 42


def test_json_mode(client):
    resp = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": "Reply in JSON please"}],
        response_format={"type": "json_object"},
    )
    content = resp.choices[0].message.content
    assert json.loads(content) == {
        "reply": "Hello from the simulator. You said: Reply in JSON please"
    }
    assert resp.choices[0].finish_reason == "stop"
    # same token count as the plain reply: 6 + 4 words
    assert resp.usage.completion_tokens == 10
    assert resp.usage.prompt_tokens == 3 + 4 + 4


def test_legacy_completion(client):
    resp = client.completions.create(
        model="gpt-3.5-turbo-instruct", prompt="Once upon a time"
    )
    assert resp.object == "text_completion"
    assert resp.id.startswith("cmpl-")
    assert resp.model == "gpt-3.5-turbo-instruct"
    assert len(resp.choices) == 1
    assert resp.choices[0].text == "Hello from the simulator. You said: Once upon a time"
    assert resp.choices[0].finish_reason == "stop"
    # legacy prompt tokens carry no overhead
    assert resp.usage.prompt_tokens == 4
    assert resp.usage.completion_tokens == 10
    assert resp.usage.total_tokens == 14


def test_embeddings_default_encoding_is_base64(client, sim):
    resp = client.embeddings.create(model="text-embedding-3-small", input="hello world")
    # The SDK asks for base64 when no encoding_format is given, and decodes it.
    assert sim.last_request()["body"]["encoding_format"] == "base64"
    assert resp.object == "list"
    assert len(resp.data) == 1
    vector = resp.data[0].embedding
    assert isinstance(vector, list) and all(isinstance(x, float) for x in vector)
    assert len(vector) == 1536
    assert norm(vector) == pytest.approx(1.0, abs=1e-5)
    assert resp.usage.prompt_tokens == 2
    assert resp.usage.total_tokens == 2

    # The decoded base64 floats are the very vector the float encoding gives.
    as_floats = client.embeddings.create(
        model="text-embedding-3-small", input="hello world", encoding_format="float"
    )
    assert as_floats.data[0].embedding == pytest.approx(vector, abs=1e-6)


def test_embeddings_dimensions(client):
    resp = client.embeddings.create(
        model="text-embedding-3-small",
        input=["first text", "second text here"],
        dimensions=256,
    )
    assert [d.index for d in resp.data] == [0, 1]
    for item in resp.data:
        assert len(item.embedding) == 256
        assert norm(item.embedding) == pytest.approx(1.0, abs=1e-5)
    assert resp.data[0].embedding != resp.data[1].embedding
    assert resp.usage.prompt_tokens == 2 + 3


def test_image_dall_e_3_url(client, sim):
    resp = client.images.generate(model="dall-e-3", prompt="a red fox", size="1024x1024")
    assert len(resp.data) == 1
    image = resp.data[0]
    assert image.b64_json is None
    assert image.revised_prompt
    assert image.url.startswith(f"{sim.root}/__sim/images/")
    assert image.url.endswith(".png")
    with urllib.request.urlopen(image.url, timeout=5) as r:
        assert r.read().startswith(PNG_MAGIC)


def test_image_gpt_image_1_b64_with_usage(client):
    resp = client.images.generate(
        model="gpt-image-1", prompt="a red fox on a hill", size="1024x1024", quality="low"
    )
    assert len(resp.data) == 1
    image = resp.data[0]
    assert image.url is None
    assert base64.b64decode(image.b64_json).startswith(PNG_MAGIC)
    # input = tokens("a red fox on a hill") = 6; output for low 1024x1024 = 272
    assert resp.usage.input_tokens == 6
    assert resp.usage.output_tokens == 272
    assert resp.usage.total_tokens == 278


def test_models_list(client):
    models = list(client.models.list())
    ids = [m.id for m in models]
    assert len(ids) == len(set(ids))
    for expected in ("gpt-4o-mini", "gpt-3.5-turbo-instruct", "text-embedding-3-small", "dall-e-3", "gpt-image-1"):
        assert expected in ids
    assert all(m.object == "model" and m.owned_by and m.created > 0 for m in models)
    one = client.models.retrieve("gpt-4o-mini")
    assert one.id == "gpt-4o-mini"


def test_wrong_key_is_authentication_error(sim):
    with openai.OpenAI(
        api_key="sk-wrong-key-0000000000000", base_url=sim.openai_base, max_retries=0, timeout=10
    ) as bad:
        with pytest.raises(openai.AuthenticationError) as info:
            bad.chat.completions.create(
                model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]
            )
    err = info.value
    assert err.status_code == 401
    assert err.code == "invalid_api_key"
    assert "sk-wrong-key-0000000000000" not in str(err)


def test_rate_limit_fault_is_rate_limit_error(client, sim):
    before = sim.request_count()
    with pytest.raises(openai.RateLimitError) as info:
        client.chat.completions.create(
            model="gpt-4o-mini",
            messages=[{"role": "user", "content": "hi"}],
            extra_headers={"x-simulator-fault": "status=429;retry_after=0"},
        )
    err = info.value
    assert err.status_code == 429
    assert err.response.headers["retry-after"] == "0"
    # max_retries=0: exactly one request reached the simulator
    assert sim.request_count() == before + 1


def test_unknown_model_is_not_found_error(client):
    with pytest.raises(openai.NotFoundError) as info:
        client.chat.completions.create(
            model="sim-missing", messages=[{"role": "user", "content": "hi"}]
        )
    err = info.value
    assert err.status_code == 404
    assert "The model `sim-missing` does not exist" in err.message


def test_raw_bodies_validate_against_sdk_types(client):
    """The SDK builds its objects without validating them; validate the raw
    bodies against its pydantic types too, so a wrong type can't hide."""
    from openai.types import Completion, CreateEmbeddingResponse, ImagesResponse
    from openai.types.chat import ChatCompletion

    user = [{"role": "user", "content": "hi"}]
    cases = [
        (ChatCompletion, client.chat.completions.with_raw_response.create(model="gpt-4o-mini", messages=user)),
        (Completion, client.completions.with_raw_response.create(model="gpt-3.5-turbo-instruct", prompt="hi")),
        (
            CreateEmbeddingResponse,
            client.embeddings.with_raw_response.create(
                model="text-embedding-3-small", input="hi", encoding_format="float"
            ),
        ),
        (ImagesResponse, client.images.with_raw_response.generate(model="gpt-image-1", prompt="fox")),
    ]
    for model_type, raw in cases:
        assert raw.status_code == 200
        model_type.model_validate(json.loads(raw.text))
