# The two commands of the README: `make run` and `make test`. Each installs what it needs.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c

# Builds are cached outside the clone so fresh clones (and CI) reuse them.
export CARGO_TARGET_DIR ?= $(HOME)/.cache/strongroom/target
CARGO ?= cargo

.PHONY: run test bench bench-parts package deps-run deps-test deps-bench ui build bindings clean-cache

## make run: build and open the desktop app (local registry, local folders, keys in the OS keyring)
run: deps-run ui
	$(CARGO) build -p strongroom-app -p strongroom-cli
	$(CARGO_TARGET_DIR)/debug/strongroom-app

## make test: start moto, Azurite, a keyring and Xvfb on loopback, then run every suite
test: deps-test ui
	keyctl session - dbus-run-session -- bash scripts/with-services.sh bash scripts/test-all.sh

## make bench: release-build benchmarks beside the peers, in the same run (see README, Performance).
## The archive format alone and one large object against moto: make bench-parts
bench: deps-bench ui
	$(CARGO) build --release -p strongroom-cli -p strongroom-app
	$(CARGO) build --release -p strongroom-tests --bin app_timings
	STRONGROOM_BENCH_CLI=$(CARGO_TARGET_DIR)/release/strongroom \
	  keyctl session - dbus-run-session -- bash scripts/with-services.sh bash -c \
	  '$(CARGO) bench -p strongroom-core --bench station && $(CARGO_TARGET_DIR)/release/app_timings'
	@echo "tables above; JSON in $(CARGO_TARGET_DIR)/bench/"

bench-parts: deps-bench
	keyctl session - dbus-run-session -- bash scripts/with-services.sh \
	  $(CARGO) bench -p strongroom-core --bench archive --bench transfer

## make package: release build, then the .deb (app, CLI, desktop entry, icons); prints its path
package: deps-run ui
	$(CARGO) build --release -p strongroom-app -p strongroom-cli
	@deb=$$(bash scripts/package.sh release | tail -n 1) && echo "package: $$deb" && \
	  echo "install it with: sudo apt install $$deb   (or sudo dpkg -i $$deb)"

deps-bench:
	bash scripts/install-deps.sh bench

deps-run:
	bash scripts/install-deps.sh run

deps-test:
	bash scripts/install-deps.sh test

ui:
	cd ui && npm run build

build: ui
	$(CARGO) build --workspace

## make bindings: regenerate ui/src/bindings.ts from the Rust commands
bindings:
	STRONGROOM_WRITE_BINDINGS=1 $(CARGO) test -p strongroom-app --test bindings

clean-cache:
	rm -rf $(CARGO_TARGET_DIR)
