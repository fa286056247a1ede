"""Calls per second: indoxrouter vs the official `openai` SDK, same upstream,
same run. Sequential (one blocking client) and concurrent (32 asyncio tasks
on one async client).

    python bindings/python/bench/bench.py                 # starts nginx itself
    python bindings/python/bench/bench.py --base-url http://127.0.0.1:18080/v1

Without --base-url it starts nginx (must be installed) with
scripts/bench/upstream.nginx.conf, a static OpenAI-shaped upstream that
answers instantly, so the figures are each client's own overhead. Build
indoxrouter in release mode for meaningful numbers
(`maturin develop --release` or `pip install ./bindings/python`).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.request
from decimal import Decimal
from pathlib import Path
from typing import Awaitable, Callable, Optional

REPO = Path(__file__).resolve().parents[3]
MESSAGES = [
    {"role": "system", "content": "You are a helpful assistant."},
    {"role": "user", "content": "Hello, how are you?"},
]


def start_nginx(port: int) -> tuple:
    work = tempfile.mkdtemp(prefix="ixr-pybench.")
    conf = (REPO / "scripts/bench/upstream.nginx.conf").read_text()
    conf = conf.replace("@DIR@", work).replace("@PORT@", str(port))
    path = Path(work) / "nginx.conf"
    path.write_text(conf)
    subprocess.run(["nginx", "-c", str(path)], check=True)
    url = f"http://127.0.0.1:{port}/v1/models"
    for _ in range(100):
        try:
            urllib.request.urlopen(url, timeout=1).read()
            break
        except OSError:
            time.sleep(0.05)
    return work, Path(work) / "nginx.pid"


def sequential(call: Callable[[], object], seconds: float) -> float:
    for _ in range(200):  # warm-up: connection, caches
        call()
    n = 0
    start = time.perf_counter()
    deadline = start + seconds
    while True:
        for _ in range(50):
            call()
        n += 50
        now = time.perf_counter()
        if now >= deadline:
            return n / (now - start)


async def concurrent(call: Callable[[], Awaitable[object]], tasks: int, seconds: float) -> float:
    await asyncio.gather(*(call() for _ in range(tasks * 4)))  # warm-up
    count = 0
    stop = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal count
        while time.perf_counter() < stop:
            await call()
            count += 1

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(tasks)))
    return count / (time.perf_counter() - start)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--base-url", help="an OpenAI-shaped upstream, including /v1")
    ap.add_argument("--port", type=int, default=18081, help="port for the nginx it starts")
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--tasks", type=int, default=32)
    ap.add_argument("--skip-openai", action="store_true")
    args = ap.parse_args()

    import indoxrouter

    work: Optional[str] = None
    pid_file: Optional[Path] = None
    base = args.base_url
    if base is None:
        work, pid_file = start_nginx(args.port)
        base = f"http://127.0.0.1:{args.port}/v1"
    try:
        kw = dict(api_keys={"openai": "sk-bench"}, base_urls={"openai": base}, use_env=False)
        ixr = indoxrouter.Client(**kw)
        check = ixr.chat(MESSAGES, model="openai/gpt-4o-mini")
        assert check.cost is not None and check.cost.total == Decimal("0.00001425"), check.cost

        rows = []
        rows.append(("indoxrouter Client", "sequential",
                     sequential(lambda: ixr.chat(MESSAGES, model="openai/gpt-4o-mini"), args.seconds)))
        if not args.skip_openai:
            import openai

            oai = openai.OpenAI(base_url=base, api_key="sk-bench", max_retries=0)
            rows.append(("openai OpenAI", "sequential", sequential(
                lambda: oai.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES), args.seconds)))

        async def run_async() -> None:
            aixr = indoxrouter.AsyncClient(**kw)
            rows.append(("indoxrouter AsyncClient", f"{args.tasks} tasks", await concurrent(
                lambda: aixr.chat(MESSAGES, model="openai/gpt-4o-mini"), args.tasks, args.seconds)))
            if not args.skip_openai:
                import openai

                aoai = openai.AsyncOpenAI(base_url=base, api_key="sk-bench", max_retries=0)
                rows.append(("openai AsyncOpenAI", f"{args.tasks} tasks", await concurrent(
                    lambda: aoai.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES),
                    args.tasks, args.seconds)))
                await aoai.close()

        asyncio.run(run_async())
        print(f"{'client':<26} {'mode':<12} {'calls/s':>10}")
        for name, mode, rate in rows:
            print(f"{name:<26} {mode:<12} {rate:>10.0f}")
        by = {(n.split()[0], m): r for n, m, r in rows}
        for mode in ("sequential", f"{args.tasks} tasks"):
            if ("openai", mode) in by:
                print(f"ratio {mode}: {by[('indoxrouter', mode)] / by[('openai', mode)]:.1f}x")
    finally:
        if pid_file is not None and pid_file.exists():
            os.kill(int(pid_file.read_text().strip()), signal.SIGTERM)
        if work is not None:
            time.sleep(0.2)
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
