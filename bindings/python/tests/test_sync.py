"""The blocking Client against the provider simulator: every method."""

from __future__ import annotations

import json
import threading
import time
from decimal import Decimal

import pytest

import indoxrouter
from indoxrouter import (
    ChatCompletion,
    Client,
    Completion,
    EmbeddingResponse,
    ImageResponse,
    ModelInfo,
)

from conftest import make_kwargs

CHAT_MODELS = [
    "openai/gpt-4o-mini",
    "mistral/mistral-small-latest",
    "anthropic/claude-haiku-4-5",
    "gemini/gemini-2.5-flash",
    "cohere/command-r-08-2024",
]


@pytest.mark.parametrize("model", CHAT_MODELS)
def test_chat_every_provider(client: Client, model: str):
    resp = client.chat([{"role": "user", "content": "Say hello"}], model=model)
    assert isinstance(resp, ChatCompletion)
    assert resp.text is not None and "You said: Say hello" in resp.text
    assert resp.choices[0].message.role == "assistant"
    assert resp.choices[0].finish_reason == "stop"
    assert resp.usage.prompt_tokens > 0 and resp.usage.completion_tokens > 0
    assert resp.provider == model.split("/")[0].replace("gemini", "google")
    assert isinstance(resp.cost.total, Decimal)


def test_chat_string_shorthand_options_and_wire(client: Client, sim):
    resp = client.chat("Hi", temperature=0.25, max_tokens=50, seed=7, stop=["\n\n"], user="u1")
    assert "You said: Hi" in resp.text
    body = sim.requests()[-1]["body"]
    assert body["messages"] == [{"role": "user", "content": "Hi"}]
    assert body["temperature"] == 0.25
    assert body["seed"] == 7 and body["stop"] == ["\n\n"] and body["user"] == "u1"


def test_to_dict_and_attribute_access(client: Client):
    resp = client.chat("Hello")
    d = resp.to_dict()
    assert d["choices"][0]["message"]["content"] == resp.text
    assert d["usage"]["total_tokens"] == resp.usage.total_tokens
    assert isinstance(d["cost"]["total"], Decimal)
    d["choices"].clear()  # a copy: the result is unchanged
    assert len(resp.choices) == 1
    assert resp["model"] == resp.model
    assert resp.system_fingerprint == "fp_simulator"


def test_tools_as_plain_dicts(client: Client, sim):
    tools = [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "description": "Weather for a city",
                "parameters": {
                    "type": "object",
                    "properties": {"city": {"type": "string"}},
                    "required": ["city"],
                },
            },
        }
    ]
    resp = client.chat("Weather in Paris?", tools=tools, tool_choice="required")
    call = resp.choices[0].message.tool_calls[0]
    assert resp.choices[0].finish_reason == "tool_calls"
    assert call.function.name == "get_weather"
    assert "city" in json.loads(call.function.arguments)
    # The returned message goes straight back into the next turn.
    follow = client.chat(
        [
            {"role": "user", "content": "Weather in Paris?"},
            resp.choices[0].message,
            {"role": "tool", "tool_call_id": call.id, "content": "sunny"},
        ],
        tools=tools,
    )
    assert follow.text
    sent = sim.requests()[-1]["body"]
    assert sent["messages"][1]["tool_calls"][0]["id"] == call.id


def test_vision_parts_and_json_mode(client: Client, sim):
    resp = client.chat(
        [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "What is this?"},
                    {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
                ],
            }
        ],
        response_format={"type": "json_object"},
    )
    assert "1 image" in resp.text
    sent = sim.requests()[-1]["body"]
    assert sent["response_format"] == {"type": "json_object"}


def test_fallbacks_per_call(client: Client, sim):
    sim.fault({"type": "status", "status": 500}, provider="openai")
    resp = client.chat("Hi", model="openai/gpt-4o-mini", fallbacks=["mistral/mistral-small-latest"])
    assert resp.provider == "mistral"


def test_max_retries(sim):
    sim.fault({"type": "status", "status": 503}, provider="openai", times=2)
    with Client(**make_kwargs(sim, max_retries=2)) as c:
        assert c.chat("Hi").text
    assert sim.request_count() == 3


def test_completion(client: Client):
    resp = client.completion("Say hi", max_tokens=20)
    assert isinstance(resp, Completion)
    assert "You said: Say hi" in resp.text
    assert resp.object == "text_completion"
    many = client.completion(["one", "two"])
    assert [c.index for c in many.choices] == [0, 1]
    assert "one" in many.choices[0].text and "two" in many.choices[1].text
    assert many.usage.prompt_tokens > resp.usage.prompt_tokens - 10


def test_embeddings(client: Client):
    resp = client.embeddings(["a cat", "a dog"], model="openai/text-embedding-3-small")
    assert isinstance(resp, EmbeddingResponse)
    assert [d.index for d in resp.data] == [0, 1]
    assert all(isinstance(x, float) for x in resp.data[0].embedding)
    assert len(resp.vectors) == 2 and resp.vectors[0] != resp.vectors[1]
    assert resp.usage.prompt_tokens > 0
    assert isinstance(resp.cost.total, Decimal) and resp.cost.total > 0
    one = client.embeddings("a cat", model="openai/text-embedding-3-small", dimensions=8)
    assert len(one.data) == 1 and len(one.data[0].embedding) == 8


def test_embeddings_other_providers(client: Client):
    for model in ["gemini/gemini-embedding-001", "cohere/embed-v4.0", "mistral/mistral-embed"]:
        resp = client.embeddings(["x", "y"], model=model)
        assert len(resp.data) == 2, model


def test_images(client: Client):
    resp = client.images("a red square", model="openai/dall-e-3", size="1024x1024", quality="standard")
    assert isinstance(resp, ImageResponse)
    assert len(resp.data) == 1 and resp.data[0].url
    # DALL-E 3 standard 1024x1024 is $0.04 an image, exactly.
    assert resp.cost.total == Decimal("0.04")
    b64 = client.images("a dot", model="openai/dall-e-2", n=2, response_format="b64_json", size="256x256")
    assert len(b64.data) == 2 and b64.data[0].b64_json


def test_models_and_model(client: Client):
    all_models = client.models()
    assert all(isinstance(m, ModelInfo) for m in all_models)
    assert {m.provider for m in all_models} >= {"openai", "anthropic", "google", "cohere", "mistral"}
    openai = client.models("openai")
    assert openai and all(m.provider == "openai" for m in openai)
    assert {m.provider for m in client.models("gemini")} == {"google"}
    m = client.model("openai/gpt-4o-mini")
    assert m.full_id == "openai/gpt-4o-mini"
    assert "chat" in m.modes and m.capabilities["tools"] is True
    assert m.pricing["input"] == Decimal("0.15") and m.pricing["output"] == Decimal("0.6")
    assert client.model("gpt-4o-mini").id == "gpt-4o-mini"


def test_threads_share_one_client_and_release_the_gil(client: Client, sim):
    # Each call waits 400 ms upstream; eight threads finishing in well under
    # 8 × 400 ms means the calls overlapped, so the GIL was released.
    sim.fault({"type": "slow", "ms": 400}, provider="openai", times=8)
    results: list = []

    def work(i: int) -> None:
        results.append(client.chat(f"thread {i}").text)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    start = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - start
    assert sorted(r.rsplit(" ", 1)[-1] for r in results) == [str(i) for i in range(8)]
    assert elapsed < 2.0, elapsed


def test_close_and_context_manager(sim):
    with Client(**make_kwargs(sim)) as c:
        assert c.chat("Hi").text
    assert c.closed
    with pytest.raises(indoxrouter.IndoxRouterError) as e:
        c.chat("Hi")
    assert e.value.code == "closed"


def test_providers_and_repr(client: Client):
    assert set(client.providers) >= {"openai", "anthropic", "google", "cohere", "mistral"}
    assert not client.is_hosted
    assert "openai" in repr(client)


def test_keys_from_environment(sim, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", sim.api_key)
    monkeypatch.setenv("OPENAI_BASE_URL", f"{sim.root}/openai/v1")
    with Client(max_retries=0) as c:
        assert "openai" in c.providers
        assert c.chat("from env").text.endswith("from env")


def test_openai_compatible_provider(sim):
    with Client(
        providers={"local": f"{sim.root}/openai/v1"},
        api_keys={"local": sim.api_key},
        use_env=False,
    ) as c:
        resp = c.chat("Hi", model="local/gpt-4o-mini")
        assert resp.provider == "local"
        assert resp.cost is None  # not in the catalog: unpriced, never "free"
