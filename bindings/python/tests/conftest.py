"""Fixtures: the provider simulator (started once per session, as in
tests/conformance/conftest.py), clients pointed at it, and a tiny local SSE
server that reports when its client hangs up (to test cancellation)."""

from __future__ import annotations

import json
import os
import selectors
import signal
import socket
import subprocess
import threading
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, List, Optional

import pytest

import indoxrouter

REPO_ROOT = Path(__file__).resolve().parents[3]
API_KEY = "sk-python-0123456789abcdef"
STARTUP_TIMEOUT_S = 30.0


def simulator_binary() -> Path:
    target = os.environ.get("CARGO_TARGET_DIR")
    target_dir = Path(target) if target else REPO_ROOT / "target"
    if not target_dir.is_absolute():
        target_dir = REPO_ROOT / target_dir
    binary = target_dir / "debug" / "indoxrouter-simulator"
    if not binary.is_file():
        pytest.exit(
            f"simulator binary not found at {binary}; build it with "
            "`cargo build -p indoxrouter-simulator` (scripts/python.sh does)",
            returncode=2,
        )
    return binary


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


@pytest.fixture(scope="session")
def sim() -> Iterator[Sim]:
    proc = subprocess.Popen(
        [str(simulator_binary()), "--port", "0", "--api-key", API_KEY],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        with selectors.DefaultSelector() as sel:
            sel.register(proc.stdout, selectors.EVENT_READ)
            if not sel.select(timeout=STARTUP_TIMEOUT_S):
                raise RuntimeError(f"simulator printed nothing in {STARTUP_TIMEOUT_S}s")
        line = proc.stdout.readline().strip()
        prefix = "listening on "
        if not line.startswith(prefix):
            raise RuntimeError(f"unexpected first line from simulator: {line!r}")
        yield Sim(root=line[len(prefix):], api_key=API_KEY)
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)
        if proc.stdout is not None:
            proc.stdout.close()


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
