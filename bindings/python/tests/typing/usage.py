"""Type-checked, never run: what a mypy --strict user of `indoxrouter` writes,
with `assert_type` pinning the types the package's annotations and stubs
give. scripts/python.sh runs mypy over this file and examples/python/."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any, Dict, List, Optional, Union

from typing_extensions import assert_type

import indoxrouter
from indoxrouter import (
    AsyncChatStream,
    AsyncClient,
    Balance,
    ChatCompletion,
    ChatCompletionChunk,
    ChatStream,
    Client,
    Completion,
    Cost,
    EmbeddingResponse,
    ImageResponse,
    ModelInfo,
    UsagePage,
    UsageRecord,
)


def direct(client: Client, flag: bool) -> None:
    resp = client.chat([{"role": "user", "content": "hi"}], model="openai/gpt-4o-mini", temperature=0.2)
    assert_type(resp, ChatCompletion)
    assert_type(resp.text, Optional[str])
    assert_type(resp.cost, Optional[Cost])
    if resp.cost is not None:
        assert_type(resp.cost.total, Decimal)
    assert_type(resp.usage.prompt_tokens, int)
    assert_type(resp.choices[0].message.content, Optional[Union[str, List[Dict[str, Any]]]])
    d: Dict[str, object] = resp.to_dict()
    print(d)

    assert_type(client.chat("hi", stream=True), ChatStream)
    assert_type(client.chat("hi", stream=False), ChatCompletion)
    assert_type(client.chat("hi", stream=flag), Union[ChatCompletion, ChatStream])
    with client.chat_stream("hi") as stream:
        for chunk in stream:
            assert_type(chunk, ChatCompletionChunk)
            assert_type(chunk.text, str)
            assert_type(chunk.cost, Optional[Cost])

    assert_type(client.completion("Once upon"), Completion)
    emb = client.embeddings(["a", "b"])
    assert_type(emb, EmbeddingResponse)
    assert_type(emb.vectors, List[List[float]])
    assert_type(client.images("a cat"), ImageResponse)
    assert_type(client.models("openai"), List[ModelInfo])
    assert_type(client.model("openai/gpt-4o-mini").full_id, str)
    assert_type(client.cost("openai/gpt-4o-mini", {"prompt_tokens": 1}), Optional[Cost])
    assert_type(client.providers, List[str])
    assert_type(client.is_hosted, bool)


def hosted() -> None:
    with Client(base_url="http://localhost:8000", api_key="ixr-...") as client:
        bal = client.balance()
        assert_type(bal, Balance)
        assert_type(bal.available, Decimal)
        page = client.usage(limit=10, cursor=None)
        assert_type(page, UsagePage)
        assert_type(page.next_cursor, Optional[str])
        for row in page.data:
            assert_type(row, UsageRecord)
            assert_type(row.cost, Decimal)
    Client(base_url="http://localhost:8000", username="alice", password="pw").close()


def errors(client: Client) -> None:
    try:
        client.chat("hi")
    except indoxrouter.RateLimitError as e:
        assert_type(e.retry_after, Optional[float])
    except indoxrouter.ModelNotFoundError as e:
        assert_type(e.suggestions, List[str])
    except indoxrouter.InvalidParametersError as e:
        assert_type(e.param, Optional[str])
    except indoxrouter.IndoxRouterError as e:
        assert_type(e.code, str)
        assert_type(e.status, int)
        assert_type(e.provider, Optional[str])


async def asynchronous(flag: bool) -> None:
    async with AsyncClient(base_url="http://localhost:8000", api_key="ixr-...") as client:
        assert_type(await client.chat("hi"), ChatCompletion)
        stream = await client.chat("hi", stream=True)
        assert_type(stream, AsyncChatStream)
        assert_type(await client.chat_stream("hi"), AsyncChatStream)
        assert_type(await client.chat("hi", stream=flag), Union[ChatCompletion, AsyncChatStream])
        async for chunk in client.chat_stream("hi"):
            assert_type(chunk, ChatCompletionChunk)
        assert_type(await client.embeddings("a"), EmbeddingResponse)
        assert_type(await client.balance(), Balance)
        assert_type(await client.usage(), UsagePage)
        results = await asyncio.gather(client.chat("a"), client.chat("b"))
        assert_type(results[0], ChatCompletion)
    assert_type(indoxrouter.__version__, str)
