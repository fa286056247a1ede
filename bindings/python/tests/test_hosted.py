"""Hosted mode against a real `indoxrouter-server` (the `server` fixture),
whose providers are the simulator: construction by API key and by password,
the server's charge as `cost`, `balance()` and `usage()`, streams, async
concurrency, and the server's errors as exception classes."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from decimal import Decimal
from typing import Callable, List

import pytest

import indoxrouter
from indoxrouter import AsyncClient, Balance, Client, IndoxRouterError, UsagePage

from conftest import REPO_ROOT, HostedUser, Server, Sim

MODEL = "openai/gpt-4o-mini"
REPLY = "Hello from the simulator. You said: Say hello"


def kwargs(server: Server, **extra) -> dict:
    return dict(base_url=server.url, max_retries=0, timeout=10, **extra)


def test_api_key_client_chat_charges_exactly_the_reported_cost(hosted: Client, user: HostedUser):
    assert hosted.is_hosted
    before = hosted.balance()
    assert isinstance(before, Balance)
    assert before.username == user.name
    assert before.balance == before.available == Decimal("5")
    assert isinstance(before.balance, Decimal)

    resp = hosted.chat("Say hello", model=MODEL)
    assert resp.text == REPLY
    # The server's answer: the provider it routed to, the model as `provider/model`.
    assert (resp.provider, resp.model) == ("openai", MODEL)
    cost = resp.cost.total
    assert isinstance(cost, Decimal) and cost > 0

    after = hosted.balance()
    assert before.balance - after.balance == cost
    assert after.available == after.balance  # nothing held once the call is done
    assert user.balance() == after.balance  # the server's own account API agrees

    page = hosted.usage()
    assert isinstance(page, UsagePage)
    assert len(page.data) == 1 and page.next_cursor is None
    row = page.data[0]
    assert (row.endpoint, row.model, row.stream, row.status) == ("chat", "gpt-4o-mini", False, "completed")
    assert row.cost == cost and isinstance(row.cost, Decimal)
    assert (row.prompt_tokens, row.completion_tokens) == (
        resp.usage.prompt_tokens,
        resp.usage.completion_tokens,
    )


def test_usage_pages_newest_first(hosted: Client):
    costs = [hosted.chat("word " * n, model=MODEL).cost.total for n in (1, 200, 2000)]
    assert len(set(costs)) == 3  # longer prompts cost more: the rows are distinguishable
    first = hosted.usage(limit=2)
    assert [r.cost for r in first.data] == costs[:0:-1]
    assert first.next_cursor is not None
    rest = hosted.usage(limit=2, cursor=first.next_cursor)
    assert [r.cost for r in rest.data] == costs[:1]
    assert rest.next_cursor is None


def test_username_and_password(server: Server, user: HostedUser):
    with Client(**kwargs(server, username=user.name, password=user.password)) as c:
        assert c.is_hosted
        assert c.balance().username == user.name
        resp = c.chat("Say hello", model=MODEL)
        assert resp.text == REPLY
        assert user.balance() == Decimal("5") - resp.cost.total
        assert c.usage().data[0].cost == resp.cost.total


def test_wrong_password_is_an_authentication_error(server: Server, user: HostedUser):
    with pytest.raises(indoxrouter.AuthenticationError) as info:
        Client(**kwargs(server, username=user.name, password="not-the-password"))
    assert (info.value.code, info.value.status) == ("authentication", 401)
    assert "not-the-password" not in str(info.value)


def test_hosted_needs_a_base_url(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("INDOXROUTER_BASE_URL", raising=False)
    with pytest.raises(indoxrouter.InvalidParametersError):
        Client(api_key="ixr-whatever")


def test_base_url_from_the_environment(monkeypatch: pytest.MonkeyPatch, server: Server, user: HostedUser):
    monkeypatch.setenv("INDOXROUTER_BASE_URL", server.url + "/v1/")
    with Client(api_key=user.key, max_retries=0) as c:
        assert c.balance().username == user.name


def test_stream_cost_arrives_at_the_end_and_matches_the_charge(hosted: Client, user: HostedUser):
    chunks = list(hosted.chat_stream("Say hello", model=MODEL))
    assert "".join(c.text for c in chunks) == REPLY
    assert {(c.provider, c.model) for c in chunks} == {("openai", MODEL)}
    priced = [i for i, c in enumerate(chunks) if c.cost is not None]
    assert priced == [len(chunks) - 1], "only the final (usage) chunk carries the cost"
    last = chunks[-1]
    assert last.usage is not None and last.usage.completion_tokens > 0
    cost = last.cost.total
    assert isinstance(cost, Decimal) and cost > 0
    # The server settles before it sends [DONE], so the balance is final now.
    assert hosted.balance().balance == Decimal("5") - cost
    row = hosted.usage().data[0]
    assert (row.stream, row.status, row.cost) == (True, "completed", cost)
    # The same request unstreamed costs the same.
    assert hosted.chat("Say hello", model=MODEL).cost.total == cost


def test_stream_break_closes_the_upstream_and_bills_what_was_delivered(
    hosted: Client, user: HostedUser, sim: Sim
):
    # The provider sends two events, then holds its stream open until the
    # server hangs up: once this client has gone and the drain bound (1 s
    # here) has passed without a usage report.
    sim.fault("stall=2", provider="openai")
    seen = 0
    for chunk in hosted.chat_stream("Say hello", model=MODEL):
        seen += 1
        assert sim.open_streams() == 1
        break  # no reference to the stream is left: leaving the loop closes it
    assert seen == 1
    sim.wait_no_open_streams(timeout=5)
    deadline = time.monotonic() + 5
    while not (rows := user.usage()):
        assert time.monotonic() < deadline, "the abandoned stream was never settled"
        time.sleep(0.02)
    (row,) = rows
    assert (row["stream"], row["status"]) == (True, "client_disconnected")
    assert Decimal("5") - hosted.balance().balance == Decimal(row["cost"]) > 0


def test_embeddings(hosted: Client):
    resp = hosted.embeddings(["first text", "second text"], model="openai/text-embedding-3-small")
    assert len(resp.vectors) == 2 and len(resp.vectors[0]) > 0
    assert resp.provider == "openai"
    cost = resp.cost.total
    assert cost > 0
    assert hosted.balance().balance == Decimal("5") - cost
    row = hosted.usage().data[0]
    assert (row.endpoint, row.cost) == ("embeddings", cost)


def test_async_concurrency(server: Server, user: HostedUser):
    async def main() -> List[Decimal]:
        async with AsyncClient(**kwargs(server, api_key=user.key)) as c:
            before = await c.balance()
            results = await asyncio.gather(*(c.chat(f"task {i}", model=MODEL) for i in range(24)))
            assert [r.text for r in results] == [
                f"Hello from the simulator. You said: task {i}" for i in range(24)
            ]
            costs = [r.cost.total for r in results]
            after = await c.balance()
            assert before.balance - after.balance == sum(costs)
            page = await c.usage(limit=100)
            assert sorted(r.cost for r in page.data) == sorted(costs)

            text = ""
            cost = None
            async for chunk in c.chat_stream("Say hello", model=MODEL):
                text += chunk.text
                if chunk.cost is not None:
                    cost = chunk.cost.total
            assert text == REPLY and cost is not None
            assert (await c.balance()).balance == after.balance - cost
            return costs

    assert len(asyncio.run(main())) == 24


def test_async_stream_break_closes_the_upstream(server: Server, user: HostedUser, sim: Sim):
    sim.fault("stall=2", provider="openai")

    async def main() -> None:
        async with AsyncClient(**kwargs(server, api_key=user.key)) as c:
            stream = await c.chat("Say hello", model=MODEL, stream=True)
            async for _ in stream:
                assert sim.open_streams() == 1
                break
            await stream.aclose()
            # Closed explicitly while `stream` is still referenced: not by GC.
            await asyncio.to_thread(sim.wait_no_open_streams, 5)
            assert stream is not None

    asyncio.run(main())
    deadline = time.monotonic() + 5
    while not (rows := user.usage()):
        assert time.monotonic() < deadline, "the abandoned stream was never settled"
        time.sleep(0.02)
    assert rows[0]["status"] == "client_disconnected"


def test_async_login(server: Server, user: HostedUser):
    async def main() -> None:
        async with AsyncClient(**kwargs(server, username=user.name, password=user.password)) as c:
            assert (await c.balance()).username == user.name

    asyncio.run(main())


def raises(exc_type: type, fn: Callable[..., object], *args, **kwargs) -> IndoxRouterError:
    with pytest.raises(exc_type) as info:
        fn(*args, **kwargs)
    err = info.value
    assert isinstance(err, IndoxRouterError)
    assert isinstance(err.code, str) and isinstance(err.status, int)
    return err


def test_bad_key_is_an_authentication_error(server: Server, sim: Sim):
    before = sim.request_count()
    with Client(**kwargs(server, api_key="ixr-not-a-real-key-0000000000")) as c:
        err = raises(indoxrouter.AuthenticationError, c.chat, "hi", model=MODEL)
        assert (err.code, err.status) == ("authentication", 401)
        assert "ixr-not-a-real-key" not in str(err)
        raises(indoxrouter.AuthenticationError, c.balance)
        raises(indoxrouter.AuthenticationError, lambda: list(c.chat_stream("hi", model=MODEL)))
    assert sim.request_count() == before, "a refused key must not reach the provider"


def test_out_of_credit_is_insufficient_credits(server: Server, make_user, sim: Sim):
    poor = make_user("0.000001")
    before = sim.request_count()
    with Client(**kwargs(server, api_key=poor.key)) as c:
        err = raises(indoxrouter.InsufficientCreditsError, c.chat, "hi", model=MODEL)
        assert (err.code, err.status) == ("insufficient_quota", 402)
        assert "insufficient" in str(err).lower()
        raises(indoxrouter.InsufficientCreditsError, lambda: list(c.chat_stream("hi", model=MODEL)))
        raises(indoxrouter.InsufficientCreditsError, c.embeddings, "long text " * 1000)
        assert c.balance().balance == Decimal("0.000001")
    assert sim.request_count() == before


def test_over_the_rate_limit_is_rate_limit_error_with_retry_after(server: Server, user: HostedUser, sim: Sim):
    status, body = server.api("POST", "/api/v1/keys", {"tier": "tight"}, token=user.token)
    assert status == 201, body
    with Client(**kwargs(server, api_key=body["key"])) as c:
        c.chat("hi", model=MODEL)
        before = sim.request_count()
        err = raises(indoxrouter.RateLimitError, c.chat, "hi", model=MODEL)
        assert (err.code, err.status) == ("rate_limited", 429)
        # One request a minute: the next fits about a minute after the first.
        assert err.retry_after is not None and 1 <= err.retry_after <= 60
        assert sim.request_count() == before


def test_unknown_model_is_model_not_found(hosted: Client, sim: Sim):
    before = sim.request_count()
    err = raises(indoxrouter.ModelNotFoundError, hosted.chat, "hi", model="openai/gpt-4o-minii")
    assert isinstance(err, indoxrouter.NotFoundError)
    assert (err.code, err.status) == ("model_not_found", 404)
    assert "openai/gpt-4o-mini" in err.suggestions
    raises(indoxrouter.ModelNotFoundError, lambda: list(hosted.chat_stream("hi", model="nope/nothing")))
    assert sim.request_count() == before
    assert hosted.balance().balance == Decimal("5")


def test_async_errors(server: Server, make_user):
    poor = make_user("0.000001")

    async def main() -> None:
        async with AsyncClient(**kwargs(server, api_key="ixr-not-a-real-key-0000000000")) as c:
            with pytest.raises(indoxrouter.AuthenticationError):
                await c.chat("hi", model=MODEL)
        async with AsyncClient(**kwargs(server, api_key=poor.key)) as c:
            with pytest.raises(indoxrouter.InsufficientCreditsError) as info:
                await c.chat("hi", model=MODEL)
            assert info.value.status == 402
            with pytest.raises(indoxrouter.InsufficientCreditsError):
                await c.chat("hi", model=MODEL, stream=True)
            with pytest.raises(indoxrouter.ModelNotFoundError):
                await c.embeddings("hi", model="openai/no-such-embedder")

    asyncio.run(main())


def test_direct_mode_has_no_balance(client: Client):
    assert not client.is_hosted
    for call in (client.balance, client.usage):
        err = raises(indoxrouter.UnsupportedError, call)
        assert (err.code, err.status) == ("unsupported", 400)


@pytest.mark.parametrize("auth", ["api_key", "password"])
def test_the_hosted_example_runs(server: Server, user: HostedUser, auth: str):
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "INDOXROUTER_BASE_URL": server.url}
    if auth == "api_key":
        env["INDOXROUTER_API_KEY"] = user.key
    else:
        env["INDOXROUTER_USERNAME"] = user.name
        env["INDOXROUTER_PASSWORD"] = user.password
    out = subprocess.run(
        [sys.executable, str(REPO_ROOT / "examples" / "python" / "hosted.py")],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert f"reply: {REPLY} in five words." in out.stdout
    assert "stream charged: $" in out.stdout
    assert "error: model_not_found (404)" in out.stdout
    assert ("async:" in out.stdout) == (auth == "api_key")
    assert user.balance() < Decimal("5")
