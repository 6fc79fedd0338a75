# dcrconform: conformance harness for Open Banking DCR POST /register.
# Targets other scripts rely on: conformance, test, build, bench, mutation.

GO      ?= go
BIN     := bin/dcrconform
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)

.PHONY: all build conformance test vet fmt-check bench mutation docs ginkgo clean

all: build

## build: the dcrconform binary (one static binary; no Go toolchain needed to run it)
build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/dcrconform

## conformance: the main job, a full run against the embedded reference bank; writes reports/
conformance: build
	./$(BIN) run --reports reports

## test: everything CI runs
test: fmt-check vet
	$(GO) test -count=1 ./...

vet:
	$(GO) vet ./...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

## bench: speed and memory, measured (never asserted in tests). BenchmarkSpeed runs the binary
## against the embedded bank and a 300 ms bank and reports wall, CPU per case against the
## measured floor (PS256 sign + verify + mTLS handshake), peak memory and the critical path.
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./internal/... ./suites/...
	$(GO) test -run '^$$' -bench Speed -benchtime 2x ./cmd/dcrconform

## docs: regenerate docs/CASES.md from the catalogue (a test fails when it is stale)
docs:
	$(GO) run ./cmd/dcrconform list --markdown > docs/CASES.md
	$(GO) run ./internal/statements/gendoc > docs/STATEMENTS.md

## mutation: the fault matrix (fault x cases) and the score, "detected N/N" on the last line
mutation: build
	./$(BIN) matrix

## ginkgo: run the suites through the pinned Ginkgo CLI (same specs as the binary)
ginkgo:
	$(GO) tool ginkgo -v ./suites/...

clean:
	rm -rf bin .dcrconform reports/*.xml reports/*.json reports/*.html
