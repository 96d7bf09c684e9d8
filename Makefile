# One target per habit; CI (.ci/run) calls these same targets.
.PHONY: run test vet fmt-check build bench bench-suite

PG_TEST_URL ?= postgres://postgres@127.0.0.1:5432/test?sslmode=disable

run:
	go run ./cmd/mocpcr

# The whole suite. The PostgreSQL half runs when MOCPCR_TEST_DATABASE_URL is
# set, or when a server answers on 127.0.0.1:5432; otherwise it is skipped
# with a message saying how to enable it.
test:
	@if [ -z "$$MOCPCR_TEST_DATABASE_URL" ] && command -v pg_isready >/dev/null 2>&1 && pg_isready -q -h 127.0.0.1 -p 5432; then \
		export MOCPCR_TEST_DATABASE_URL='$(PG_TEST_URL)'; \
		echo "PostgreSQL answers on 127.0.0.1:5432: running the PostgreSQL half too"; \
	fi; \
	go test -count=1 -timeout 15m ./...

vet:
	go vet ./...

fmt-check:
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

build:
	CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o bin/mocpcr ./cmd/mocpcr

bench:
	go test -run '^$$' -bench . -benchtime 2s ./...

# The operations benchmark: builds the binary, loads 10,000 changes and
# 1,000,000 notifications, prints one table (README: Operations → Performance).
# PostgreSQL is included when MOCPCR_TEST_DATABASE_URL is set. Not part of
# make test. Quick run: make bench-suite BENCH_FLAGS='-scale 0.1'
bench-suite:
	go run ./cmd/mocpcr-bench $(BENCH_FLAGS)
