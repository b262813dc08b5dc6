#!/usr/bin/env bash
# Bundles ALREADY-BUILT binaries into a Debian package with Tauri's bundler and prints its path
# on stdout (the bundler's log goes to stderr). Builds nothing: `make package` runs the release build first, the package test
# uses the debug build of `make test`.
#   scripts/package.sh release   $CARGO_TARGET_DIR/release/bundle/deb/Strongroom_<version>_amd64.deb
#   scripts/package.sh debug     $CARGO_TARGET_DIR/debug/bundle/deb/Strongroom_<version>_amd64.deb
# The package holds /usr/bin/strongroom-app (the bundler's main binary, with the desktop entry and
# the hicolor icons from src-tauri/tauri.conf.json) and /usr/bin/strongroom (the CLI, added here as
# a bundle.linux.deb.files entry: its source path depends on CARGO_TARGET_DIR, so it cannot be
# written into tauri.conf.json).
set -euo pipefail
profile=${1:-release}
root=$(cd "$(dirname "$0")/.." && pwd)
target=${CARGO_TARGET_DIR:-$HOME/.cache/strongroom/target}
out="$target/$profile"
tauri="$root/ui/node_modules/.bin/tauri"

case "$profile" in
  release) flags=() ;;
  debug) flags=(--debug) ;;
  *) echo "usage: $0 release|debug" >&2; exit 2 ;;
esac
[ -x "$tauri" ] || { echo "package: $tauri is missing: run 'bash scripts/install-deps.sh run'" >&2; exit 1; }
for bin in strongroom-app strongroom; do
  [ -x "$out/$bin" ] || { echo "package: $out/$bin is missing: build it first (make package does)" >&2; exit 1; }
done
case "$out" in
  *'"'* | *'\'*) echo "package: CARGO_TARGET_DIR must not contain quotes or backslashes" >&2; exit 1 ;;
esac

# Only this run's package in the output folder, so the path printed below is unambiguous.
rm -rf "$out/bundle/deb"
extra_config=$(printf '{"bundle":{"linux":{"deb":{"files":{"/usr/bin/strongroom":"%s"}}}}}' "$out/strongroom")
# --no-binary-patching: the bundler would otherwise rewrite the cargo-built strongroom-app in place
# (bundle-type marker for the updater, which Strongroom does not use) while tests may be running it.
(cd "$root/src-tauri" && CARGO_TARGET_DIR="$target" "$tauri" bundle "${flags[@]}" --bundles deb \
  --no-binary-patching --ci --config "$extra_config") >&2

shopt -s nullglob
debs=("$out"/bundle/deb/*.deb)
if [ ${#debs[@]} -ne 1 ]; then
  echo "package: expected one .deb in $out/bundle/deb, found ${#debs[@]}" >&2
  exit 1
fi
echo "${debs[0]}"
