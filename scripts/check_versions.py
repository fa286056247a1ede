#!/usr/bin/env python3
"""One version for all four faces: the Rust crates (workspace version), the
server's dependency on the core, the Python wheel (its Cargo.toml, which
maturin reads) and the npm package(s). Exits non-zero naming every file
that disagrees."""

from __future__ import annotations

import json
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def toml(path: str) -> dict:
    with (ROOT / path).open("rb") as f:
        return tomllib.load(f)


def main() -> int:
    workspace = toml("Cargo.toml")
    want = workspace["workspace"]["package"]["version"]
    found = {
        "Cargo.toml [workspace.dependencies] indoxrouter": workspace["workspace"]["dependencies"][
            "indoxrouter"
        ].get("version", "").lstrip("=^"),
        "bindings/python/Cargo.toml": toml("bindings/python/Cargo.toml")["package"]["version"],
    }
    for package_json in sorted(ROOT.glob("bindings/node/**/package.json")):
        if "node_modules" in package_json.parts:
            continue
        rel = str(package_json.relative_to(ROOT))
        found[rel] = json.loads(package_json.read_text(encoding="utf-8"))["version"]
    for crate in ("indoxrouter", "indoxrouter-server", "bindings/node"):
        package = toml(f"{crate}/Cargo.toml")["package"]
        version = package["version"]
        found[f"{crate}/Cargo.toml"] = want if version == {"workspace": True} else version
    wrong = {k: v for k, v in found.items() if v != want}
    for name, version in wrong.items():
        print(f"{name}: {version!r}, expected {want!r}", file=sys.stderr)
    if not wrong:
        print(f"one version everywhere: {want} ({len(found)} places)")
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
