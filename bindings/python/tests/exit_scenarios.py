"""Scripts that exit while the package is busy, run by test_exit.py.

Each scenario ends the interpreter at a moment the runtime's threads may
still be working for Python: a stream left open, an `AsyncClient` never
closed, tasks still pending when the event loop stops, results arriving
while the interpreter shuts down, a daemon thread inside a call. The
process must exit with status 0 every time.

    python exit_scenarios.py SCENARIO   # SIM_ROOT and SIM_KEY in the environment
"""

from __future__ import annotations

import asyncio
import os
import sys
import threading
import time
from typing import Any, Dict

import indoxrouter

MODEL = "openai/gpt-4o-mini"


def kwargs() -> Dict[str, Any]:
    root, key = os.environ["SIM_ROOT"], os.environ["SIM_KEY"]
    return dict(
        api_keys={"openai": key},
        base_urls={"openai": f"{root}/openai/v1"},
        use_env=False,
        max_retries=0,
        timeout=10,
    )


def stream_broken_after_two_chunks() -> None:
    client = indoxrouter.Client(**kwargs())
    client.chat("hi", model=MODEL)
    stream = client.chat_stream("Count to twenty.", model=MODEL)
    for n, _ in enumerate(stream):
        if n == 1:
            break
    # Exits with the client and the stream alive: no close, no `with`.


def live_async_client() -> None:
    async def main() -> None:
        client = indoxrouter.AsyncClient(**kwargs())
        answers = await asyncio.gather(*(client.chat(f"Say {i}", model=MODEL) for i in range(8)))
        assert len(answers) == 8
        stream = await client.chat_stream("Count to twenty.", model=MODEL)
        async for _ in stream:
            break  # the async stream stays open; the client is never closed

    asyncio.run(main())


def pending_tasks() -> None:
    async def main() -> None:
        client = indoxrouter.AsyncClient(**kwargs())
        for i in range(8):
            asyncio.ensure_future(client.chat(f"Say {i}", model=MODEL))
        await asyncio.sleep(0)
        # asyncio.run cancels the eight calls while their answers are on the way.

    asyncio.run(main())


def results_during_shutdown() -> None:
    # An event loop on a daemon thread keeps calls in flight; the main
    # thread exits at once, so answers land while the interpreter finalizes.
    def loop() -> None:
        async def busy() -> None:
            client = indoxrouter.AsyncClient(**kwargs())
            while True:
                await asyncio.gather(*(client.chat("hi", model=MODEL) for _ in range(8)))

        asyncio.run(busy())

    threading.Thread(target=loop, daemon=True).start()
    time.sleep(0.15)


def daemon_thread_in_a_call() -> None:
    client = indoxrouter.Client(**kwargs())

    def calls() -> None:
        while True:
            for _ in client.chat_stream("Count to twenty.", model=MODEL):
                pass
            client.chat("hi", model=MODEL)

    for _ in range(2):
        threading.Thread(target=calls, daemon=True).start()
    time.sleep(0.15)


SCENARIOS = {
    f.__name__: f
    for f in (
        stream_broken_after_two_chunks,
        live_async_client,
        pending_tasks,
        results_during_shutdown,
        daemon_thread_in_a_call,
    )
}

if __name__ == "__main__":
    SCENARIOS[sys.argv[1]]()
