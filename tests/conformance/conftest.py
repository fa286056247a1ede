"""Starts the provider simulator once per test session.

The simulator binary must already be built (scripts/conformance.sh does
`cargo build -p indoxrouter-simulator` first). It is looked for at
`$CARGO_TARGET_DIR/debug/indoxrouter-simulator`, else
`<repo>/target/debug/indoxrouter-simulator`.
"""

from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
API_KEY = "sk-conformance-0123456789abcdef"
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
            "`cargo build -p indoxrouter-simulator` (scripts/conformance.sh does)",
            returncode=2,
        )
    return binary


@dataclass(frozen=True)
class Sim:
    root: str
    api_key: str

    @property
    def openai_base(self) -> str:
        return f"{self.root}/openai/v1"

    @property
    def mistral_base(self) -> str:
        return f"{self.root}/mistral"

    @property
    def anthropic_base(self) -> str:
        return f"{self.root}/anthropic"

    @property
    def google_base(self) -> str:
        return f"{self.root}/google"

    @property
    def cohere_base(self) -> str:
        return f"{self.root}/cohere"

    def control(self, path: str):
        """GETs a `/__sim/...` control route and returns its parsed JSON."""
        with urllib.request.urlopen(f"{self.root}/__sim/{path}", timeout=5) as resp:
            return json.loads(resp.read())

    def request_count(self) -> int:
        return self.control("count")["count"]

    def last_request(self) -> dict:
        return self.control("requests")[-1]


@pytest.fixture(scope="session")
def sim():
    proc = subprocess.Popen(
        [str(simulator_binary()), "--port", "0", "--api-key", API_KEY],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        # Wait for the first stdout line, "listening on http://127.0.0.1:PORT",
        # without blocking forever if the binary never prints it.
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
        yield Sim(root=root, api_key=API_KEY)
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
