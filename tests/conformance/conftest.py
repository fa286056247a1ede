"""Starts the provider simulator once per test session.

The simulator binary must already be built (scripts/conformance.sh does
`cargo build -p indoxrouter-simulator` first). It is looked for at
`$CARGO_TARGET_DIR/debug/indoxrouter-simulator`, else
`<repo>/target/debug/indoxrouter-simulator`.
"""

from __future__ import annotations

import json
import sys
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

# The shared start-up code (tests/support), importable by path from this
# suite's own virtual environment.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "support"))
import indoxrouter_testkit as kit  # noqa: E402

REPO_ROOT = kit.REPO_ROOT
API_KEY = "sk-conformance-0123456789abcdef"


def simulator_binary() -> Path:
    binary = kit.debug_binary("indoxrouter-simulator")
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
    proc, root = kit.start_simulator(simulator_binary(), API_KEY)
    try:
        yield Sim(root=root, api_key=API_KEY)
    finally:
        kit.stop(proc, grace=5)
