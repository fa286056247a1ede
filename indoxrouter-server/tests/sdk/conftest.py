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
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import openai
import pytest

REPO_ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(REPO_ROOT / "tests" / "support"))
import indoxrouter_testkit as testkit  # noqa: E402
from indoxrouter_testkit import http  # noqa: E402

SIM_KEY = "sk-server-sdk-0123456789abcdef"
ADMIN_PASSWORD = "admin-password-for-sdk-tests"
USER_PASSWORD = "user-password-123"
SDK_TIMEOUT_S = 30.0


def binary(name: str) -> Path:
    path = testkit.debug_binary(name)
    if not path.is_file():
        pytest.exit(
            f"{name} not found at {path}; build it with `cargo build -p indoxrouter-server "
            "-p indoxrouter-simulator --bins` (scripts/server_sdk.sh does)",
            returncode=2,
        )
    return path


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
        return testkit.log_tail(self.log_path)


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
    proc, root = testkit.start_simulator(binary("indoxrouter-simulator"), SIM_KEY)
    try:
        yield Sim(root=root, api_key=SIM_KEY)
    finally:
        testkit.stop(proc)


def clean_env(sim: Sim, port: int, data_dir: Path) -> dict:
    """Only what the server needs: no inherited provider keys or base URLs,
    no INDOXROUTER_* settings from the caller's shell."""
    env = testkit.server_env(port, data_dir, ADMIN_PASSWORD) | testkit.SUITE_LIMITS
    # Names as indoxrouter/src/client/config.rs reads them.
    env["OPENAI_API_KEY"] = sim.api_key
    env["OPENAI_BASE_URL"] = sim.openai_base
    if "LANG" in os.environ:
        env["LANG"] = os.environ["LANG"]
    return env


@pytest.fixture(scope="session")
def server(sim):
    workdir = Path(tempfile.mkdtemp(prefix="indoxrouter-server-sdk-"))
    env = clean_env(sim, testkit.free_port(), workdir / "data")
    try:
        proc, url, log_path = testkit.start_server(binary("indoxrouter-server"), env, workdir)
        try:
            yield Server(url=url, log_path=log_path, proc=proc)
        finally:
            testkit.stop(proc)
    finally:
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
