"""Each core error kind arrives as its own exception class, with .code and .status."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import time

import pytest

import indoxrouter
from indoxrouter import Client, IndoxRouterError

from conftest import make_kwargs


def raises(exc_type, fn, *args, **kwargs):
    with pytest.raises(exc_type) as info:
        fn(*args, **kwargs)
    err = info.value
    assert isinstance(err, IndoxRouterError)
    assert isinstance(err.code, str) and isinstance(err.status, int)
    return err


def test_authentication(sim):
    with Client(**make_kwargs(sim, api_keys={"openai": "sk-wrong-key-000000"})) as c:
        err = raises(indoxrouter.AuthenticationError, c.chat, "hi")
    assert (err.code, err.status, err.provider) == ("authentication", 401, "openai")
    assert "sk-wrong-key-000000" not in str(err)


def test_permission(client, sim):
    sim.fault({"type": "status", "status": 403}, provider="openai")
    err = raises(indoxrouter.PermissionDeniedError, client.chat, "hi")
    assert (err.code, err.status) == ("permission", 403)


def test_rate_limit_with_retry_after(client, sim):
    sim.fault({"type": "status", "status": 429, "retry_after": 7}, provider="openai")
    err = raises(indoxrouter.RateLimitError, client.chat, "hi")
    assert (err.code, err.status, err.retry_after) == ("rate_limited", 429, 7.0)


def test_insufficient_credits(client, sim):
    sim.fault({"type": "status", "status": 402}, provider="openai")
    err = raises(indoxrouter.InsufficientCreditsError, client.chat, "hi")
    assert (err.code, err.status) == ("insufficient_quota", 402)


def test_invalid_parameters_client_side(client, sim):
    err = raises(indoxrouter.InvalidParametersError, client.chat, "hi", temperature="hot")
    assert (err.code, err.status) == ("invalid_request", 400)
    assert sim.request_count() == 0  # refused before anything was sent


def test_invalid_parameters_from_provider(client, sim):
    sim.fault({"type": "status", "status": 400}, provider="openai")
    err = raises(indoxrouter.InvalidParametersError, client.chat, "hi")
    assert err.provider == "openai"


def test_unsupported(client):
    err = raises(indoxrouter.UnsupportedError, client.embeddings, "x", model="anthropic/claude-haiku-4-5")
    assert isinstance(err, indoxrouter.InvalidParametersError)
    assert err.code == "unsupported"


def test_model_not_found_with_suggestions(client):
    err = raises(indoxrouter.ModelNotFoundError, client.chat, "hi", model="gpt-4o-mni")
    assert (err.code, err.status) == ("model_not_found", 404)
    assert "openai/gpt-4o-mini" in err.suggestions
    assert isinstance(err, indoxrouter.NotFoundError)
    raises(indoxrouter.ModelNotFoundError, client.model, "no-such-model-xyz")


def test_provider_not_found(client):
    err = raises(indoxrouter.ProviderNotFoundError, client.chat, "hi", model="deepseek/deepseek-chat")
    assert (err.code, err.status) == ("not_configured", 503)
    assert "DEEPSEEK_API_KEY" in str(err)


def test_provider_error(client, sim):
    sim.fault({"type": "status", "status": 500}, provider="openai")
    err = raises(indoxrouter.ProviderError, client.chat, "hi")
    assert not isinstance(err, indoxrouter.NetworkError)
    assert (err.code, err.status, err.upstream_status) == ("provider_unavailable", 502, 500)


def test_network_error():
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with Client(api_keys={"openai": "sk-x"}, base_urls={"openai": f"http://127.0.0.1:{port}/v1"},
                use_env=False, max_retries=0) as c:
        err = raises(indoxrouter.NetworkError, c.chat, "hi")
    assert isinstance(err, indoxrouter.ProviderError) and err.upstream_status is None


def test_timeout(sim):
    sim.fault({"type": "slow", "ms": 3000}, provider="openai")
    with Client(**make_kwargs(sim, timeout=0.3)) as c:
        start = time.monotonic()
        err = raises(indoxrouter.TimeoutError, c.chat, "hi")
    assert time.monotonic() - start < 2.5
    assert (err.code, err.status) == ("timeout", 504)
    assert isinstance(err, TimeoutError)  # the built-in one too


def test_decode_error(client, sim):
    sim.fault({"type": "malformed"}, provider="openai")
    err = raises(indoxrouter.ResponseDecodeError, client.chat, "hi")
    assert err.code == "decode"


def test_bad_argument_types(client):
    with pytest.raises(TypeError):
        client.chat([{"role": "user", "content": object()}])
    raises(indoxrouter.InvalidParametersError, indoxrouter.Client, use_env=False, timeout=-1)
    raises(indoxrouter.InvalidParametersError, indoxrouter.Client, api_key="ixr-x")


def test_ctrl_c_interrupts_a_blocking_call(sim):
    sim.fault({"type": "slow", "ms": 20000}, provider="openai")
    script = textwrap.dedent(
        f"""
        import signal, sys, time, indoxrouter
        # A shell that starts the test suite in the background makes its
        # children ignore SIGINT; this script needs Python's own handler.
        signal.signal(signal.SIGINT, signal.default_int_handler)
        c = indoxrouter.Client(api_keys={{"openai": {sim.api_key!r}}},
                               base_urls={{"openai": {sim.root + '/openai/v1'!r}}},
                               use_env=False, max_retries=0)
        print("calling", flush=True)
        start = time.monotonic()
        try:
            c.chat("hi")
        except KeyboardInterrupt:
            print(f"interrupted {{time.monotonic() - start:.2f}}", flush=True)
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "calling"
        time.sleep(0.5)
        os.kill(proc.pid, signal.SIGINT)
        out, _ = proc.communicate(timeout=5)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert out.startswith("interrupted"), out
    assert float(out.split()[1]) < 2.0
