# rovimpact: the two commands a newcomer needs are `make sample` and `make test`.
GO ?= go
# Debian packages the integration tests talk to (real peers, reference tools).
DEBS := bgpdump stayrtr rtr-tools bird2 gobgpd chromium bzip2 pbzip2 lbzip2 slurmctld slurmd slurm-client munge nodejs prometheus

.PHONY: sample test test-full deps build vet fuzz bench

# Run the impact study on the sample shipped in testdata/.
sample:
	@echo "rovimpact: building (the first build downloads and compiles 41 modules: about 3 minutes on 2 cores), then analysing testdata/sample" >&2
	$(GO) run ./cmd/rovimpact analyze --vrps testdata/sample/vrps.json testdata/sample/routes-v4.mrt testdata/sample/routes-v6.mrt

# Install what the tests need, then run the whole test suite.
test: deps
	$(GO) test ./...

build:
	$(GO) build -o rovimpact ./cmd/rovimpact

# Debian packages for the tests' real peers; needs root (or sudo).
deps:
	@missing=""; for p in $(DEBS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:$$missing"; \
		SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi
	$(GO) mod download

vet:
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); exit 1; }

# A short run of every fuzz target (FUZZTIME each); see scripts/fuzz.sh.
FUZZTIME ?= 10s
fuzz:
	GO=$(GO) FUZZTIME=$(FUZZTIME) bash scripts/fuzz.sh

# The differential tests against bgpdump on every shared MRT file, large
# ones included (about 25 s on 2 cores); CI runs them.
test-full:
	$(GO) test -count=1 -run 'TestBgpdump' ./mrt/ -full

bench:
	bash bench/mrt.sh
