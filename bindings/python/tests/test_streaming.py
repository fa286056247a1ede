"""Streaming, sync and async, and cancellation by leaving the loop."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

from indoxrouter import AsyncClient, ChatCompletionChunk, ChatStream, Client

from conftest import make_kwargs


@pytest.mark.parametrize(
    "model",
    ["openai/gpt-4o-mini", "anthropic/claude-haiku-4-5", "gemini/gemini-2.5-flash",
     "cohere/command-r-08-2024", "mistral/mistral-small-latest"],
)
def test_stream_matches_plain_call(client: Client, model: str):
    plain = client.chat("Stream this please", model=model)
    chunks = list(client.chat_stream("Stream this please", model=model, stream_options={"include_usage": True}))
    assert chunks and all(isinstance(c, ChatCompletionChunk) for c in chunks)
    assert "".join(c.text for c in chunks) == plain.text
    priced = [c for c in chunks if c.cost is not None]
    assert len(priced) == 1
    assert priced[0].usage.completion_tokens == plain.usage.completion_tokens
    assert priced[0].cost.total == plain.cost.total
    assert isinstance(priced[0].cost.total, Decimal)


def test_stream_true_on_chat(client: Client):
    stream = client.chat("Hi", stream=True)
    assert isinstance(stream, ChatStream)
    with stream:
        text = "".join(c.text for c in stream)
    assert text.endswith("Hi")
    assert stream.closed


def test_stream_tool_call_deltas(client: Client):
    tools = [{"type": "function", "function": {"name": "lookup", "parameters": {
        "type": "object", "properties": {"q": {"type": "string"}}, "required": ["q"]}}}]
    chunks = list(client.chat_stream("Find it", tools=tools, tool_choice="required"))
    deltas = [tc for c in chunks for ch in c.choices for tc in (ch.delta.tool_calls or [])]
    assert deltas and deltas[0].function.name == "lookup"
    assert any(ch.finish_reason == "tool_calls" for c in chunks for ch in c.choices)


def test_break_cancels_upstream(hangup):
    with Client(providers={"local": hangup.base_url}, use_env=False) as c:
        for i, chunk in enumerate(c.chat_stream("go", model="local/m")):
            assert chunk.text == "tick "
            if i == 2:
                break
        assert hangup.wait_hangups(1), "the upstream connection was not closed after break"


def test_close_cancels_upstream(hangup):
    with Client(providers={"local": hangup.base_url}, use_env=False) as c:
        stream = c.chat_stream("go", model="local/m")
        next(stream)
        stream.close()
        assert hangup.wait_hangups(1)
        with pytest.raises(StopIteration):
            next(stream)


def test_without_break_the_stream_stays_open(hangup):
    # The control for the two tests above: holding the stream keeps the
    # connection open, so their hang-ups were caused by break/close.
    with Client(providers={"local": hangup.base_url}, use_env=False) as c:
        stream = c.chat_stream("go", model="local/m")
        next(stream)
        assert not hangup.wait_hangups(1, timeout=0.5)
        stream.close()
        assert hangup.wait_hangups(1)


def test_async_break_cancels_upstream(hangup):
    async def main() -> None:
        async with AsyncClient(providers={"local": hangup.base_url}, use_env=False) as c:
            n = 0
            async for chunk in c.chat_stream("go", model="local/m"):
                n += 1
                if n == 3:
                    break
            assert await asyncio.get_running_loop().run_in_executor(None, hangup.wait_hangups, 1)

    asyncio.run(main())


def test_async_stream_and_stream_true(sim):
    async def main() -> None:
        async with AsyncClient(**make_kwargs(sim)) as c:
            text = "".join([ch.text async for ch in c.chat_stream("Async stream")])
            assert text.endswith("Async stream")
            stream = await c.chat("Again", stream=True)
            chunks = [ch async for ch in stream]
            assert "".join(ch.text for ch in chunks).endswith("Again")

    asyncio.run(main())


def test_interrupted_stream_raises(client: Client, sim):
    from indoxrouter import StreamInterruptedError

    sim.fault({"type": "cut", "after_chunks": 2}, provider="openai")
    with pytest.raises(StreamInterruptedError) as e:
        for _ in client.chat_stream("Cut me off somewhere in the middle please"):
            pass
    assert e.value.code == "stream_interrupted"
