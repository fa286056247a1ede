#!/usr/bin/env bash
# The npm packages as users will get them: builds the release addon with
# @napi-rs/cli, lays out the napi-rs packages (the main package — loader,
# wrappers, types — and the linux-x64-gnu binary package; the other
# platforms' packages are declared in npm/ and built by the release
# workflow), packs both with `npm pack`, installs the tarballs into an
# empty project whose PATH has no Rust toolchain, and there runs the smoke
# tests from CommonJS and ESM and type-checks a user's TypeScript with tsc.
# Needs Node.js ≥ 18, npm and (to build) a Rust toolchain.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
case "$CARGO_TARGET_DIR" in /*) ;; *) CARGO_TARGET_DIR="$PWD/$CARGO_TARGET_DIR" ;; esac

cargo build --locked -q -p indoxrouter-server -p indoxrouter-simulator
out="$CARGO_TARGET_DIR/npm"
rm -rf "$out" && mkdir -p "$out"
stage=$(mktemp -d)
user=$(mktemp -d)
trap 'rm -rf "$stage" "$user"' EXIT

cd bindings/node
npm ci --no-audit --no-fund --loglevel=error
# Release build into a staging copy, so the working tree's debug addon
# (scripts/node.sh) is left alone.
cp -r package.json lib npm "$stage/"
npx napi build --platform --release --output-dir "$stage" >/dev/null
cp "$stage/indoxrouter.linux-x64-gnu.node" "$stage/npm/linux-x64-gnu/"
(cd "$stage/npm/linux-x64-gnu" && npm pack --silent --pack-destination "$out" >/dev/null)
(cd "$stage" && rm -f ./*.node && npm pack --silent --pack-destination "$out" >/dev/null)
cd "$repo"
main=$(ls "$out"/indoxrouter-[0-9]*.tgz)
platform=$(ls "$out"/indoxrouter-linux-x64-gnu-*.tgz)
if tar tzf "$main" | grep -q '\.node$'; then
  echo "the main package must not carry a binary" >&2
  exit 1
fi
echo "packed $(basename "$main") and $(basename "$platform")"

# An empty project on a machine without Rust.
clean_path="$(dirname "$(command -v node)"):/usr/local/bin:/usr/bin:/bin"
if PATH="$clean_path" command -v cargo >/dev/null || PATH="$clean_path" command -v rustc >/dev/null; then
  echo "a Rust toolchain is on the clean PATH" >&2
  exit 1
fi
cd "$user"
PATH="$clean_path" npm init -y >/dev/null
PATH="$clean_path" npm install --no-audit --no-fund --loglevel=error \
  "$main" "$platform" "typescript@5.9.3" "@types/node@20.19.43"

# CommonJS and ESM both load the installed addon (not a repository file).
cat > smoke.cjs <<'JS'
const ixr = require('indoxrouter')
const where = require.resolve('indoxrouter')
if (!where.includes('node_modules')) throw new Error(`loaded ${where}`)
if (typeof ixr.Client !== 'function' || typeof ixr.RateLimitError !== 'function') throw new Error('exports missing')
console.log('CommonJS: ok')
JS
cat > smoke.mjs <<'JS'
import { Client, RateLimitError } from 'indoxrouter'
if (typeof Client !== 'function' || typeof RateLimitError !== 'function') throw new Error('exports missing')
console.log('ESM: ok')
JS
PATH="$clean_path" node smoke.cjs
PATH="$clean_path" node smoke.mjs

# The package's own smoke tests, pointed at the installed package.
mkdir test
for t in helpers stream errors methods hosted; do
  sed "s#'\.\./lib/index\.mjs'#'indoxrouter'#" "$repo/bindings/node/test/$t"*.mjs > "test/$(basename "$repo"/bindings/node/test/"$t"*.mjs)"
done
PATH="$clean_path" INDOXROUTER_REPO="$repo" CARGO_TARGET_DIR="$CARGO_TARGET_DIR" \
  node --test test/stream.test.mjs test/errors.test.mjs test/methods.test.mjs test/hosted.test.mjs

# A user's TypeScript, type-checked against the installed types.
cp "$repo"/examples/node/*.ts .
cat > tsconfig.json <<'JSON'
{
  "compilerOptions": {
    "target": "ES2022", "module": "node16", "moduleResolution": "node16",
    "strict": true, "noEmit": true, "skipLibCheck": false, "types": ["node"]
  },
  "files": ["direct.ts", "hosted.ts"]
}
JSON
PATH="$clean_path" npx tsc -p tsconfig.json
echo "tsc: the installed package's types check"
