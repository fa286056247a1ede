#!/usr/bin/env python3
"""Sets the release version everywhere at once — the crates (workspace
version and the server's dependency on the core), the Python wheel and the
npm packages — then refreshes Cargo.lock's entries for this workspace's
own packages. `scripts/check_versions.py` verifies the result.

    python3 scripts/set_version.py 0.2.0
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEMVER = re.compile(r"^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?$")


def sub(path: Path, pattern: str, replacement: str) -> None:
    text = path.read_text(encoding="utf-8")
    new, n = re.subn(pattern, replacement, text, count=1, flags=re.MULTILINE)
    if n != 1:
        sys.exit(f"{path.relative_to(ROOT)}: no match for {pattern!r}")
    path.write_text(new, encoding="utf-8")


def main(argv: list[str]) -> int:
    if len(argv) != 1 or not SEMVER.match(argv[0]):
        print(__doc__, file=sys.stderr)
        return 2
    v = argv[0]
    cargo = ROOT / "Cargo.toml"
    # [workspace.package] version = "…" is the first `version = ` line.
    sub(cargo, r'^version = "[^"]+"', f'version = "{v}"')
    sub(cargo, r'^(indoxrouter = \{ path = "indoxrouter", version = )"[^"]+"', rf'\g<1>"{v}"')
    sub(ROOT / "bindings/python/Cargo.toml", r'^version = "[^"]+"', f'version = "{v}"')
    node = ROOT / "bindings/node"
    for package_json in [node / "package.json", *sorted(node.glob("npm/*/package.json"))]:
        doc = json.loads(package_json.read_text(encoding="utf-8"))
        doc["version"] = v
        package_json.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    lock = node / "package-lock.json"
    doc = json.loads(lock.read_text(encoding="utf-8"))
    doc["version"] = v
    doc["packages"][""]["version"] = v
    lock.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    for manifest in (cargo, ROOT / "bindings/python/Cargo.toml"):
        subprocess.run(
            ["cargo", "update", "--workspace", "--offline", "--manifest-path", str(manifest)],
            check=True,
        )
    subprocess.run([sys.executable, str(ROOT / "scripts/check_versions.py")], check=True)
    print(f"now add a `## {v}` section to CHANGELOG.md and tag v{v}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
