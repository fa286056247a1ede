"""The API documentation against a running server (run by scripts/docs_check.sh).

1. Starts the provider simulator and indoxrouter-server on 127.0.0.1
   ephemeral ports, the server with a temporary data directory and a clean
   environment that points OpenAI and Mistral at the simulator.
2. Creates, through the admin API, a user with credits and an API key, and
   validates /openapi.json against the OpenAPI 3.0 meta-schema.
3. Loads /docs and /redoc in headless Chromium and checks that each renders
   exactly the operations of /openapi.json (by operationId), with no request
   leaving the server (the pages' CSP would block it; Chromium has no network
   here anyway).
4. Runs schemathesis against /openapi.json with the API key (see
   SCHEMATHESIS_CHECKS for which checks and why).

Exit status 0 when everything passed; prints one summary line per step.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "tests" / "support"))
import indoxrouter_testkit as testkit  # noqa: E402
from indoxrouter_testkit import http  # noqa: E402

SIM_KEY = "sk-docs-check-0123456789abcdef"
ADMIN_PASSWORD = "admin-password-for-docs-check"
USER_PASSWORD = "user-password-123"

# Every schemathesis check except:
# - positive_data_acceptance: a request valid per the schema may still be
#   refused by design — an unknown model (404), a price above the balance
#   (402), an unknown user or key (404), a taken username (409) — and the
#   generator cannot know which model ids or usernames exist.
# - object_level_authorization: needs a second user's credentials to swap in;
#   tests/auth.rs checks that one user cannot revoke another's key.
# (max_response_time is not a check we enable: timing on a shared 2-core CI
#   machine is noise.)
SCHEMATHESIS_CHECKS = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
    "negative_data_rejection",
    "missing_required_header",
    "unsupported_method",
    "allow_header_conformance",
    "ignored_auth",
    "use_after_free",
    "ensure_resource_availability",
]


def start_server(bin_dir: Path, sim_root: str, workdir: Path) -> tuple[subprocess.Popen, str, Path]:
    env = testkit.server_env(testkit.free_port(), workdir / "data", ADMIN_PASSWORD, log="warn")
    env |= {
        "OPENAI_API_KEY": SIM_KEY,
        "OPENAI_BASE_URL": f"{sim_root}/openai/v1",
        "MISTRAL_API_KEY": SIM_KEY,
        "MISTRAL_BASE_URL": f"{sim_root}/mistral/v1",
    }
    return testkit.start_server(bin_dir / "indoxrouter-server", env, workdir)


def make_user(url: str) -> str:
    """An administrator with credits and an API key, so schemathesis reaches
    every operation (a plain user only ever sees 403 on the admin routes)."""
    status, body, _ = http(
        "POST", f"{url}/api/v1/auth/login", {"username": "admin", "password": ADMIN_PASSWORD}
    )
    assert status == 200, body
    admin = body["access_token"]
    status, body, _ = http(
        "POST",
        f"{url}/api/v1/admin/users",
        {"username": "docs-check", "password": USER_PASSWORD, "role": "admin", "credits": "1000"},
        token=admin,
    )
    assert status == 201, body
    status, body, _ = http(
        "POST", f"{url}/api/v1/auth/login", {"username": "docs-check", "password": USER_PASSWORD}
    )
    assert status == 200, body
    status, body, _ = http(
        "POST",
        f"{url}/api/v1/keys",
        # Every scope: schemathesis exercises every route with this key.
        {"name": "docs-check", "scopes": ["inference", "usage:read", "keys:manage"]},
        token=body["access_token"]
    )
    assert status == 201, body
    return body["key"]


def dump_dom(url: str, budget_ms: int) -> tuple[str, str]:
    profile = tempfile.mkdtemp(prefix="docs-check-chromium-")
    try:
        proc = subprocess.run(
            [
                "chromium",
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--no-first-run",
                "--disable-extensions",
                "--disable-background-networking",
                f"--user-data-dir={profile}",
                "--enable-logging=stderr",
                "--v=0",
                f"--virtual-time-budget={budget_ms}",
                "--dump-dom",
                url,
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    return proc.stdout, proc.stderr


# ReDoc's "API docs by Redocly" footer tries this logo; the pages' CSP blocks
# it and ReDoc hides the image on error, so no request leaves the machine.
# Any other blocked load is a failure: it means a page needs something remote.
KNOWN_BLOCKED = ("https://cdn.redoc.ly/redoc/logo-mini.svg",)


def csp_violations(log: str) -> list[str]:
    return [
        line
        for line in log.splitlines()
        if "Content Security Policy" in line and not any(k in line for k in KNOWN_BLOCKED)
    ]


def check_browser(url: str, operation_ids: set[str]) -> tuple[list[str], list[str]]:
    """Problems found on (/docs, /redoc)."""
    problems = []
    # Swagger UI: one `.opblock` per operation, id `operations-<tag>-<operationId>`.
    started = time.monotonic()
    dom, log = dump_dom(f"{url}/docs", 20000)
    swagger_ids = set(re.findall(r'<div class="opblock [^"]*" id="operations-[^-"]+-([^"]+)"', dom))
    blocks = len(re.findall(r'class="opblock opblock-', dom))
    if swagger_ids != operation_ids or blocks != len(operation_ids):
        problems.append(
            f"/docs rendered {blocks} operation blocks, missing {sorted(operation_ids - swagger_ids)}, "
            f"unexpected {sorted(swagger_ids - operation_ids)}"
        )
    if "Failed to load API definition" in dom or "Errors" in re.sub(r"<[^>]+>", " ", dom).split():
        problems.append("/docs shows an error")
    for line in csp_violations(log):
        problems.append(f"/docs: CSP violation: {line}")
    print(
        f"docs_check: /docs rendered {blocks} of {len(operation_ids)} operations "
        f"({time.monotonic() - started:.1f}s)"
    )
    docs_problems, problems = problems, []
    # ReDoc: one section per operation, `data-section-id="operation/<operationId>"`
    # (tag-prefixed in some versions).
    started = time.monotonic()
    dom, log = dump_dom(f"{url}/redoc", 30000)
    redoc_ids = set(re.findall(r'data-section-id="(?:tag/[^/"]+/)?operation/([^"]+)"', dom))
    if redoc_ids != operation_ids:
        problems.append(
            f"/redoc rendered {len(redoc_ids)} operations, missing {sorted(operation_ids - redoc_ids)}, "
            f"unexpected {sorted(redoc_ids - operation_ids)}"
        )
    if "Something went wrong" in dom:
        problems.append("/redoc shows an error")
    for line in csp_violations(log):
        problems.append(f"/redoc: CSP violation: {line}")
    print(
        f"docs_check: /redoc rendered {len(redoc_ids)} of {len(operation_ids)} operations "
        f"({time.monotonic() - started:.1f}s)"
    )
    return docs_problems, problems


# schemathesis also warns that the inference operations "mostly rejected
# generated data": a random `model` is rarely a catalog id, so most generated
# requests end in 400/404 before a provider is called. The documented schema
# is right (any string may name a model); only warnings, not failures.
def run_schemathesis(st: str, url: str, key: str, max_examples: int, workdir: Path) -> int:
    started = time.monotonic()
    cmd = [
        st,
        "run",
        f"{url}/openapi.json",
        "--url",
        url,
        "--header",
        f"Authorization: Bearer {key}",
        "--checks",
        ",".join(SCHEMATHESIS_CHECKS),
        "--max-examples",
        str(max_examples),
        # Reproducible runs: the same inputs every time, so a failure is a
        # regression rather than luck.
        "--generation-deterministic",
        "--request-timeout",
        "30",
        # One worker: with two, CPython 3.11's ast.parse (which hypothesis
        # calls to describe filters) races and fails with "AST constructor
        # recursion depth mismatch".
        "--workers",
        "1",
        "--no-color",
        "--report",
        "junit",
        "--report-dir",
        str(workdir / "schemathesis"),
    ]
    # cwd: schemathesis keeps a .schemathesis/ cache in the working directory.
    proc = subprocess.run(cmd, timeout=600, cwd=workdir)
    print(
        f"docs_check: schemathesis exited {proc.returncode} "
        f"({time.monotonic() - started:.1f}s)"
    )
    return proc.returncode


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--bin-dir", type=Path, required=True)
    ap.add_argument("--schemathesis", required=True)
    ap.add_argument("--max-examples", type=int, default=25)
    ap.add_argument("--skip-browser", action="store_true")
    ap.add_argument("--skip-schemathesis", action="store_true")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir (logs, reports)")
    args = ap.parse_args()
    # Absolute: schemathesis runs in the temp dir.
    args.schemathesis = os.path.abspath(args.schemathesis)

    workdir = Path(tempfile.mkdtemp(prefix="indoxrouter-docs-check-"))
    sim = server = None
    failures = []
    steps = 0
    failed_steps: set[str] = set()
    try:
        sim, sim_root = testkit.start_simulator(args.bin_dir / "indoxrouter-simulator", SIM_KEY)
        server, url, log_path = start_server(args.bin_dir, sim_root, workdir)
        key = make_user(url)
        status, doc, _ = http("GET", f"{url}/openapi.json")
        assert status == 200
        operation_ids = {
            op["operationId"]
            for item in doc["paths"].values()
            for op in item.values()
        }
        print(f"docs_check: /openapi.json has {len(operation_ids)} operations")
        steps += 1
        try:
            # Imported here: it is installed in the venv docs_check.sh makes.
            from openapi_spec_validator import validate

            validate(doc)
            print("docs_check: /openapi.json is a valid OpenAPI 3.0 document")
        except Exception as e:  # noqa: BLE001 - any failure is the finding
            failed_steps.add("spec")
            failures.append(f"/openapi.json is not a valid OpenAPI document: {e}")
        if not args.skip_browser:
            for page, page_problems in zip(("/docs", "/redoc"), check_browser(url, operation_ids)):
                steps += 1
                if page_problems:
                    failed_steps.add(page)
                failures += page_problems
        if not args.skip_schemathesis:
            steps += 1
            if run_schemathesis(args.schemathesis, url, key, args.max_examples, workdir) != 0:
                failed_steps.add("schemathesis")
                failures.append("schemathesis found problems (see above)")
        if server.poll() is not None:
            steps += 1
            failed_steps.add("server")
            failures.append("the server died")
    finally:
        if server is not None:
            testkit.stop(server)
        if sim is not None:
            testkit.stop(sim)
        if failures and server is not None:
            print("--- server log (last 50 lines) ---\n" + testkit.log_tail(log_path, 50))
        if args.keep or failures:
            print(f"docs_check: logs and reports in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    for f in failures:
        print(f"docs_check: FAIL: {f}", file=sys.stderr)
    if failures and not failed_steps:
        steps, failed_steps = steps + 1, {"setup"}
    print(f"docs_check: {steps - len(failed_steps)} passed, {len(failed_steps)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
