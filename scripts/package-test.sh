#!/usr/bin/env bash
# The Debian package test: bundles already-built binaries with scripts/package.sh (the same script
# `make package` uses), shows and checks the package, installs it with dpkg, checks the installed
# files, runs both installed binaries' --version against the workspace version, and removes the
# package again (also on failure).
#   scripts/package-test.sh          the debug build; test-all.sh runs it after its build step, so
#                                    `make test` compiles nothing for it
#   scripts/package-test.sh release  the release build, after `make package`
# Needs root or sudo, the runtime libraries the package depends on (libwebkit2gtk-4.1-0,
# libgtk-3-0, libdbus-1-3: installed by scripts/install-deps.sh with the -dev packages) and
# desktop-file-validate (desktop-file-utils, in install-deps.sh's test profile).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/strongroom/target}
profile=${1:-debug}
pkg=strongroom
fail() { echo "package test FAILED: $*" >&2; exit 1; }

sudo_cmd=()
[ "$(id -u)" = 0 ] || sudo_cmd=(sudo)

version=$(sed -n '/^\[workspace\.package\]/,/^\[/s/^version *= *"\([^"]*\)".*/\1/p' Cargo.toml)
[ -n "$version" ] || fail "no version in [workspace.package] of Cargo.toml"
echo "workspace version: $version"

if dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'ok installed'; then
  fail "package '$pkg' is already installed on this machine; this test installs and removes it, so" \
    "remove it first (dpkg -r $pkg)"
fi

deb=$(bash scripts/package.sh "$profile" | tail -n 1)
[ -f "$deb" ] || fail "scripts/package.sh printed no package path"
echo "package: $deb ($(du -h "$deb" | cut -f1))"

echo "--- dpkg-deb -I"
dpkg-deb -I "$deb"
echo "--- dpkg-deb -c"
dpkg-deb -c "$deb"

field() { dpkg-deb -f "$deb" "$1"; }
[ "$(field Package)" = "$pkg" ] || fail "Package is '$(field Package)', expected '$pkg'"
[ "$(field Version)" = "$version" ] ||
  fail "Version is '$(field Version)', the workspace is $version (src-tauri/tauri.conf.json 'version')"
for dep in libwebkit2gtk-4.1-0 libgtk-3-0 libdbus-1-3 libayatana-appindicator3-1; do
  field Depends | tr ',' '\n' | sed 's/^ *//; s/ .*//' | grep -qx "$dep" || fail "Depends lacks $dep"
done

installed=0
cleanup() {
  if [ "$installed" = 1 ]; then
    echo "--- dpkg -r $pkg"
    "${sudo_cmd[@]}" dpkg -r "$pkg" >/dev/null || echo "package test: could not remove $pkg" >&2
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "--- dpkg -i"
installed=1
"${sudo_cmd[@]}" dpkg -i "$deb"
dpkg-query -W -f='${Status} ${Version}\n' "$pkg" | grep -q "ok installed $version" ||
  fail "dpkg does not show $pkg $version as installed"
files=$(dpkg -L "$pkg")

# Both binaries in /usr/bin, byte for byte the ones cargo built.
for bin in strongroom-app strongroom; do
  grep -qx "/usr/bin/$bin" <<<"$files" || fail "/usr/bin/$bin is not in the package"
  [ -x "/usr/bin/$bin" ] || fail "/usr/bin/$bin is not executable"
  cmp -s "/usr/bin/$bin" "$CARGO_TARGET_DIR/$profile/$bin" ||
    fail "/usr/bin/$bin differs from $CARGO_TARGET_DIR/$profile/$bin"
done

# The desktop entry starts the installed app and names an installed icon.
desktops=$(grep '^/usr/share/applications/.*\.desktop$' <<<"$files" || true)
[ "$(wc -l <<<"$desktops")" = 1 ] && [ -n "$desktops" ] || fail "expected one desktop entry, got: $desktops"
echo "--- $desktops"
cat "$desktops"
exec_line=$(sed -n 's/^Exec=//p' "$desktops")
icon=$(sed -n 's/^Icon=//p' "$desktops")
[ "${exec_line%% *}" = strongroom-app ] || fail "desktop entry Exec is '$exec_line', expected strongroom-app"
[ -n "$icon" ] || fail "desktop entry has no Icon"
grep -qx 'Type=Application' "$desktops" || fail "desktop entry is not Type=Application"
grep -q '^Name=Strongroom$' "$desktops" || fail "desktop entry Name is not Strongroom"
command -v desktop-file-validate >/dev/null ||
  fail "desktop-file-validate is missing (desktop-file-utils: bash scripts/install-deps.sh test)"
desktop-file-validate "$desktops" || fail "desktop-file-validate rejects $desktops"

# Icons: hicolor PNGs named after the desktop entry's Icon, each in the folder of its real size.
icons=$(grep "^/usr/share/icons/hicolor/[^/]*/apps/$icon\.png$" <<<"$files" || true)
[ -n "$icons" ] || fail "no /usr/share/icons/hicolor/*/apps/$icon.png in the package"
while read -r png; do
  [ -s "$png" ] || fail "$png is missing or empty"
  # PNG: width and height are big-endian 32-bit numbers at byte 16 of the IHDR chunk.
  read -r w h < <(od -An -tu1 -j16 -N8 "$png" |
    awk '{print $1*16777216+$2*65536+$3*256+$4, $5*16777216+$6*65536+$7*256+$8}')
  size_dir=$(basename "$(dirname "$(dirname "$png")")")
  [ "$size_dir" = "${w}x${h}" ] || fail "$png is ${w}x${h} but lies in hicolor/$size_dir"
  echo "icon ok: $png (${w}x${h})"
done <<<"$icons"

# --version from the installed paths, with no display: neither binary may need one for it.
for bin in strongroom strongroom-app; do
  out=$(env -u DISPLAY -u WAYLAND_DISPLAY timeout 30 "/usr/bin/$bin" --version) ||
    fail "/usr/bin/$bin --version exited with $?"
  echo "/usr/bin/$bin --version: $out"
  [ "$out" = "$bin $version" ] || fail "/usr/bin/$bin --version printed '$out', expected '$bin $version'"
done

echo "--- dpkg -r $pkg"
"${sudo_cmd[@]}" dpkg -r "$pkg" >/dev/null
installed=0
for bin in /usr/bin/strongroom-app /usr/bin/strongroom "$desktops"; do
  [ ! -e "$bin" ] || fail "$bin is still there after dpkg -r"
done
echo "package test passed: $(basename "$deb") installs, both binaries answer --version $version, removes cleanly"
