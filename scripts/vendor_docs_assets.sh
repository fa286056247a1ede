#!/usr/bin/env bash
# Re-downloads the pinned Swagger UI (swagger-ui-dist) and ReDoc npm packages
# with `npm pack`, verifies each tarball's SHA-256, and copies the files the
# server embeds (with their licences) into indoxrouter-server/assets/.
#
#   scripts/vendor_docs_assets.sh          # refresh the vendored files
#   scripts/vendor_docs_assets.sh --check  # only verify they match the pins
#
# To upgrade: change a version below, run once with the new SHA-256 left
# empty to see the tarball's hash, review the diff of assets/, pin the hash,
# then run the server's tests and scripts/docs_check.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

SWAGGER_UI_VERSION=5.35.0
SWAGGER_UI_SHA256=1b8e891893404ea4c3558b6a87e2a3e494e7eedba41168c2ece5800a391a6ea6
REDOC_VERSION=2.5.4
REDOC_SHA256=44922df4d0eb45c1b066c09ec251e6bd9bd7ded16bc69e87613337b9d911a56e

assets=indoxrouter-server/assets
check=false
case "${1:-}" in
  --check) check=true ;;
  "") ;;
  *) echo "usage: $0 [--check]" >&2; exit 2 ;;
esac

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

fetch() { # name version sha256 -> extracted dir on stdout
  local name=$1 version=$2 sha=$3 tgz
  tgz="$work/$name-$version.tgz"
  (cd "$work" && npm pack --silent "$name@$version" >/dev/null)
  local got
  got=$(sha256sum "$tgz" | cut -d' ' -f1)
  if [ "$got" != "$sha" ]; then
    echo "$name@$version: SHA-256 $got, expected ${sha:-(none pinned)}" >&2
    exit 1
  fi
  mkdir -p "$work/$name"
  tar -xzf "$tgz" -C "$work/$name"
  echo "$work/$name/package"
}

swagger=$(fetch swagger-ui-dist "$SWAGGER_UI_VERSION" "$SWAGGER_UI_SHA256")
redoc=$(fetch redoc "$REDOC_VERSION" "$REDOC_SHA256")

# source -> destination, relative to the package and to $assets.
files=(
  "$swagger/swagger-ui-bundle.js swagger-ui/swagger-ui-bundle.js"
  "$swagger/swagger-ui-bundle.js.LICENSE.txt swagger-ui/swagger-ui-bundle.js.LICENSE.txt"
  "$swagger/swagger-ui.css swagger-ui/swagger-ui.css"
  "$swagger/favicon-32x32.png swagger-ui/favicon-32x32.png"
  "$swagger/LICENSE swagger-ui/LICENSE"
  "$swagger/NOTICE swagger-ui/NOTICE"
  "$redoc/bundles/redoc.standalone.js redoc/redoc.standalone.js"
  "$redoc/bundles/redoc.standalone.js.LICENSE.txt redoc/redoc.standalone.js.LICENSE.txt"
  "$redoc/LICENSE redoc/LICENSE"
)

status=0
for pair in "${files[@]}"; do
  read -r src dst <<<"$pair"
  if $check; then
    if ! cmp -s "$src" "$assets/$dst"; then
      echo "differs from the pinned package: $assets/$dst" >&2
      status=1
    fi
  else
    mkdir -p "$(dirname "$assets/$dst")"
    cp "$src" "$assets/$dst"
  fi
done
if $check; then
  [ $status -eq 0 ] && echo "vendored docs assets match swagger-ui-dist@$SWAGGER_UI_VERSION and redoc@$REDOC_VERSION"
  exit $status
fi
echo "vendored swagger-ui-dist@$SWAGGER_UI_VERSION and redoc@$REDOC_VERSION into $assets"
