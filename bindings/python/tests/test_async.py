"""AsyncClient: every method as a coroutine, and 100 concurrent tasks."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

import indoxrouter
from indoxrouter import AsyncClient

from conftest import make_kwargs


def run(coro):
    return asyncio.run(coro)


def test_every_method(sim):
    async def main() -> None:
        async with AsyncClient(**make_kwargs(sim)) as c:
            chat = await c.chat([{"role": "user", "content": "async hello"}])
            assert chat.text.endswith("async hello") and isinstance(chat.cost.total, Decimal)
            comp = await c.completion("complete me")
            assert "complete me" in comp.text
            emb = await c.embeddings(["a", "b"])
            assert len(emb.data) == 2
            img = await c.images("a square", model="openai/dall-e-3")
            assert img.data[0].url
            assert c.model("openai/gpt-4o-mini").id == "gpt-4o-mini"
            assert c.models("anthropic")
            assert c.cost("openai/gpt-4o-mini", {"prompt_tokens": 23, "completion_tokens": 18}).total == Decimal("0.00001425")
            with pytest.raises(indoxrouter.UnsupportedError):
                await c.embeddings("x", model="anthropic/claude-haiku-4-5")
        assert c.closed

    run(main())


def test_100_concurrent_tasks(sim):
    async def main() -> None:
        c = AsyncClient(**make_kwargs(sim))
        models = ["openai/gpt-4o-mini", "anthropic/claude-haiku-4-5", "gemini/gemini-2.5-flash",
                  "cohere/command-r-08-2024", "mistral/mistral-small-latest"]
        results = await asyncio.gather(
            *(c.chat(f"task {i}", model=models[i % len(models)]) for i in range(100))
        )
        assert [r.text.rsplit(" ", 1)[-1] for r in results] == [str(i) for i in range(100)]
        assert all(r.cost is not None for r in results)
        c.close()

    run(main())
    assert sim.request_count() == 100


def test_concurrent_tasks_overlap(sim):
    # 20 calls that each wait 300 ms upstream finish together, not in 6 s.
    sim.fault({"type": "slow", "ms": 300}, provider="openai", times=20)

    async def main() -> float:
        async with AsyncClient(**make_kwargs(sim)) as c:
            loop = asyncio.get_running_loop()
            start = loop.time()
            await asyncio.gather(*(c.chat(f"t{i}") for i in range(20)))
            return loop.time() - start

    assert run(main()) < 2.0


def test_errors_are_raised_from_await(sim):
    sim.fault({"type": "status", "status": 429, "retry_after": 3}, provider="openai")

    async def main() -> None:
        async with AsyncClient(**make_kwargs(sim)) as c:
            with pytest.raises(indoxrouter.RateLimitError) as e:
                await c.chat("limited")
            assert e.value.retry_after == 3.0
            with pytest.raises(indoxrouter.ModelNotFoundError):
                async for _ in c.chat_stream("x", model="gpt-4o-mni"):
                    pass

    run(main())


def test_task_cancellation(sim):
    sim.fault({"type": "slow", "ms": 3000}, provider="openai")

    async def main() -> None:
        async with AsyncClient(**make_kwargs(sim)) as c:
            task = asyncio.ensure_future(c.chat("slow"))
            await asyncio.sleep(0.2)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            # The client keeps working after a cancelled call.
            assert (await c.chat("after")).text.endswith("after")

    run(main())
