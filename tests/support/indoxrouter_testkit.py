"""Starting and stopping this workspace's binaries for Python test suites.

Shared by bindings/python/tests/conftest.py,
indoxrouter-server/tests/sdk/conftest.py and
indoxrouter-server/tests/docs/docs_check.py. Each of those runs in its own
virtualenv, so this module is imported by path (its directory is put on
`sys.path`) and uses the standard library only.

The processes it starts listen on 127.0.0.1 only, and the server gets an
environment built from scratch: a developer's provider keys, base URLs and
INDOXROUTER_* settings never reach a test.
"""

from __future__ import annotations

import json
import os
import selectors
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from email.message import Message
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]

STARTUP_TIMEOUT_S = 30.0
"""How long a binary may take to report that it is ready."""

SUITE_LIMITS = {
    # Roomy by default so tests of other features never meet a limit; a
    # rate-limit test gives its key the `tight` tier.
    "INDOXROUTER_TIERS": "tight=1:100000,roomy=100000:100000000",
    "INDOXROUTER_DEFAULT_TIER": "roomy",
    # An abandoned stream reads its provider for usage this long (default 30).
    "INDOXROUTER_DRAIN_SECONDS": "1",
}
"""Server settings for test suites that check rate limits and cancellation."""


def debug_binary(name: str) -> Path:
    """Where `cargo build` puts the debug binary `name`: under
    $CARGO_TARGET_DIR (taken relative to the repository root, as cargo does
    when run there), else <repo>/target. The file may not exist yet."""
    target = os.environ.get("CARGO_TARGET_DIR")
    target_dir = Path(target) if target else REPO_ROOT / "target"
    if not target_dir.is_absolute():
        target_dir = REPO_ROOT / target_dir
    return target_dir / "debug" / name


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago; another process
    could still take it before the caller binds it."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(
    method: str, url: str, body: Any = None, token: str | None = None, timeout: float = 10
) -> tuple[int, Any, Message]:
    """A JSON request that bypasses any client under test.

    Returns (status, parsed body or None, headers); an error status is
    returned rather than raised, since tests assert on it."""
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


def stop(proc: subprocess.Popen, grace: float = 10) -> None:
    """SIGTERM (the server drains and settles), then SIGKILL if it is still
    running after `grace` seconds; then closes our end of its stdout pipe."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
    if proc.stdout is not None:
        proc.stdout.close()


def log_tail(path: Path, lines: int | None = None) -> str:
    """The last `lines` lines of a log file (all of it if None). An unreadable
    log gives a note instead of an error, so a failure report can always
    be written."""
    try:
        text = path.read_text(errors="replace")
    except OSError as e:
        return f"(log {path} unavailable: {e})"
    return text if lines is None else "\n".join(text.splitlines()[-lines:])


def start_simulator(
    binary: Path, api_key: str, timeout: float = STARTUP_TIMEOUT_S
) -> tuple[subprocess.Popen, str]:
    """Starts the provider simulator on an ephemeral 127.0.0.1 port, checking
    `api_key` on every provider route. Returns (process, root URL) once it
    has announced its root; stop it with `stop`."""
    proc = subprocess.Popen(
        [str(binary), "--port", "0", "--api-key", api_key],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        # A bare readline() would hang forever on a simulator that never prints.
        with selectors.DefaultSelector() as sel:
            sel.register(proc.stdout, selectors.EVENT_READ)
            if not sel.select(timeout=timeout):
                raise RuntimeError(f"simulator printed nothing in {timeout}s")
        line = proc.stdout.readline().strip()
        prefix = "listening on "
        root = line[len(prefix):]
        if not line.startswith(prefix) or not root.startswith("http://127.0.0.1:"):
            raise RuntimeError(
                f"unexpected first line from simulator: {line!r} (exit code {proc.poll()})"
            )
    except BaseException:
        stop(proc)
        raise
    return proc, root


def server_env(
    port: int, data_dir: Path, admin_password: str, log: str = "info"
) -> dict[str, str]:
    """The base of a clean environment for indoxrouter-server, built from
    scratch rather than copied from ours. Callers add their providers
    (e.g. OPENAI_API_KEY and OPENAI_BASE_URL) and any other setting."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "INDOXROUTER_HOST": "127.0.0.1",
        "INDOXROUTER_PORT": str(port),
        "INDOXROUTER_DATA_DIR": str(data_dir),
        "INDOXROUTER_ADMIN_PASSWORD": admin_password,
        "INDOXROUTER_LOG": log,
        "NO_COLOR": "1",
    }


def start_server(
    binary: Path,
    env: dict[str, str],
    workdir: Path,
    timeout: float = STARTUP_TIMEOUT_S,
    probe_timeout: float = 1,
) -> tuple[subprocess.Popen, str, Path]:
    """Starts indoxrouter-server with exactly `env` (see `server_env`) in
    `workdir`, its stdout and stderr going to `workdir/server.log`, and waits
    until GET /health answers. Returns (process, base URL, log path); stop
    it with `stop`.

    `workdir` should be an empty temporary directory: it is the server's
    cwd, so no `.env` from the repository is loaded."""
    log_path = workdir / "server.log"
    url = f"http://127.0.0.1:{env['INDOXROUTER_PORT']}"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [str(binary)],
            cwd=workdir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(
                    f"indoxrouter-server exited with {proc.returncode}:\n{log_tail(log_path, 100)}"
                )
            try:
                status, body, _ = http("GET", f"{url}/health", timeout=probe_timeout)
                if status == 200 and body == {"status": "ok"}:
                    return proc, url, log_path
            except OSError:
                pass  # not listening yet
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"indoxrouter-server not healthy in {timeout}s:\n{log_tail(log_path, 100)}"
                )
            time.sleep(0.05)
    except BaseException:
        stop(proc)
        raise
