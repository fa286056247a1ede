"""Hosted mode: the Python client calling an IndoxRouter server, which holds
the provider keys and charges your balance.

    cargo run --release -p indoxrouter-server          # admin password in ./data/admin-password
    # create a key with scopes ["inference", "usage:read"] (balance and usage
    # need the second): POST /api/v1/keys (see docs/api), then
    INDOXROUTER_BASE_URL=http://localhost:8000 INDOXROUTER_API_KEY=ixr-... python examples/python/hosted.py

Or with a username and password instead of a key:

    INDOXROUTER_USERNAME=alice INDOXROUTER_PASSWORD=... python examples/python/hosted.py
"""

import asyncio
import os

import indoxrouter
from indoxrouter import AsyncClient, Client

BASE_URL = os.environ.get("INDOXROUTER_BASE_URL", "http://localhost:8000")
MODEL = "openai/gpt-4o-mini"


def connect() -> Client:
    key = os.environ.get("INDOXROUTER_API_KEY")
    if key:
        return Client(base_url=BASE_URL, api_key=key)
    # Logs in once; the token lasts the server's token lifetime (an hour by
    # default), so long-running programs should use an API key.
    return Client(
        base_url=BASE_URL,
        username=os.environ.get("INDOXROUTER_USERNAME", "admin"),
        password=os.environ.get("INDOXROUTER_PASSWORD", ""),
    )


def sync_examples(client: Client) -> None:
    print("balance: $", client.balance().available)  # decimal.Decimal, exact

    resp = client.chat("Say hello in five words.", model=MODEL)
    print("reply:", resp.text)
    if resp.cost is not None:  # the server's charge for this call
        print("charged: $", resp.cost.total)

    print("stream: ", end="")
    for chunk in client.chat_stream("Count to five.", model=MODEL):
        print(chunk.text, end="", flush=True)
        if chunk.cost is not None:  # on the last chunk: the charge, settled
            print(f"\nstream charged: ${chunk.cost.total:f}")

    emb = client.embeddings(["first", "second"], model="openai/text-embedding-3-small")
    print("embeddings:", len(emb.vectors), "vectors of", len(emb.vectors[0]))

    page = client.usage(limit=5)  # newest first; page.next_cursor for more
    for row in page.data:
        # `:f` prints a small Decimal as 0.00000004 rather than 4E-8.
        print(f"  {row.created_at} {row.endpoint} {row.provider}/{row.model} ${row.cost:f} {row.status}")

    try:
        client.chat("hi", model="openai/gpt-4o-mni")
    except indoxrouter.ModelNotFoundError as e:
        print(f"error: {e.code} ({e.status}), suggestions: {e.suggestions}")
    except indoxrouter.InsufficientCreditsError as e:
        print(f"out of credit: {e}")


async def async_examples(key: str) -> None:
    async with AsyncClient(base_url=BASE_URL, api_key=key) as client:
        answers = await asyncio.gather(*(client.chat(f"Say {i}", model=MODEL) for i in range(5)))
        print("async:", [a.text for a in answers])
        print("balance now: $", (await client.balance()).available)


if __name__ == "__main__":
    with connect() as c:
        sync_examples(c)
    api_key = os.environ.get("INDOXROUTER_API_KEY")
    if api_key:
        asyncio.run(async_examples(api_key))
