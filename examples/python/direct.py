"""Direct mode: the Python client calling providers with your own keys.

    export OPENAI_API_KEY=sk-...        # and/or ANTHROPIC_API_KEY, GEMINI_API_KEY, ...
    python examples/python/direct.py

Against the provider simulator instead of the real APIs:

    cargo run -p indoxrouter-simulator -- --port 8090 --api-key sk-sim &
    OPENAI_API_KEY=sk-sim OPENAI_BASE_URL=http://127.0.0.1:8090/openai/v1 python examples/python/direct.py
"""

import asyncio

import indoxrouter
from indoxrouter import AsyncClient, Client

MODEL = "openai/gpt-4o-mini"


def sync_examples(client: Client) -> None:
    resp = client.chat([{"role": "user", "content": "Say hello in five words."}], model=MODEL)
    print("reply:", resp.text)
    print(f"usage: {resp.usage.prompt_tokens} prompt + {resp.usage.completion_tokens} completion")
    # Exact decimal.Decimal; None means the model is unpriced (unknown, not free).
    print("cost: $", resp.cost.total if resp.cost else "unpriced")

    print("stream: ", end="")
    for chunk in client.chat_stream("Count to five.", model=MODEL, stream_options={"include_usage": True}):
        print(chunk.text, end="", flush=True)
        if chunk.cost is not None:
            print(f"\nstream cost: ${chunk.cost.total}")

    tools = [{
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Current weather for a city",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
        },
    }]
    resp = client.chat("What's the weather in Paris?", model=MODEL, tools=tools, tool_choice="required")
    for call in resp.choices[0].message.tool_calls or []:
        print("tool call:", call.function.name, call.function.arguments)

    try:
        client.chat("hi", model="gpt-4o-mni")
    except indoxrouter.ModelNotFoundError as e:
        print(f"error: {e.code} ({e.status}), suggestions: {e.suggestions}")

    cost = client.cost(MODEL, {"prompt_tokens": 23, "completion_tokens": 18})
    print("gpt-4o-mini, 23 + 18 tokens: $", cost.total if cost else "unpriced")


async def async_examples() -> None:
    async with AsyncClient(max_retries=1) as client:
        answers = await asyncio.gather(*(client.chat(f"Say {i}", model=MODEL) for i in range(5)))
        print("async:", [a.text for a in answers])
        async for chunk in client.chat_stream("Stream, then stop early.", model=MODEL):
            print("first async chunk:", repr(chunk.text))
            break  # closes the connection: the provider stops generating


if __name__ == "__main__":
    with Client(timeout=60, max_retries=2) as c:
        sync_examples(c)
    asyncio.run(async_examples())
