"""The official `openai` Python SDK against indoxrouter-server's `/v1`, with
only `base_url` and `api_key` changed.

The upstream is the provider simulator, whose answers are deterministic
(tests/simulator/src/lib.rs): tokens(text) = whitespace-separated words;
chat prompt tokens = 3 + per message (4 + tokens(content)) + per tool
(8 + tokens(description) + number of parameter properties); the reply is
"Hello from the simulator. You said: <last user message>". Prices come from
the server's own catalog (`GET /api/v1/models/openai/{model}`, USD per
million tokens), and every charge is checked against the account balance
with `decimal.Decimal`, never floats.
"""

from __future__ import annotations

import asyncio
import base64
import json
import math
import urllib.request
from decimal import Decimal

import openai
import pytest

CHAT_MODEL = "openai/gpt-4o-mini"
EMBED_MODEL = "openai/text-embedding-3-small"
EMBED_DIM = 1536  # the simulator's dimension for every OpenAI model but -3-large
IMAGE_MODEL = "openai/dall-e-2"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
HELLO = "Say hello to the world"
HELLO_REPLY = "Hello from the simulator. You said: Say hello to the world"
MILLION = Decimal(1_000_000)


# --- helpers -----------------------------------------------------------------


@pytest.fixture(scope="session")
def pricing(server):
    """`pricing` of a model in the server's catalog."""

    cache: dict[str, dict] = {}

    def get(model: str) -> dict:
        if model not in cache:
            status, body, _ = server.api("GET", f"/api/v1/models/{model}")
            assert status == 200, body
            cache[model] = body["pricing"]
        return cache[model]

    return get


def token_cost(pricing: dict, prompt: int, completion: int) -> Decimal:
    return (
        Decimal(prompt) * Decimal(pricing["input"])
        + Decimal(completion) * Decimal(pricing["output"])
    ) / MILLION


def cost_of(resp) -> Decimal:
    """`usage.cost` as the SDK exposes an unknown field: a decimal string in
    `usage.model_extra`, the same in `to_dict()`."""
    extra = resp.usage.model_extra
    assert extra is not None and "cost" in extra, resp.usage
    cost = extra["cost"]
    assert isinstance(cost, str), f"usage.cost should be a decimal string, got {cost!r}"
    assert resp.to_dict()["usage"]["cost"] == cost
    value = Decimal(cost)
    assert value.is_finite() and value >= 0
    return value


def messages(text: str = HELLO, system: str | None = None) -> list:
    out = [{"role": "system", "content": system}] if system else []
    return out + [{"role": "user", "content": text}]


def prompt_tokens(msgs: list) -> int:
    return 3 + sum(4 + len(m["content"].split()) for m in msgs)


def reply_for(text: str) -> str:
    return "Hello from the simulator. You said: " + " ".join(text.split())


def norm(vector) -> float:
    return math.sqrt(sum(x * x for x in vector))


# --- chat --------------------------------------------------------------------


def test_chat_completion_is_parsed_and_charged_exactly(client, user, pricing):
    before = user.balance()
    msgs = messages(HELLO, system="You are terse.")
    resp = client.chat.completions.create(model=CHAT_MODEL, messages=msgs)

    assert resp.object == "chat.completion"
    assert resp.id.startswith("chatcmpl-")
    assert resp.model == CHAT_MODEL
    assert len(resp.choices) == 1
    choice = resp.choices[0]
    assert choice.index == 0
    assert choice.finish_reason == "stop"
    assert choice.message.role == "assistant"
    assert choice.message.content == HELLO_REPLY
    assert choice.message.tool_calls is None
    # 3 + system (4 + 3) + user (4 + 5) = 19; the reply is 11 words.
    assert resp.usage.prompt_tokens == 19
    assert resp.usage.completion_tokens == 11
    assert resp.usage.total_tokens == 30
    assert resp.usage.prompt_tokens_details.cached_tokens == 0
    assert resp.usage.completion_tokens_details.reasoning_tokens == 0

    cost = cost_of(resp)
    assert cost == token_cost(pricing(CHAT_MODEL), 19, 11)
    assert cost > 0
    assert before == Decimal("5")
    assert before - user.balance() == cost
    assert user.available() == user.balance(), "no reservation left open"

    rows = user.usage()
    assert len(rows) == 1
    assert Decimal(str(rows[0]["cost"])) == cost


def test_cost_header_matches_usage_cost(client, user):
    raw = client.chat.completions.with_raw_response.create(model=CHAT_MODEL, messages=messages())
    resp = raw.parse()
    assert resp.choices[0].message.content == HELLO_REPLY
    header = raw.headers.get("x-indoxrouter-cost")
    assert header is not None
    assert Decimal(header) == cost_of(resp)
    assert raw.headers.get("x-request-id", "").startswith("req_")


def test_stream_with_usage_reassembles_and_costs_the_same(client, user, pricing):
    msgs = messages()
    start = user.balance()
    plain = client.chat.completions.create(model=CHAT_MODEL, messages=msgs)
    plain_cost = cost_of(plain)
    after_plain = user.balance()
    assert start - after_plain == plain_cost

    stream = client.chat.completions.create(
        model=CHAT_MODEL,
        messages=msgs,
        stream=True,
        stream_options={"include_usage": True},
    )
    assert isinstance(stream, openai.Stream)
    chunks = list(stream)
    assert len(chunks) >= 3
    assert all(c.object == "chat.completion.chunk" for c in chunks)
    assert all(c.model == CHAT_MODEL for c in chunks)
    assert len({c.id for c in chunks}) == 1

    *content, last = chunks
    assert content[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in content)
    assert text == HELLO_REPLY
    assert content[-1].choices[0].finish_reason == "stop"
    assert all(c.usage is None for c in content)

    assert last.choices == []
    assert last.usage is not None
    assert last.usage.prompt_tokens == plain.usage.prompt_tokens == prompt_tokens(msgs)
    assert last.usage.completion_tokens == plain.usage.completion_tokens == 11
    stream_cost = cost_of(last)
    assert stream_cost == plain_cost == token_cost(pricing(CHAT_MODEL), prompt_tokens(msgs), 11)

    # The charge is durable before [DONE], which the SDK has read by now.
    assert after_plain - user.balance() == stream_cost
    assert user.available() == user.balance()


def test_stream_without_include_usage_has_no_usage_chunk(client, user):
    msgs = messages("Stream me without usage please")
    plain_cost = cost_of(client.chat.completions.create(model=CHAT_MODEL, messages=msgs))

    before = user.balance()
    chunks = list(
        client.chat.completions.create(model=CHAT_MODEL, messages=msgs, stream=True)
    )
    assert chunks
    assert all(c.usage is None for c in chunks)
    assert all("usage" not in c.to_dict() for c in chunks)
    assert all(len(c.choices) == 1 for c in chunks), "no choices-less usage chunk"
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert text == reply_for("Stream me without usage please")
    assert chunks[-1].choices[0].finish_reason == "stop"
    # Billed from the provider's usage all the same (the server always asks for it).
    assert before - user.balance() == plain_cost


# --- tools -------------------------------------------------------------------

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                "days": {"type": "integer"},
            },
            "required": ["unit", "city"],
        },
    },
}
# The simulator fills each required property, keys sorted: an enum's first
# value, else "sample" for strings.
WEATHER_ARGS = {"city": "sample", "unit": "celsius"}


def test_tool_call_is_parsed(client, user, pricing):
    before = user.balance()
    msgs = messages("What is the weather in Paris?")
    resp = client.chat.completions.create(model=CHAT_MODEL, messages=msgs, tools=[WEATHER_TOOL])
    choice = resp.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content is None
    calls = choice.message.tool_calls
    assert calls is not None and len(calls) == 1
    call = calls[0]
    assert call.type == "function"
    assert call.id.startswith("call_")
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == WEATHER_ARGS

    # prompt: 3 + (4 + 6 words) + tool (8 + 5 description words + 3 properties) = 29
    assert resp.usage.prompt_tokens == 29
    cost = cost_of(resp)
    assert cost == token_cost(
        pricing(CHAT_MODEL), resp.usage.prompt_tokens, resp.usage.completion_tokens
    )
    assert before - user.balance() == cost

    # Send the result back: the simulator acknowledges the tool message.
    follow = client.chat.completions.create(
        model=CHAT_MODEL,
        messages=msgs
        + [
            choice.message.model_dump(exclude_none=True),
            {"role": "tool", "tool_call_id": call.id, "content": "sunny, 21C"},
        ],
        tools=[WEATHER_TOOL],
    )
    assert follow.choices[0].message.content == "Tool result received: sunny, 21C"
    assert follow.choices[0].finish_reason == "stop"


def test_streamed_tool_call_arguments_reassemble(client, user):
    chunks = list(
        client.chat.completions.create(
            model=CHAT_MODEL,
            messages=messages("Weather in Oslo?"),
            tools=[WEATHER_TOOL],
            stream=True,
        )
    )
    name, args, ids = "", "", set()
    for c in chunks:
        for tc in c.choices[0].delta.tool_calls or []:
            assert tc.index == 0
            if tc.id:
                ids.add(tc.id)
            if tc.function and tc.function.name:
                name += tc.function.name
            if tc.function and tc.function.arguments:
                args += tc.function.arguments
    assert len(ids) == 1 and next(iter(ids)).startswith("call_")
    assert name == "get_weather"
    assert json.loads(args) == WEATHER_ARGS
    assert chunks[-1].choices[0].finish_reason == "tool_calls"


# --- embeddings --------------------------------------------------------------


def test_embeddings_default_base64_is_decoded(client, user, pricing):
    before = user.balance()
    raw = client.embeddings.with_raw_response.create(model=EMBED_MODEL, input="hello embedding world")
    # The SDK asked for base64 by default, and the server sent base64 strings ...
    wire = json.loads(raw.text)
    assert isinstance(wire["data"][0]["embedding"], str)
    assert len(base64.b64decode(wire["data"][0]["embedding"])) == EMBED_DIM * 4
    # ... which the SDK decoded into floats.
    resp = raw.parse()
    assert resp.object == "list"
    assert resp.model == EMBED_MODEL
    assert len(resp.data) == 1
    vec = resp.data[0].embedding
    assert isinstance(vec, list) and len(vec) == EMBED_DIM
    assert all(isinstance(x, float) for x in vec)
    assert abs(norm(vec) - 1.0) < 1e-4
    assert resp.usage.prompt_tokens == 3
    assert resp.usage.total_tokens == 3
    cost = cost_of(resp)
    assert cost == token_cost(pricing(EMBED_MODEL), 3, 0)
    assert before - user.balance() == cost


def test_embeddings_float_matches_base64(client, user):
    inputs = ["first text", "the second text"]
    as_float = client.embeddings.create(model=EMBED_MODEL, input=inputs, encoding_format="float")
    as_b64 = client.embeddings.create(model=EMBED_MODEL, input=inputs)
    assert [d.index for d in as_float.data] == [0, 1]
    assert all(len(d.embedding) == EMBED_DIM for d in as_float.data)
    assert all(isinstance(x, float) for x in as_float.data[0].embedding)
    # Same input, same vector (f32 values either way).
    for f, b in zip(as_float.data, as_b64.data):
        assert f.embedding == b.embedding
    assert as_float.data[0].embedding != as_float.data[1].embedding
    assert as_float.usage.prompt_tokens == 5
    assert cost_of(as_float) == cost_of(as_b64)


# --- images ------------------------------------------------------------------


def test_images_generate_url_and_b64(client, user, sim, pricing):
    before = user.balance()
    resp = client.images.generate(model=IMAGE_MODEL, prompt="a red square", size="256x256", n=2)
    assert len(resp.data) == 2
    for image in resp.data:
        assert image.url.startswith(f"{sim.root}/__sim/images/")
        with urllib.request.urlopen(image.url, timeout=5) as r:
            assert r.read().startswith(PNG_MAGIC)
    price = next(p["price"] for p in pricing(IMAGE_MODEL)["images"] if p["size"] == "256x256")
    url_cost = Decimal(resp.to_dict()["usage"]["cost"])
    assert url_cost == 2 * Decimal(price)
    assert before - user.balance() == url_cost

    b64 = client.images.generate(
        model=IMAGE_MODEL, prompt="a blue square", size="256x256", response_format="b64_json"
    )
    assert len(b64.data) == 1
    assert b64.data[0].url is None
    assert base64.b64decode(b64.data[0].b64_json).startswith(PNG_MAGIC)
    assert Decimal(b64.to_dict()["usage"]["cost"]) == Decimal(price)


# --- models ------------------------------------------------------------------


def test_models_list(client):
    ids = [m.id for m in client.models.list()]
    assert CHAT_MODEL in ids
    assert EMBED_MODEL in ids
    assert IMAGE_MODEL in ids
    assert len(ids) == len(set(ids))
    assert all("/" in i for i in ids)
    openai_models = [m for m in client.models.list() if m.id.startswith("openai/")]
    assert openai_models and all(m.owned_by == "openai" and m.object == "model" for m in openai_models)


def test_models_retrieve(client):
    # The SDK percent-encodes the path parameter: GET /v1/models/openai%2Fgpt-4o-mini.
    model = client.models.retrieve(CHAT_MODEL)
    assert model.id == CHAT_MODEL
    assert model.object == "model"
    assert model.owned_by == "openai"


def test_models_retrieve_unknown_is_not_found(client):
    with pytest.raises(openai.NotFoundError) as info:
        client.models.retrieve("openai/no-such-model")
    assert info.value.status_code == 404
    assert info.value.code == "model_not_found"


# --- legacy completions --------------------------------------------------------


def test_legacy_completion_with_chat_model(client, user, pricing):
    before = user.balance()
    resp = client.completions.create(model=CHAT_MODEL, prompt=HELLO, max_tokens=50)
    assert resp.object == "text_completion"
    assert resp.model == CHAT_MODEL
    assert len(resp.choices) == 1
    assert resp.choices[0].index == 0
    assert resp.choices[0].text == HELLO_REPLY
    assert resp.choices[0].finish_reason == "stop"
    assert resp.usage.completion_tokens == 11
    cost = cost_of(resp)
    assert cost == token_cost(
        pricing(CHAT_MODEL), resp.usage.prompt_tokens, resp.usage.completion_tokens
    )
    assert before - user.balance() == cost

    short = client.completions.create(model=CHAT_MODEL, prompt=HELLO, max_tokens=3)
    assert short.choices[0].text == "Hello from the"
    assert short.choices[0].finish_reason == "length"
    assert short.usage.completion_tokens == 3


# --- errors --------------------------------------------------------------------


def test_bad_key_is_authentication_error(server, sim):
    count = sim.count()
    with openai.OpenAI(base_url=server.v1, api_key="ixr-not-a-real-key", max_retries=0) as bad:
        with pytest.raises(openai.AuthenticationError) as info:
            bad.chat.completions.create(model=CHAT_MODEL, messages=messages())
    assert info.value.status_code == 401
    assert info.value.body["type"] == "authentication_error"
    assert sim.count() == count, "a bad key must not reach the provider"


def test_zero_credits_is_402_insufficient_credits(server, sim, make_user):
    broke = make_user("0")
    count = sim.count()
    with openai.OpenAI(base_url=server.v1, api_key=broke.key, max_retries=0) as c:
        with pytest.raises(openai.APIStatusError) as info:
            c.chat.completions.create(model=CHAT_MODEL, messages=messages())
        with pytest.raises(openai.APIStatusError) as stream_info:
            c.chat.completions.create(model=CHAT_MODEL, messages=messages(), stream=True)
    for e in (info.value, stream_info.value):
        assert e.status_code == 402
        assert e.code == "insufficient_credits"
        assert e.body["code"] == "insufficient_credits"
    assert sim.count() == count, "a refused request must not reach the provider"
    assert broke.balance() == 0


def test_key_limits_surface_as_the_sdks_own_error_classes(server, sim, user):
    """A virtual key's model list and budget, seen through the SDK: 403 is
    `PermissionDeniedError`, an exhausted budget a 402 with its code."""
    status, body, _ = server.api(
        "POST",
        "/api/v1/keys",
        {"models": [CHAT_MODEL], "max_budget": "0.000000000001"},
        token=user.token,
    )
    assert status == 201, body
    count = sim.count()
    with openai.OpenAI(base_url=server.v1, api_key=body["key"], max_retries=0) as c:
        with pytest.raises(openai.PermissionDeniedError) as denied:
            c.chat.completions.create(model="openai/gpt-4o", messages=messages())
        with pytest.raises(openai.APIStatusError) as spent:
            c.chat.completions.create(model=CHAT_MODEL, messages=messages(), stream=True)
    assert (denied.value.status_code, denied.value.code) == (403, "model_not_allowed")
    assert (spent.value.status_code, spent.value.code) == (402, "key_budget_exceeded")
    assert sim.count() == count, "a refused request must not reach the provider"


def test_rate_limit_is_rate_limit_error_with_headers(server, sim, make_user):
    limited = make_user("1", key_tier="tight")
    with openai.OpenAI(base_url=server.v1, api_key=limited.key, max_retries=0) as c:
        raw = c.chat.completions.with_raw_response.create(model=CHAT_MODEL, messages=messages())
        assert raw.headers["x-ratelimit-limit-requests"] == "1"
        assert raw.headers["x-ratelimit-remaining-requests"] == "0"
        assert int(raw.headers["x-ratelimit-reset-requests"]) >= 59
        count = sim.count()
        with pytest.raises(openai.RateLimitError) as info:
            c.chat.completions.create(model=CHAT_MODEL, messages=messages())
    e = info.value
    assert (e.status_code, e.code) == (429, "rate_limit_exceeded")
    # The SDK's retry logic reads these.
    assert 1 <= int(e.response.headers["retry-after"]) <= 60
    assert int(e.response.headers["retry-after-ms"]) > 0
    assert sim.count() == count, "a refused request must not reach the provider"
    assert len(limited.usage()) == 1


def test_unknown_model(client, user, sim):
    count = sim.count()
    with pytest.raises(openai.APIStatusError) as info:
        client.chat.completions.create(model="openai/no-such-model", messages=messages())
    e = info.value
    # Not in the catalog: refused as not found before any upstream call
    # (documented policy; INDOXROUTER_ALLOW_UNPRICED=true would forward it).
    assert (type(e), e.status_code, e.code) == (openai.NotFoundError, 404, "model_not_found"), (
        type(e),
        e.status_code,
        e.body,
    )
    assert e.body["param"] == "model"
    assert sim.count() == count
    assert user.balance() == Decimal("5")


def test_upstream_500_is_502_and_free(client, user, sim):
    # Enough 500s for the core's first attempt and its retries.
    sim.push_fault({"type": "status", "status": 500}, times=5)
    before, count = user.balance(), sim.count()
    with pytest.raises(openai.APIStatusError) as info:
        client.chat.completions.create(model=CHAT_MODEL, messages=messages())
    e = info.value
    assert isinstance(e, openai.InternalServerError)
    assert e.status_code == 502
    assert e.body["type"] == "api_error"
    assert e.code.startswith("provider_")
    assert sim.count() > count, "the provider was called"
    assert user.balance() == before
    assert user.available() == before, "the reservation was released"

    # Streaming: the upstream fails before the stream starts, so it is an HTTP 502 too.
    sim.reset()
    sim.push_fault({"type": "status", "status": 500}, times=5)
    with pytest.raises(openai.APIStatusError) as info:
        client.chat.completions.create(model=CHAT_MODEL, messages=messages(), stream=True)
    assert info.value.status_code == 502
    assert user.balance() == before
    assert user.available() == before


# --- concurrency -----------------------------------------------------------------


def test_async_client_20_concurrent_calls(server, user, pricing):
    texts = [" ".join(["word"] * (i + 1)) for i in range(20)]

    async def run():
        async with openai.AsyncOpenAI(
            base_url=server.v1, api_key=user.key, max_retries=0, timeout=60
        ) as c:
            return await asyncio.gather(
                *(
                    c.chat.completions.create(model=CHAT_MODEL, messages=messages(t))
                    for t in texts
                )
            )

    before = user.balance()
    results = asyncio.run(run())
    assert len(results) == 20
    costs = []
    for text, resp in zip(texts, results):
        assert resp.choices[0].message.content == reply_for(text)
        assert resp.usage.prompt_tokens == 3 + 4 + len(text.split())
        cost = cost_of(resp)
        assert cost == token_cost(
            pricing(CHAT_MODEL), resp.usage.prompt_tokens, resp.usage.completion_tokens
        )
        costs.append(cost)
    assert len(set(costs)) > 1, "requests of different sizes cost different amounts"
    assert before - user.balance() == sum(costs)
    assert user.available() == user.balance()
    assert len(user.usage()) == 20
