#!/usr/bin/env bash
# Runs "$@" with the test services up on loopback, on free ports: a moto S3 server, Azurite
# (blob), an unlocked gnome-keyring on this D-Bus session, and Xvfb. Their addresses are passed
# in STRONGROOM_TEST_* variables. Every process started here is stopped by PID on exit.
# Run it inside a private session:  keyctl session - dbus-run-session -- bash with-services.sh CMD…
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cache=${STRONGROOM_CACHE:-$HOME/.cache/strongroom}
work=$(mktemp -d -t strongroom-services.XXXXXX)
pids=()

stop_all() {
  local rc=$?
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
  exit $rc
}
trap stop_all EXIT INT TERM

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

wait_for() { # name, command…
  local name=$1; shift
  for _ in $(seq 1 150); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.2
  done
  echo "with-services: $name did not become ready" >&2
  for f in "$work"/*.log; do echo "--- $f" >&2; tail -n 20 "$f" >&2; done
  return 1
}

# The keyring: its own HOME and data dir so the user's real keyring is never touched.
mkdir -p "$work/keyring-home"
# A throwaway password for a throwaway keyring that lives only in $work.
keyring_daemon() {
  printf 'strongroom-test' | HOME="$work/keyring-home" XDG_DATA_HOME="$work/keyring-home" \
    gnome-keyring-daemon --foreground --replace --unlock --components=secrets
}
# gnome-keyring-daemon can abort inside GLib under a burst of parallel clients (seen once in
# four full runs: "trap int3 … in libglib"), and D-Bus then starts a locked one of its own. A
# watcher starts ours again on the same keyring files (the keys stored so far come back) and
# replaces whatever D-Bus started in between.
(
  child=
  trap '[ -z "$child" ] || kill "$child" 2>/dev/null; exit 0' TERM
  while :; do
    keyring_daemon >>"$work/keyring.env" 2>>"$work/keyring.log" &
    child=$!
    wait "$child" || true
    echo "with-services: the keyring daemon stopped; starting it again" >&2
    sleep 0.2
  done
) &
pids+=($!)
wait_for "gnome-keyring" bash -c "dbus-send --session --print-reply --dest=org.freedesktop.DBus / \
  org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets | grep -q 'boolean true'"
while IFS= read -r line; do [[ $line == *=* ]] && export "${line?}"; done <"$work/keyring.env"
export STRONGROOM_TEST_KEYRING=1

# moto (S3).
s3_port=$(free_port)
"$cache/venv/bin/moto_server" -H 127.0.0.1 -p "$s3_port" >"$work/moto.log" 2>&1 &
pids+=($!)
wait_for "moto" curl -sf "http://127.0.0.1:$s3_port/"
export STRONGROOM_TEST_S3_ENDPOINT="http://127.0.0.1:$s3_port"

# A second moto that checks signatures and IAM policies once a test turns that on
# (POST /moto-api/reset-auth): for wrong-secret and missing-permission tests.
s3_auth_port=$(free_port)
"$cache/venv/bin/moto_server" -H 127.0.0.1 -p "$s3_auth_port" >"$work/moto-auth.log" 2>&1 &
pids+=($!)
wait_for "moto (IAM)" curl -sf "http://127.0.0.1:$s3_auth_port/"
export STRONGROOM_TEST_S3_AUTH_ENDPOINT="http://127.0.0.1:$s3_auth_port"
export STRONGROOM_TEST_PYTHON="$cache/venv/bin/python"

# Azurite (blob only).
az_port=$(free_port)
"$root/tests/services/node_modules/.bin/azurite-blob" --blobHost 127.0.0.1 --blobPort "$az_port" \
  --location "$work/azurite" --silent --loose --skipApiVersionCheck --disableTelemetry \
  >"$work/azurite.log" 2>&1 &
pids+=($!)
wait_for "azurite" bash -c "curl -s -o /dev/null http://127.0.0.1:$az_port/devstoreaccount1?comp=list"
export STRONGROOM_TEST_AZURITE_ENDPOINT="http://127.0.0.1:$az_port/devstoreaccount1"

# Xvfb, on a display it picks itself.
Xvfb -displayfd 3 -screen 0 1280x800x24 -nolisten tcp 3>"$work/display" >"$work/xvfb.log" 2>&1 &
pids+=($!)
wait_for "Xvfb" test -s "$work/display"
export DISPLAY=":$(head -n1 "$work/display")"

export STRONGROOM_TEST_SERVICES=1
echo "with-services: S3 $STRONGROOM_TEST_S3_ENDPOINT, Azurite $STRONGROOM_TEST_AZURITE_ENDPOINT, display $DISPLAY, keyring on D-Bus" >&2
"$@"
