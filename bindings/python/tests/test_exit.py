"""The interpreter exits cleanly whatever the package is doing at the time.

Each example and each scenario of exit_scenarios.py runs 50 times in its
own interpreter and must exit with status 0 every time: a crash at exit
(a runtime thread entering the interpreter while it finalizes) shows up as
SIGABRT or SIGSEGV in a few percent of runs, so one run proves nothing.
"""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Dict, List

import pytest

from conftest import REPO_ROOT, HostedUser, Server, Sim
from exit_scenarios import SCENARIOS

RUNS = int(os.environ.get("INDOXROUTER_EXIT_RUNS", "50"))
SCRIPT = Path(__file__).with_name("exit_scenarios.py")


def run_many(argv: List[str], env: Dict[str, str]) -> None:
    """Runs `argv` RUNS times (two at a time) and fails on any nonzero exit."""

    def once(_: int) -> subprocess.CompletedProcess:
        return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60)

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(once, range(RUNS)))
    failed = [r for r in results if r.returncode != 0]
    assert not failed, (
        f"{len(failed)} of {RUNS} runs exited nonzero "
        f"(codes {sorted({r.returncode for r in failed})}); first stderr:\n{failed[0].stderr[-3000:]}"
    )


def base_env() -> Dict[str, str]:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    if "PYTHONPATH" in os.environ:
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    return env


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_exit_is_clean(sim: Sim, scenario: str):
    env = base_env() | {"SIM_ROOT": sim.root, "SIM_KEY": sim.api_key}
    run_many([sys.executable, str(SCRIPT), scenario], env)


def test_the_direct_example_exits_cleanly(sim: Sim):
    env = base_env() | {
        "OPENAI_API_KEY": sim.api_key,
        "OPENAI_BASE_URL": sim.base_urls()["openai"],
    }
    run_many([sys.executable, str(REPO_ROOT / "examples" / "python" / "direct.py")], env)


def test_the_hosted_example_exits_cleanly(server: Server, make_user):
    user: HostedUser = make_user("50")
    env = base_env() | {"INDOXROUTER_BASE_URL": server.url, "INDOXROUTER_API_KEY": user.key}
    run_many([sys.executable, str(REPO_ROOT / "examples" / "python" / "hosted.py")], env)
