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

#   make helm-lint     lint and render the Helm chart (pinned helm via go run)
#   make test-cluster  two perch processes on one PostgreSQL under load,
#                      SIGKILL and SIGTERM (slow; CI runs it)

# helm is built from source at a pinned version (no download of a binary).
HELM_VERSION ?= v3.16.4
HELM ?= GOFLAGS= $(GO) run helm.sh/helm/v3/cmd/helm@$(HELM_VERSION)

.PHONY: test test-e2e vet fuzz run build clean helm-lint test-cluster

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

helm-lint:
	$(HELM) lint --strict helm/perch --set database.existingSecret=perch-db
	$(HELM) template perch helm/perch --set database.existingSecret=perch-db --set ingress.enabled=true --set serviceMonitor.enabled=true >/dev/null
	@echo "helm chart OK"

# Two real perch processes on one throwaway PostgreSQL, bookings through both
# under load, a floor map on each; one SIGKILLed and restarted, the other
# SIGTERMed (cluster/cluster_test.go, behind the "cluster" build tag).
test-cluster:
	$(GO) test -tags cluster -count=1 -v ./cluster/

run:
	$(GO) run ./cmd/perch

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "-s -w -X main.version=$(VERSION)" -o bin/perch ./cmd/perch

clean:
	rm -rf bin data
