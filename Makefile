# One target per habit; CI (.ci/run) calls these same targets.
.PHONY: run test vet fmt-check tidy-check build release bench bench-suite

run:
	go run ./cmd/mocpcr

# The whole suite: SQLite always, PostgreSQL when a server answers on
# 127.0.0.1:5432 (or MOCPCR_TEST_DATABASE_URL is set), the browser tests when
# Chromium is installed. Ends with a summary of which halves ran and why any
# were skipped.
test:
	./test/suite.sh

vet:
	go vet ./...

fmt-check:
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

tidy-check:
	go mod tidy -diff

VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)

build:
	CGO_ENABLED=0 go build -trimpath -ldflags "$(LDFLAGS)" -o bin/mocpcr ./cmd/mocpcr

# Static binaries for the platforms sites run on, in dist/ (git-ignored).
release:
	@set -e; for target in linux/amd64 linux/arm64 windows/amd64; do \
		os=$${target%/*}; arch=$${target#*/}; ext=; [ "$$os" = windows ] && ext=.exe; \
		out=dist/mocpcr-$(VERSION)-$$os-$$arch$$ext; \
		echo "building $$out"; \
		CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch go build -trimpath -ldflags "$(LDFLAGS)" -o $$out ./cmd/mocpcr; \
	done

bench:
	go test -run '^$$' -bench . -benchtime 2s ./...

# The operations benchmark: builds the binary, loads 10,000 changes and
# 1,000,000 notifications, prints one table (README: Operations → Performance).
# PostgreSQL is included when MOCPCR_TEST_DATABASE_URL is set. Not part of
# make test. Quick run: make bench-suite BENCH_FLAGS='-scale 0.1'
bench-suite:
	go run ./cmd/mocpcr-bench $(BENCH_FLAGS)
