# Build, run, test and package the supervisor multicall binary.
CARGO ?= cargo
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
REF_VENV ?= .ref-venv
STATIC_TARGET ?= x86_64-unknown-linux-gnu

.PHONY: build release static image run test ref browser fmt lint clean install bench fuzz stress

build:
	$(CARGO) build

release:
	$(CARGO) build --release

# A statically linked x86_64 binary (glibc static; no musl target is needed).
static:
	RUSTFLAGS="-C target-feature=+crt-static" $(CARGO) build --release --target $(STATIC_TARGET)
	@ls -l target/$(STATIC_TARGET)/release/supervisor

# The scratch image around the static binary (packaging/Dockerfile; docs/containers.md).
IMAGE ?= supervisor
CONTAINER_TOOL ?= $(shell command -v podman || command -v docker)
image: static
	$(CONTAINER_TOOL) build $(if $(findstring podman,$(CONTAINER_TOOL)),--format docker) \
		-f packaging/Dockerfile -t $(IMAGE) .

# Builds and starts the daemon in the foreground on the bundled example config.
run: build
	mkdir -p /tmp/supervisor-example
	./target/debug/supervisor supervisord -n -c examples/supervisord.conf

# The reference supervisor 4.3.0 in a venv, for the compatibility tests, with the official
# Prometheus client whose parser checks /metrics.
ref: $(REF_VENV)/bin/supervisord $(REF_VENV)/bin/dotenv $(REF_VENV)/.prometheus_client

$(REF_VENV)/bin/supervisord:
	python3 -m venv $(REF_VENV)
	$(REF_VENV)/bin/pip install --quiet supervisor==4.3.0

$(REF_VENV)/.prometheus_client: $(REF_VENV)/bin/supervisord
	$(REF_VENV)/bin/pip install --quiet prometheus_client
	touch $@

# python-dotenv: the env_file= parser is compared with it (tests/extensions.rs).
$(REF_VENV)/bin/dotenv: $(REF_VENV)/bin/supervisord
	$(REF_VENV)/bin/pip install --quiet python-dotenv==1.2.2

# playwright-core for the real-browser dashboard test (tests/browser; skipped without node).
browser:
	@if command -v npm >/dev/null && [ ! -d tests/browser/node_modules/playwright-core ]; then \
		cd tests/browser && npm ci --no-audit --no-fund; fi

# The static build is for the container test (tests/container.rs runs it in an image).
test: ref browser
	$(MAKE) static
	$(CARGO) build
	REQUIRE_REF=1 REQUIRE_CONTAINER=1 $(CARGO) test -- --test-threads=8

# The load test with the issue's numbers (tests/load.rs; 200 clients x 50 getAllProcessInfo on
# 200 programs, 200 idle half-open connections), alone on the machine. Its last result is in
# docs/reliability.md.
stress: build
	REQUIRE_REF=1 $(CARGO) test --test tests load::stress -- --ignored --nocapture --test-threads=1

fmt:
	$(CARGO) fmt --all

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --all-targets -- -D warnings
	python3 tools/modcycles.py src

# Side by side with the reference (bench/RESULTS.md, docs/bench-notes.md). Benchmarks the static
# build (the shipped artifact) when it links, else the plain release build; < 15 minutes.
bench: ref
	$(MAKE) static || $(CARGO) build --release
	bench/run.sh

# Each fuzz target for FUZZ_SECONDS (default 600), one after the other at nice 19; the corpora
# grow (minimized) in fuzz/corpus and fuzz/README.md gets a dated line per run. `make test`
# replays the corpora on stable (src/fuzz_bodies.rs).
fuzz:
	fuzz/run.sh

install: release
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5
	install -m 0755 target/release/supervisor $(DESTDIR)$(BINDIR)/supervisor
	ln -sf supervisor $(DESTDIR)$(BINDIR)/supervisord
	ln -sf supervisor $(DESTDIR)$(BINDIR)/supervisorctl
	ln -sf supervisor $(DESTDIR)$(BINDIR)/echo_supervisord_conf
	install -m 0644 man/*.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 0644 man/*.5 $(DESTDIR)$(MANDIR)/man5/

clean:
	$(CARGO) clean
	rm -rf $(REF_VENV)
