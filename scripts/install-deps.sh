#!/usr/bin/env bash
# Installs what Strongroom needs on a Debian 12 / Ubuntu machine, only when missing (idempotent).
#   install-deps.sh run    what `make run` needs: the Rust toolchain's C libraries and the UI packages
#   install-deps.sh test   plus the test services: moto, Azurite, gnome-keyring, Xvfb, tauri-driver,
#                          and desktop-file-utils for the package test
#   install-deps.sh bench  plus the peers the benchmarks compare with (restic, borg, rclone, the aws
#                          CLI, sqlite3, zstd, openssl), GNU time, and s3s-fs (a filesystem S3 server)
set -euo pipefail
what=${1:-run}
root=$(cd "$(dirname "$0")/.." && pwd)
cache=${STRONGROOM_CACHE:-$HOME/.cache/strongroom}
mkdir -p "$cache"

apt_pkgs=(build-essential pkg-config libssl-dev libwebkit2gtk-4.1-dev librsvg2-dev libxdo-dev
          libdbus-1-dev gnome-keyring dbus dbus-x11 libsecret-1-0 keyutils nodejs npm python3-venv
          libayatana-appindicator3-1)
if [ "$what" = bench ]; then
  apt_pkgs+=(restic borgbackup rclone sqlite3 zstd openssl time)
fi
if [ "$what" = test ] || [ "$what" = bench ]; then
  apt_pkgs+=(xvfb xauth webkit2gtk-driver imagemagick x11-apps xdotool python3-gi gir1.2-gtk-3.0
             libsecret-tools curl desktop-file-utils)
fi
missing=()
for p in "${apt_pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
# Node and npm may come from elsewhere (nodesource, nvm): accept them when on PATH.
if command -v node >/dev/null && command -v npm >/dev/null; then
  missing=("${missing[@]/nodejs}"); missing=("${missing[@]/npm}")
fi
mapfile -t missing < <(printf '%s\n' "${missing[@]}" | grep -v '^$' || true)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing Debian packages: ${missing[*]}"
  sudo_cmd=""; [ "$(id -u)" = 0 ] || sudo_cmd=sudo
  $sudo_cmd apt-get update -q
  $sudo_cmd apt-get -o DPkg::Lock::Timeout=900 install -y --no-install-recommends "${missing[@]}"
fi

if ! command -v cargo >/dev/null; then
  echo "Rust is missing: install it with rustup (https://rustup.rs) and run this again" >&2
  exit 1
fi

# UI packages, from the committed lock file.
if [ ! -d "$root/ui/node_modules" ] || [ "$root/ui/package-lock.json" -nt "$root/ui/node_modules/.package-lock.json" ]; then
  (cd "$root/ui" && npm ci --no-audit --no-fund)
fi

[ "$what" != run ] || exit 0

# Azurite (blob only), from its own committed lock file.
if [ ! -x "$root/tests/services/node_modules/.bin/azurite-blob" ] || [ "$root/tests/services/package-lock.json" -nt "$root/tests/services/node_modules/.package-lock.json" ]; then
  (cd "$root/tests/services" && npm ci --no-audit --no-fund)
fi

# moto's S3 server in a private venv, pinned (5.2.x breaks ListParts for the Rust SDK).
venv="$cache/venv"
if ! "$venv/bin/python" -c 'import moto, sys; sys.exit(moto.__version__ != "5.1.22")' 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q 'moto[server]==5.1.22' boto3 azure-storage-blob
fi

# tauri-driver, pinned to the 2.x line.
if ! command -v tauri-driver >/dev/null || ! tauri-driver --version 2>/dev/null | grep -q ' 2\.'; then
  cargo install tauri-driver --locked --version '^2'
fi

# The aws CLI (a benchmark peer), from PyPI into a venv of its own (it pins botocore).
if [ "$what" = bench ] && [ ! -x "$cache/awscli/bin/aws" ]; then
  python3 -m venv "$cache/awscli"
  "$cache/awscli/bin/pip" install -q awscli
fi

# s3s-fs, the S3 server of the throughput figures (moto is far too slow for them), pinned:
# 0.15+ needs a newer rustc. About 10 minutes to build, once.
if [ "$what" = bench ] && [ ! -x "$cache/s3s-fs/bin/s3s-fs" ]; then
  CARGO_TARGET_DIR="$cache/s3s-fs-build" cargo install s3s-fs --version 0.14.1 --features binary \
    --locked --root "$cache/s3s-fs"
  rm -rf "$cache/s3s-fs-build"
fi
