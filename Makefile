# Build, run, test and package the supervisor multicall binary.
CARGO ?= cargo
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR ?= $(PREFIX)/share/zsh/site-functions
FISHCOMPDIR ?= $(PREFIX)/share/fish/vendor_completions.d
UNITDIR ?= $(PREFIX)/lib/systemd/system
# The binary `install-files` copies (`install` builds and passes the release build).
BIN ?= target/release/supervisor
# The names the multicall binary answers to, installed as symlinks to it.
APPLETS = supervisord supervisorctl echo_supervisord_conf pidproxy
REF_VENV ?= .ref-venv
STATIC_TARGET ?= x86_64-unknown-linux-gnu

.PHONY: build release static image run test ref browser fmt lint clean install install-files uninstall bench fuzz stress man man-check deb

build:
	$(CARGO) build

release:
	$(CARGO) build --release

# A statically linked x86_64 binary (glibc static; no musl target is needed). Its relative
# relocations (the static-pie's ASLR) are packed as RELR (glibc >= 2.36 applies them at start):
# 1 KB instead of the 90 KB of .rela.dyn entries, with the same relocation at a random base.
# LLVM's inliner threshold is lowered from 250 (-O3) to 175: LTO otherwise inlines the same helpers
# into many cold callers (config loading, ctl commands, pages); -58 KB, and the hot paths
# (getAllProcessInfo, /metrics, log capture) measured no slower (docs/bench-notes.md, "Binary size").
STATIC_RUSTFLAGS = -C target-feature=+crt-static -C link-arg=-Wl,-z,pack-relative-relocs \
	-C llvm-args=-inline-threshold=175
static:
	RUSTFLAGS="$(STATIC_RUSTFLAGS)" $(CARGO) build --release --target $(STATIC_TARGET)
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
test: ref browser man-check
	$(MAKE) static
	$(CARGO) build
	REQUIRE_REF=1 REQUIRE_CONTAINER=1 $(CARGO) test -- --test-threads=8

# Lints every manual page with mandoc: any warning or error fails (`mandoc -T lint man/*` also
# shows style hints such as source lines over 80 bytes; the pages are clean of those too).
man:
	@command -v mandoc >/dev/null || { echo "make man: mandoc is not installed (apt-get install mandoc)"; exit 1; }
	@out=$$(mandoc -T lint -W warning man/*.[158] 2>&1); \
	if [ -n "$$out" ]; then echo "$$out"; exit 1; fi; \
	echo "man pages: mandoc -T lint clean ($$(ls man/*.[158] | wc -l) pages)"

# `make test` lints the pages when mandoc is there (CI installs it), and says so when not.
man-check:
	@if command -v mandoc >/dev/null; then $(MAKE) --no-print-directory man; \
	else echo "SKIP make man: mandoc is not installed (apt-get install mandoc)"; fi

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

# The binary and its applet symlinks, every man page, the bash/zsh/fish completions (linked
# under each command name, as the shells look them up) and the systemd unit.
install: release
	$(MAKE) --no-print-directory install-files BIN=target/release/supervisor

install-files:
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 \
		$(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(ZSHCOMPDIR) \
		$(DESTDIR)$(FISHCOMPDIR) $(DESTDIR)$(UNITDIR)
	install -m 0755 $(BIN) $(DESTDIR)$(BINDIR)/supervisor
	for a in $(APPLETS); do ln -sf supervisor $(DESTDIR)$(BINDIR)/$$a; done
	install -m 0644 man/*.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 0644 man/*.5 $(DESTDIR)$(MANDIR)/man5/
	install -m 0644 man/*.8 $(DESTDIR)$(MANDIR)/man8/
	install -m 0644 packaging/completions/supervisor.bash $(DESTDIR)$(BASHCOMPDIR)/supervisor
	for a in $(APPLETS); do ln -sf supervisor $(DESTDIR)$(BASHCOMPDIR)/$$a; done
	install -m 0644 packaging/completions/supervisor.zsh $(DESTDIR)$(ZSHCOMPDIR)/_supervisor
	install -m 0644 packaging/completions/supervisor.fish $(DESTDIR)$(FISHCOMPDIR)/supervisor.fish
	for a in $(APPLETS); do ln -sf supervisor.fish $(DESTDIR)$(FISHCOMPDIR)/$$a.fish; done
	sed 's|@BINDIR@|$(BINDIR)|g' packaging/supervisor.service > $(DESTDIR)$(UNITDIR)/supervisor.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/supervisor.service

# Removes exactly what install-files installed (same PREFIX/DESTDIR).
uninstall:
	rm -f $(DESTDIR)$(BINDIR)/supervisor
	for a in $(APPLETS); do rm -f $(DESTDIR)$(BINDIR)/$$a $(DESTDIR)$(BASHCOMPDIR)/$$a \
		$(DESTDIR)$(FISHCOMPDIR)/$$a.fish; done
	for p in man/*.1 man/*.5 man/*.8; do \
		rm -f $(DESTDIR)$(MANDIR)/man$${p##*.}/$${p##*/}; done
	rm -f $(DESTDIR)$(BASHCOMPDIR)/supervisor $(DESTDIR)$(ZSHCOMPDIR)/_supervisor \
		$(DESTDIR)$(FISHCOMPDIR)/supervisor.fish $(DESTDIR)$(UNITDIR)/supervisor.service

# A Debian package of the static binary (dpkg-deb only): target/debian/supervisor-rs_*.deb.
deb: static
	packaging/debian/build.sh target/$(STATIC_TARGET)/release/supervisor target/debian

clean:
	$(CARGO) clean
	rm -rf $(REF_VENV)
