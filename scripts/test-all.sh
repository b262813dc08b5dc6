#!/usr/bin/env bash
# Every suite, in order; stops at the first failure. Run by `make test` inside with-services.sh.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
step() { printf '\n==== %s ====\n' "$*"; }

step "rustfmt"
cargo fmt --all --check

step "clippy"
cargo clippy --workspace --all-targets -- -D warnings

step "UI: type check and unit tests"
(cd ui && npm run check && npm test)

step "build the binaries the end-to-end tests drive"
cargo build --workspace

step "cargo tests: unit, property, bindings freshness, storage, CLI and WebDriver end-to-end"
cargo test --workspace --no-fail-fast

step "Debian package: bundle the debug build, install it with dpkg, run both binaries' --version"
bash scripts/package-test.sh

step "all suites passed"
