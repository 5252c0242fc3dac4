# Perch — the commands a developer runs.
#
#   make test    the whole suite, race detector on, on SQLite and on a
#                throwaway PostgreSQL cluster the tests start themselves
#                (or the server PERCH_TEST_DATABASE_URL names), then each
#                fuzz target briefly
#   make test-e2e  the browser tests: the web app in headless Chromium
#                (Debian's chromium package) against a real perch;
#                screenshots in artifacts/e2e
#   make run     serve on the embedded SQLite with the demo office
#   make build   build ./bin/perch

GO ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)

FUZZTIME ?= 5s

.PHONY: test test-e2e vet fuzz run build clean

test: vet
	$(GO) test -race ./...
	$(MAKE) --no-print-directory fuzz

# Every fuzz target briefly (the committed corpus plus FUZZTIME of new inputs);
# run longer with `make fuzz FUZZTIME=5m`.
fuzz:
	$(GO) test -run='^$$' -fuzz='^FuzzParseRule$$' -fuzztime=$(FUZZTIME) ./booking/
	$(GO) test -run='^$$' -fuzz='^FuzzDateClock$$' -fuzztime=$(FUZZTIME) ./booking/
	$(GO) test -run='^$$' -fuzz='^FuzzCreateBookingBody$$' -fuzztime=$(FUZZTIME) ./api/

test-e2e:
	$(GO) test -tags e2e -count=1 -v ./e2e/

vet:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...

run:
	$(GO) run ./cmd/perch

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "-s -w -X main.version=$(VERSION)" -o bin/perch ./cmd/perch

clean:
	rm -rf bin data
