"""Runs `indoxrouter-server` against the provider simulator for the official
OpenAI SDK tests.

Both binaries must already be built (scripts/server_sdk.sh builds them). They
are looked for under `$CARGO_TARGET_DIR/debug/`, else `<repo>/target/debug/`.

Per session: one simulator (OpenAI at `{root}/openai/v1`, checking its API
key) and one server process with a clean environment: only the simulator is
configured as a provider, and its data lives in a temporary directory. Per
test: a fresh user with $5 of credit and an API key, so balance assertions
never see another test's charges.
"""

from __future__ import annotations

import itertools
import json
import os
import selectors
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import openai
import pytest

REPO_ROOT = Path(__file__).resolve().parents[3]
SIM_KEY = "sk-server-sdk-0123456789abcdef"
ADMIN_PASSWORD = "admin-password-for-sdk-tests"
USER_PASSWORD = "user-password-123"
STARTUP_TIMEOUT_S = 30.0
SDK_TIMEOUT_S = 30.0


def binary(name: str) -> Path:
    target = os.environ.get("CARGO_TARGET_DIR")
    target_dir = Path(target) if target else REPO_ROOT / "target"
    if not target_dir.is_absolute():
        target_dir = REPO_ROOT / target_dir
    path = target_dir / "debug" / name
    if not path.is_file():
        pytest.exit(
            f"{name} not found at {path}; build it with `cargo build -p indoxrouter-server "
            "-p indoxrouter-simulator --bins` (scripts/server_sdk.sh does)",
            returncode=2,
        )
    return path


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop(proc: subprocess.Popen) -> None:
    """SIGTERM (the server drains and settles), then SIGKILL if it lingers."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def http(method: str, url: str, body=None, token: str | None = None, timeout: float = 10):
    """A JSON request; returns (status, parsed body or None, headers)."""
    data = None
    headers = {}
    if body is not None:
        data = json.dumps(body).encode()
        headers["content-type"] = "application/json"
    if token is not None:
        headers["authorization"] = f"Bearer {token}"
    req = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            raw, status, hdrs = resp.read(), resp.status, resp.headers
    except urllib.error.HTTPError as e:
        raw, status, hdrs = e.read(), e.code, e.headers
    return status, (json.loads(raw) if raw else None), hdrs


@dataclass(frozen=True)
class Sim:
    root: str
    api_key: str

    @property
    def openai_base(self) -> str:
        return f"{self.root}/openai/v1"

    def count(self) -> int:
        return http("GET", f"{self.root}/__sim/count")[1]["count"]

    def requests(self) -> list:
        return http("GET", f"{self.root}/__sim/requests")[1]

    def push_fault(self, fault, times: int = 1, provider: str = "openai") -> None:
        status, body, _ = http(
            "POST",
            f"{self.root}/__sim/faults",
            {"provider": provider, "fault": fault, "times": times},
        )
        assert status == 200, body

    def pending_faults(self) -> int:
        return http("GET", f"{self.root}/__sim/faults")[1]["pending"]

    def reset(self) -> None:
        assert http("POST", f"{self.root}/__sim/reset", {})[0] == 200


@dataclass
class Server:
    url: str
    log_path: Path
    proc: subprocess.Popen

    @property
    def v1(self) -> str:
        return f"{self.url}/v1"

    def api(self, method: str, path: str, body=None, token: str | None = None, timeout=10):
        return http(method, f"{self.url}{path}", body, token, timeout)

    def login(self, username: str, password: str) -> str:
        status, body, _ = self.api(
            "POST", "/api/v1/auth/login", {"username": username, "password": password}
        )
        assert status == 200, (status, body)
        assert body["token_type"] == "bearer"
        return body["access_token"]

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError as e:
            return f"(server log unavailable: {e})"


@dataclass(frozen=True)
class User:
    name: str
    token: str  # JWT for /api/v1
    key: str  # API key for /v1
    server: Server

    def balance(self) -> Decimal:
        status, body, _ = self.server.api("GET", "/api/v1/users/me", token=self.token)
        assert status == 200, body
        assert isinstance(body["balance"], str), body
        return Decimal(body["balance"])

    def available(self) -> Decimal:
        status, body, _ = self.server.api("GET", "/api/v1/users/me", token=self.token)
        assert status == 200, body
        return Decimal(body["available"])

    def usage(self) -> list:
        status, body, _ = self.server.api("GET", "/api/v1/users/me/usage", token=self.token)
        assert status == 200, body
        return body["data"]


@pytest.fixture(scope="session")
def sim():
    proc = subprocess.Popen(
        [str(binary("indoxrouter-simulator")), "--port", "0", "--api-key", SIM_KEY],
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
            raise RuntimeError(
                f"unexpected first line from simulator: {line!r} (exit code {proc.poll()})"
            )
        root = line[len(prefix):]
        if not root.startswith("http://127.0.0.1:"):
            raise RuntimeError(f"simulator is not on 127.0.0.1: {root!r}")
        yield Sim(root=root, api_key=SIM_KEY)
    finally:
        stop(proc)
        if proc.stdout is not None:
            proc.stdout.close()


def clean_env(sim: Sim, port: int, data_dir: Path) -> dict:
    """Only what the server needs: no inherited provider keys or base URLs,
    no INDOXROUTER_* settings from the caller's shell."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "INDOXROUTER_HOST": "127.0.0.1",
        "INDOXROUTER_PORT": str(port),
        "INDOXROUTER_DATA_DIR": str(data_dir),
        "INDOXROUTER_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "INDOXROUTER_LOG": "info",
        # Roomy by default so tests of other features never meet a limit;
        # the rate-limit test gives its key the `tight` tier.
        "INDOXROUTER_TIERS": "tight=1:100000,roomy=100000:100000000",
        "INDOXROUTER_DEFAULT_TIER": "roomy",
        # An abandoned stream reads its provider for usage this long (default 30).
        "INDOXROUTER_DRAIN_SECONDS": "1",
        # Names as indoxrouter/src/client/config.rs reads them.
        "OPENAI_API_KEY": sim.api_key,
        "OPENAI_BASE_URL": sim.openai_base,
        "NO_COLOR": "1",
    }
    if "LANG" in os.environ:
        env["LANG"] = os.environ["LANG"]
    return env


@pytest.fixture(scope="session")
def server(sim):
    workdir = Path(tempfile.mkdtemp(prefix="indoxrouter-server-sdk-"))
    data_dir = workdir / "data"
    log_path = workdir / "server.log"
    port = free_port()
    with open(log_path, "wb") as log:
        # cwd is the empty temp dir, so no `.env` from the repo is loaded.
        proc = subprocess.Popen(
            [str(binary("indoxrouter-server"))],
            cwd=workdir,
            env=clean_env(sim, port, data_dir),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    srv = Server(url=f"http://127.0.0.1:{port}", log_path=log_path, proc=proc)
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while True:
            if proc.poll() is not None:
                raise RuntimeError(
                    f"indoxrouter-server exited with {proc.returncode}:\n{srv.log_text()}"
                )
            try:
                status, body, _ = srv.api("GET", "/health", timeout=1)
                if status == 200 and body == {"status": "ok"}:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"server not healthy in {STARTUP_TIMEOUT_S}s:\n{srv.log_text()}")
            time.sleep(0.05)
        yield srv
    finally:
        stop(proc)
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="session")
def admin_token(server) -> str:
    return server.login("admin", ADMIN_PASSWORD)


_names = itertools.count(1)


@pytest.fixture(scope="session")
def make_user(server, admin_token):
    """Creates a user with `credits` (USD string) and an API key for it."""

    def make(credits: str = "5", key_tier: str | None = None) -> User:
        name = f"sdk-user-{os.getpid()}-{next(_names)}"
        status, body, _ = server.api(
            "POST",
            "/api/v1/admin/users",
            {"username": name, "password": USER_PASSWORD, "credits": credits},
            token=admin_token,
        )
        assert status == 201, (status, body)
        assert Decimal(body["balance"]) == Decimal(credits)
        token = server.login(name, USER_PASSWORD)
        status, body, _ = server.api(
            "POST",
            "/api/v1/keys",
            {"name": "sdk", "tier": key_tier, "scopes": ["inference", "usage:read"]},
            token=token,
        )
        assert status == 201, (status, body)
        return User(name=name, token=token, key=body["key"], server=server)

    return make


@pytest.fixture
def user(make_user) -> User:
    return make_user("5")


@pytest.fixture
def client(server, user):
    """The official SDK, changed only in `base_url` and `api_key` (plus no
    SDK-side retries, so a 502 is seen once and counted once)."""
    with openai.OpenAI(
        base_url=server.v1, api_key=user.key, max_retries=0, timeout=SDK_TIMEOUT_S
    ) as c:
        yield c


@pytest.fixture(autouse=True)
def _clean_faults(request):
    """Leaves no queued simulator fault behind for the next test."""
    yield
    if "sim" in request.fixturenames:
        request.getfixturevalue("sim").reset()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """On failure, attach the server's log (stdout + stderr) to the report."""
    outcome = yield
    report = outcome.get_result()
    if report.failed and "server" in getattr(item, "fixturenames", ()):
        srv = item.funcargs.get("server") if hasattr(item, "funcargs") else None
        if srv is not None:
            text = srv.log_text()
            lines = text.splitlines()[-200:]
            report.sections.append(("indoxrouter-server log (last 200 lines)", "\n".join(lines)))
