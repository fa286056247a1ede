"""The official `google-genai` Python SDK, pointed at the simulator, parses its
generateContent answers, SSE streams, function calls, embeddings and errors.
(This SDK version offers Imagen only on Vertex AI, so `:predict` is covered by
the Rust tests alone.)

Token numbers follow the simulator's documented rules
(tests/simulator/src/lib.rs): the request is counted as its OpenAI
equivalent, 3 + per message (4 + tokens(text) + 85 per image + per function
call tokens(name) + tokens(args)), systemInstruction counting as one message
and each functionResponse as one tool message, plus per function declaration
8 + tokens(description) + number of properties.
"""

from __future__ import annotations

import math

import pytest
from google import genai
from google.genai import errors, types

MODEL = "gemini-2.5-flash"
HELLO_REPLY = "Hello from the simulator. You said: Say hello to the world"

WEATHER = types.FunctionDeclaration(
    name="get_weather",
    description="Get the current weather",
    parameters=types.Schema(
        type="OBJECT",
        properties={"city": types.Schema(type="STRING")},
        required=["city"],
    ),
)


def make_client(sim, key):
    return genai.Client(
        api_key=key,
        http_options=types.HttpOptions(base_url=sim.google_base, api_version="v1beta", timeout=10_000),
    )


@pytest.fixture(scope="module")
def client(sim):
    return make_client(sim, sim.api_key)


def test_generate_content(client, sim):
    resp = client.models.generate_content(
        model=MODEL,
        contents="Say hello to the world",
        config=types.GenerateContentConfig(system_instruction="You are terse."),
    )
    assert resp.text == HELLO_REPLY
    cand = resp.candidates[0]
    assert cand.finish_reason == types.FinishReason.STOP
    assert cand.content.role == "model"
    # prompt: 3 + system (4 + 3) + user (4 + 5) = 19; 11 words.
    assert resp.usage_metadata.prompt_token_count == 19
    assert resp.usage_metadata.candidates_token_count == 11
    assert resp.usage_metadata.total_token_count == 30
    assert resp.model_version == MODEL
    assert resp.response_id
    req = sim.last_request()
    assert req["path"].endswith("/v1beta/models/gemini-2.5-flash:generateContent")
    assert "x-goog-api-key" in req["headers"]


def test_stream(client):
    chunks = list(
        client.models.generate_content_stream(model=MODEL, contents="Say hello to the world")
    )
    assert len(chunks) == 11
    assert "".join(c.text for c in chunks) == HELLO_REPLY
    assert chunks[-1].candidates[0].finish_reason == types.FinishReason.STOP
    assert all(c.candidates[0].finish_reason is None for c in chunks[:-1])
    # Usage is cumulative: the last event has the totals.
    assert chunks[-1].usage_metadata.prompt_token_count == 12
    assert chunks[-1].usage_metadata.candidates_token_count == 11
    assert len({c.response_id for c in chunks}) == 1


def test_json_mode_and_limits(client):
    resp = client.models.generate_content(
        model=MODEL,
        contents="Say hello",
        config=types.GenerateContentConfig(response_mime_type="application/json"),
    )
    assert resp.text == '{"reply":"Hello from the simulator. You said: Say hello"}'
    resp = client.models.generate_content(
        model=MODEL, contents="Say hello", config=types.GenerateContentConfig(max_output_tokens=2)
    )
    assert resp.text == "Hello from"
    assert resp.candidates[0].finish_reason == types.FinishReason.MAX_TOKENS
    resp = client.models.generate_content(
        model=MODEL, contents="Say hello", config=types.GenerateContentConfig(candidate_count=2)
    )
    assert [c.index for c in resp.candidates] == [0, 1]


def test_function_call_round_trip(client):
    tools = [types.Tool(function_declarations=[WEATHER])]
    config = types.GenerateContentConfig(
        tools=tools,
        automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True),
        tool_config=types.ToolConfig(function_calling_config=types.FunctionCallingConfig(mode="ANY")),
    )
    first = client.models.generate_content(model=MODEL, contents="Weather in Paris?", config=config)
    (call,) = first.function_calls
    assert call.name == "get_weather"
    assert call.args == {"city": "sample"}
    # prompt: 3 + user (4 + 3) + tool (8 + 4 + 1) = 23; output 1 + 1.
    assert first.usage_metadata.prompt_token_count == 23
    assert first.usage_metadata.candidates_token_count == 2

    contents = [
        types.Content(role="user", parts=[types.Part(text="Weather in Paris?")]),
        first.candidates[0].content,
        types.Content(
            role="user",
            parts=[types.Part.from_function_response(name="get_weather", response={"result": "sunny, 21C"})],
        ),
    ]
    second = client.models.generate_content(
        model=MODEL, contents=contents, config=types.GenerateContentConfig(tools=tools)
    )
    assert second.text == "Tool result received: sunny, 21C"


def test_thinking(client):
    resp = client.models.generate_content(
        model=MODEL,
        contents="Say hello",
        config=types.GenerateContentConfig(
            thinking_config=types.ThinkingConfig(thinking_budget=1024, include_thoughts=True)
        ),
    )
    parts = resp.candidates[0].content.parts
    assert parts[0].thought is True
    assert parts[0].text == "Let me think about that."
    assert resp.usage_metadata.thoughts_token_count == 5
    assert resp.usage_metadata.candidates_token_count == 8
    assert resp.usage_metadata.total_token_count == resp.usage_metadata.prompt_token_count + 13


def test_image_input(client):
    png = bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
        "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082"
    )
    resp = client.models.generate_content(
        model=MODEL,
        contents=[types.Part.from_bytes(data=png, mime_type="image/png"), "What is this?"],
    )
    assert resp.text == "Hello from the simulator. You said: What is this? I see 1 image."
    # prompt: 3 + user (4 + 85 + 3) = 95
    assert resp.usage_metadata.prompt_token_count == 95


def test_embeddings(client):
    resp = client.models.embed_content(
        model="gemini-embedding-001",
        contents=["hello world", "another text to embed"],
        config=types.EmbedContentConfig(task_type="RETRIEVAL_DOCUMENT", output_dimensionality=256),
    )
    assert len(resp.embeddings) == 2
    for e in resp.embeddings:
        assert len(e.values) == 256
        assert math.sqrt(sum(x * x for x in e.values)) == pytest.approx(1.0, abs=1e-5)
    assert resp.embeddings[0].values != resp.embeddings[1].values


def test_errors(client, sim):
    bad = make_client(sim, "wrong-key")
    with pytest.raises(errors.ClientError) as info:
        bad.models.generate_content(model=MODEL, contents="hi")
    assert info.value.code == 400
    assert "API key not valid" in info.value.message

    with pytest.raises(errors.ClientError) as info:
        client.models.generate_content(model="sim-missing", contents="hi")
    assert info.value.code == 404
    assert info.value.status == "NOT_FOUND"

    with pytest.raises(errors.ClientError) as info:
        client.models.generate_content(
            model=MODEL,
            contents="hi",
            config=types.GenerateContentConfig(
                http_options=types.HttpOptions(headers={"x-simulator-fault": "status=429"})
            ),
        )
    assert info.value.code == 429
    assert info.value.status == "RESOURCE_EXHAUSTED"

    with pytest.raises(errors.ServerError) as info:
        client.models.generate_content(
            model=MODEL,
            contents="hi",
            config=types.GenerateContentConfig(
                http_options=types.HttpOptions(headers={"x-simulator-fault": "status=503"})
            ),
        )
    assert info.value.code == 503
