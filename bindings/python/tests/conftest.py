"""Fixtures: the provider simulator (started once per session, as in
tests/conformance/conftest.py), clients pointed at it, a tiny local SSE
server that reports when its client hangs up (to test cancellation), and a
real `indoxrouter-server` with the simulator as its upstream (hosted mode,
as in indoxrouter-server/tests/sdk/conftest.py)."""

from __future__ import annotations

import itertools
import json
import os
import shutil
import socket
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

import pytest

import indoxrouter

REPO_ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(REPO_ROOT / "tests" / "support"))
import indoxrouter_testkit as testkit  # noqa: E402

API_KEY = "sk-python-0123456789abcdef"


def binary(name: str) -> Path:
    """A binary of this workspace, built by scripts/python.sh."""
    path = testkit.debug_binary(name)
    if not path.is_file():
        pytest.exit(
            f"{name} not found at {path}; build it with `cargo build "
            "-p indoxrouter-server -p indoxrouter-simulator` (scripts/python.sh does)",
            returncode=2,
        )
    return path


@dataclass(frozen=True)
class Sim:
    root: str
    api_key: str

    def base_urls(self) -> dict:
        return {
            "openai": f"{self.root}/openai/v1",
            "mistral": f"{self.root}/mistral",
            "anthropic": f"{self.root}/anthropic",
            "google": f"{self.root}/google",
            "cohere": f"{self.root}/cohere",
        }

    def api_keys(self) -> dict:
        return {p: self.api_key for p in self.base_urls()}

    def _call(self, method: str, path: str, body: Optional[dict] = None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(
            f"{self.root}/__sim/{path}",
            data=data,
            method=method,
            headers={"content-type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=5) as resp:
            return json.loads(resp.read())

    def fault(self, fault, provider: str = "*", times: int = 1) -> None:
        """Queues a fault for the next `times` provider requests."""
        self._call("POST", "faults", {"provider": provider, "fault": fault, "times": times})

    def reset(self) -> None:
        self._call("POST", "reset", {})

    def request_count(self) -> int:
        return self._call("GET", "count")["count"]

    def requests(self) -> list:
        return self._call("GET", "requests")

    def open_streams(self) -> int:
        """Response bodies the simulator is still sending (0 once every
        client, or the server relaying for it, has hung up)."""
        return self._call("GET", "streams")["open"]

    def wait_no_open_streams(self, timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while self.open_streams() != 0:
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.open_streams()} upstream stream(s) still open after {timeout}s")
            time.sleep(0.01)


@pytest.fixture(scope="session")
def sim() -> Iterator[Sim]:
    proc, root = testkit.start_simulator(binary("indoxrouter-simulator"), API_KEY)
    try:
        yield Sim(root=root, api_key=API_KEY)
    finally:
        testkit.stop(proc, grace=5)


@pytest.fixture(autouse=True)
def _clean_sim(request):
    # Faults and recorded requests must not leak from one test to the next.
    if "sim" in request.fixturenames:
        request.getfixturevalue("sim").reset()
    yield


def make_kwargs(sim: Sim, **overrides) -> dict:
    kwargs = dict(
        api_keys=sim.api_keys(),
        base_urls=sim.base_urls(),
        use_env=False,
        max_retries=0,
        timeout=10,
    )
    kwargs.update(overrides)
    return kwargs


@pytest.fixture
def client(sim: Sim) -> Iterator[indoxrouter.Client]:
    with indoxrouter.Client(**make_kwargs(sim)) as c:
        yield c


class HangupServer:
    """An OpenAI-compatible endpoint whose chat stream never ends on its
    own: it sends a chunk every 20 ms until the client closes the connection,
    and records when that happened."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.opened = 0
        self.hangups: List[float] = []
        self.lock = threading.Lock()
        self.stop = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def _accept(self) -> None:
        self.sock.settimeout(0.2)
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            data = b""
            while b"\r\n\r\n" not in data:
                part = conn.recv(65536)
                if not part:
                    return
                data += part
            head, body = data.split(b"\r\n\r\n", 1)
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value.strip())
            while len(body) < length:
                body += conn.recv(65536)
            with self.lock:
                self.opened += 1
            conn.sendall(
                b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
                b"cache-control: no-cache\r\nconnection: close\r\n\r\n"
            )
            chunk = {
                "id": "chatcmpl-hangup",
                "object": "chat.completion.chunk",
                "created": 1,
                "model": "m",
                "choices": [{"index": 0, "delta": {"content": "tick "}, "finish_reason": None}],
            }
            event = b"data: " + json.dumps(chunk).encode() + b"\n\n"
            deadline = time.monotonic() + 20
            try:
                while time.monotonic() < deadline and not self.stop.is_set():
                    conn.sendall(event)
                    time.sleep(0.02)
            except OSError:
                with self.lock:
                    self.hangups.append(time.monotonic())

    def wait_hangups(self, n: int, timeout: float = 3.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.hangups) >= n:
                    return True
            time.sleep(0.01)
        return False

    def close(self) -> None:
        self.stop.set()
        self.sock.close()


@pytest.fixture
def hangup() -> Iterator[HangupServer]:
    server = HangupServer()
    yield server
    server.close()


# --- Hosted mode: a real indoxrouter-server in front of the simulator -------

ADMIN_PASSWORD = "admin-password-for-python-tests"
USER_PASSWORD = "user-password-for-python-tests"


@dataclass
class Server:
    url: str
    log_path: Path

    def api(
        self, method: str, path: str, body: Optional[dict] = None, token: Optional[str] = None
    ) -> Tuple[int, Any]:
        """A JSON request outside the package under test; (status, parsed body)."""
        status, body, _ = testkit.http(method, f"{self.url}{path}", body, token)
        return status, body

    def login(self, username: str, password: str) -> str:
        status, body = self.api("POST", "/api/v1/auth/login", {"username": username, "password": password})
        assert status == 200, (status, body)
        return body["access_token"]

    def log_tail(self, lines: int = 100) -> str:
        return testkit.log_tail(self.log_path, lines)


@dataclass(frozen=True)
class HostedUser:
    name: str
    password: str
    key: str  # an `ixr-` API key
    token: str  # an access token, for checks that bypass the package
    server: Server

    def balance(self) -> Decimal:
        """The balance as the server's own account API reports it."""
        status, body = self.server.api("GET", "/api/v1/users/me", token=self.token)
        assert status == 200, body
        return Decimal(body["balance"])

    def usage(self) -> List[Dict[str, Any]]:
        status, body = self.server.api("GET", "/api/v1/users/me/usage", token=self.token)
        assert status == 200, body
        return body["data"]


@pytest.fixture(scope="session")
def server(sim: Sim) -> Iterator[Server]:
    """indoxrouter-server on an ephemeral port with a temporary data dir, a
    known admin password and every provider pointed at the simulator. Its
    environment is built from scratch, so no provider key or INDOXROUTER_*
    setting leaks in from the caller's shell (and its cwd holds no `.env`)."""
    workdir = Path(tempfile.mkdtemp(prefix="indoxrouter-python-hosted-"))
    urls = sim.base_urls()
    env = testkit.server_env(testkit.free_port(), workdir / "data", ADMIN_PASSWORD)
    env |= testkit.SUITE_LIMITS
    env |= {
        "OPENAI_API_KEY": sim.api_key,
        "OPENAI_BASE_URL": urls["openai"],
        "ANTHROPIC_API_KEY": sim.api_key,
        "ANTHROPIC_BASE_URL": urls["anthropic"],
        "GEMINI_API_KEY": sim.api_key,
        "GEMINI_BASE_URL": urls["google"],
        "MISTRAL_API_KEY": sim.api_key,
        "MISTRAL_BASE_URL": urls["mistral"],
        "COHERE_API_KEY": sim.api_key,
        "COHERE_BASE_URL": urls["cohere"],
    }
    try:
        proc, url, log_path = testkit.start_server(
            binary("indoxrouter-server"), env, workdir, probe_timeout=10
        )
        try:
            yield Server(url=url, log_path=log_path)
        finally:
            testkit.stop(proc)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


_user_numbers = itertools.count(1)


@pytest.fixture(scope="session")
def make_user(server: Server) -> Callable[[str], HostedUser]:
    """Creates a user with `credits` (USD) through the admin API, and an API key for it."""
    admin = server.login("admin", ADMIN_PASSWORD)

    def make(credits: str = "5") -> HostedUser:
        name = f"py-{os.getpid()}-{next(_user_numbers)}"
        status, body = server.api(
            "POST",
            "/api/v1/admin/users",
            {"username": name, "password": USER_PASSWORD, "credits": credits},
            token=admin,
        )
        assert status == 201, (status, body)
        assert Decimal(body["balance"]) == Decimal(credits)
        token = server.login(name, USER_PASSWORD)
        # The package reads balance and usage with the key too.
        status, body = server.api(
            "POST",
            "/api/v1/keys",
            {"name": "python-tests", "scopes": ["inference", "usage:read"]},
            token=token,
        )
        assert status == 201, (status, body)
        assert body["key"].startswith("ixr-")
        return HostedUser(name=name, password=USER_PASSWORD, key=body["key"], token=token, server=server)

    return make


@pytest.fixture
def user(make_user: Callable[[str], HostedUser]) -> HostedUser:
    """A fresh user with $5, so balance checks never see another test's charges."""
    return make_user("5")


@pytest.fixture
def hosted(server: Server, user: HostedUser) -> Iterator[indoxrouter.Client]:
    with indoxrouter.Client(base_url=server.url, api_key=user.key, max_retries=0, timeout=10) as c:
        yield c


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A failing hosted test shows the end of the server's log."""
    outcome = yield
    report = outcome.get_result()
    if report.failed and "server" in getattr(item, "fixturenames", ()):
        srv = getattr(item, "funcargs", {}).get("server")
        if srv is not None:
            report.sections.append(("indoxrouter-server log (last 100 lines)", srv.log_tail()))
