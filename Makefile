# deviceflow — build, verify and test everything from a fresh clone.
SHELL := /bin/bash
GO ?= go
WASM := plugin/deviceflow.wasm
# The wasm builds read go.mod through a copy, $(WASM_MODFILE), that replaces
# github.com/tidwall/pretty with plugin/internal/pretty (gjson's @pretty
# modifier would otherwise link encoding/json, reflect and fmt into the
# plugin; see that package). go.mod itself carries no replace directive,
# which `go install github.com/deviceflow/deviceflow/...@latest` refuses.
WASM_MODFILE := .bin/wasm.mod
define wasm_modfile
mkdir -p .bin && cp go.mod $(WASM_MODFILE) && cp go.sum $(WASM_MODFILE:.mod=.sum) && $(GO) mod edit -replace github.com/tidwall/pretty=./plugin/internal/pretty $(WASM_MODFILE)
endef
WASM_FLAGS := -modfile=$(WASM_MODFILE) -buildmode=c-shared -trimpath -buildvcs=false -ldflags='-s -w'
# The committed blob is byte-reproducible only with the same Go: the wasm is
# always built with the Go that go.mod's go line names (the go command fetches
# that toolchain through the module proxy when this machine has another Go).
WASM_GO := GOTOOLCHAIN=go$(shell sed -n 's/^go //p' go.mod) $(GO)
WASM_SRC := $(shell find plugin/guest plugin/browser plugin/flow plugin/internal/packdata plugin/internal/pretty -name '*.go' -not -name '*_test.go') go.mod go.sum
# PACK merges the linked plugin's data segments (plugin/internal/packdata):
# the same initial memory in at most 1,024 segments instead of ~35,000, which
# every runtime would otherwise decode, validate and copy one by one.
PACK := $(WASM_GO) run ./plugin/internal/packdata
# The browser build (GOOS=js, plugin/browser) lives beside the JavaScript that
# loads it, so that a page, a bundler and the npm package all find it at the
# same URL relative to sdk/js/src/browser/; wasm_exec.js is Go's own loader,
# copied from the same toolchain (it must match the Go that built the blob).
BROWSER_WASM := sdk/js/browser/deviceflow.wasm
WASM_EXEC_JS := sdk/js/browser/wasm_exec.js
BROWSER_FLAGS := -modfile=$(WASM_MODFILE) -trimpath -buildvcs=false -ldflags='-s -w'

.PHONY: all wasm verify-wasm test lint lint-go lint-js lint-python test-go test-wit test-node test-browser test-python test-platform test-reliability reliability fuzz demo bench bench-scale bench-platform

all: wasm

## wasm: build the plugin with standard Go (no TinyGo) and merge its data segments; the browser build (GOOS=js) with Go's matching wasm_exec.js.
wasm:
	@$(wasm_modfile)
	@tmp=$$(mktemp -d); \
	GOOS=wasip1 GOARCH=wasm $(WASM_GO) build $(WASM_FLAGS) -o $$tmp/linked.wasm ./plugin/guest && \
	$(PACK) $$tmp/linked.wasm $(WASM); rc=$$?; rm -rf $$tmp; exit $$rc
	GOOS=js GOARCH=wasm $(WASM_GO) build $(BROWSER_FLAGS) -o $(BROWSER_WASM) ./plugin/browser
	cp "$$($(WASM_GO) env GOROOT)/lib/wasm/wasm_exec.js" $(WASM_EXEC_JS)

## verify-wasm: rebuild to a temporary file and fail if it differs from the committed blob.
verify-wasm:
	@$(wasm_modfile)
	@heavy=$$(GOOS=wasip1 GOARCH=wasm $(WASM_GO) list -modfile=$(WASM_MODFILE) -deps ./plugin/guest | grep -xE 'encoding/json|reflect|fmt|net/url|net/netip|mime'); \
	if [ -n "$$heavy" ]; then echo "verify-wasm: the plugin links $$(echo $$heavy) again: the engine reads and writes JSON, URLs, addresses and dates by hand (plugin/flow) to stay small"; exit 1; fi
	@tmp=$$(mktemp -d); \
	GOOS=wasip1 GOARCH=wasm $(WASM_GO) build $(WASM_FLAGS) -o $$tmp/linked.wasm ./plugin/guest || exit 1; \
	$(PACK) $$tmp/linked.wasm $$tmp/deviceflow.wasm || exit 1; \
	if cmp -s $$tmp/deviceflow.wasm $(WASM); then echo "verify-wasm: $(WASM) matches its source ($$($(WASM_GO) env GOVERSION))"; rm -rf $$tmp; \
	else echo "verify-wasm: $(WASM) differs from a build of its source with $$($(WASM_GO) env GOVERSION): the source changed since the blob was built (run 'make wasm', check 'git diff plugin/', commit both)"; rm -rf $$tmp; exit 1; fi
	@tmp=$$(mktemp -d); \
	GOOS=js GOARCH=wasm $(WASM_GO) build $(BROWSER_FLAGS) -o $$tmp/deviceflow.wasm ./plugin/browser || exit 1; \
	if cmp -s $$tmp/deviceflow.wasm $(BROWSER_WASM); then echo "verify-wasm: $(BROWSER_WASM) matches its source ($$($(WASM_GO) env GOVERSION))"; rm -rf $$tmp; \
	else echo "verify-wasm: $(BROWSER_WASM) differs from a build of plugin/browser with $$($(WASM_GO) env GOVERSION): run 'make wasm' and commit it"; rm -rf $$tmp; exit 1; fi
	@if cmp -s "$$($(WASM_GO) env GOROOT)/lib/wasm/wasm_exec.js" $(WASM_EXEC_JS); then echo "verify-wasm: $(WASM_EXEC_JS) is the one of $$($(WASM_GO) env GOVERSION)"; \
	else echo "verify-wasm: $(WASM_EXEC_JS) is not the wasm_exec.js of $$($(WASM_GO) env GOVERSION): run 'make wasm' and commit it"; exit 1; fi

FUZZERS := FuzzParseFields FuzzInput FuzzServerAnswers FuzzCachedValue FuzzGenericAnswers
# A count, not a duration: with a duration, go1.26's fuzzing coordinator can
# report its own deadline as a failure ("context deadline exceeded", no
# crasher: golang/go#75804, fixed in Go 1.27). 50,000 runs take 1-4 s here.
FUZZTIME ?= 50000x

## test: everything, from a fresh clone.
test: lint verify-wasm test-go test-wit fuzz test-node test-browser test-python test-platform test-reliability demo

## lint: gofmt, go mod tidy, staticcheck; ESLint and tsc checkJs over sdk/js; ruff over the Python.
lint: lint-go lint-js lint-python

# staticcheck, pinned; installed into ./.bin (git ignores it; the top level stays as the design lists it) through the Go module proxy.
STATICCHECK_VERSION := v0.8.2
STATICCHECK := .bin/staticcheck

$(STATICCHECK): Makefile
	GOBIN=$(CURDIR)/.bin $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
	@touch $@

## lint-go: no file gofmt would change, no replace in go.mod, the hosts and SDK built for darwin, windows and freebsd too, go.mod/go.sum as go mod tidy leaves them (every module), staticcheck (the guest as wasip1 too,
## without U1000: its go:wasmexport functions are called by the runtime, which staticcheck cannot see).
lint-go: $(STATICCHECK)
	@out=$$(gofmt -l $$(git ls-files --cached --others --exclude-standard '*.go')); if [ -n "$$out" ]; then echo "gofmt: run gofmt -w on:"; echo "$$out"; exit 1; fi
	$(GO) mod tidy -diff
	@if grep -q '^replace' go.mod; then echo "go.mod: no replace directives (go install …@latest refuses a module that has them); the wasm builds add theirs in WASM_MODFILE"; exit 1; fi
	cd wit/tools && $(GO) mod tidy -diff
	cd plugin/internal/pretty && $(GO) mod tidy -diff
	$(STATICCHECK) ./...
	cd wit/tools && ../../$(STATICCHECK) ./...
	cd plugin/internal/pretty && ../../../$(STATICCHECK) ./...
	GOOS=wasip1 GOARCH=wasm $(STATICCHECK) -checks inherit,-U1000 ./plugin/guest
	GOOS=js GOARCH=wasm $(STATICCHECK) ./plugin/browser
	@# The hosts build where users run them, not only here (files per OS: mapped memory, locks, keyrings).
	for os in darwin windows freebsd; do GOOS=$$os GOARCH=amd64 $(GO) build ./host/... ./sdk/... || exit 1; done

# npm ci when the lock file changed since the last install.
sdk/js/node_modules/.package-lock.json: sdk/js/package.json sdk/js/package-lock.json
	cd sdk/js && npm ci --no-audit --no-fund

## lint-js: ESLint, and TypeScript on the declarations and on src/ (checkJs, index.d.ts against the JavaScript).
lint-js: sdk/js/node_modules/.package-lock.json
	cd sdk/js && npm run --silent lint && npm run --silent typecheck

## lint-python: ruff (pinned in the venv) over sdk/python and examples/python.
lint-python:
	sdk/python/scripts/venv.sh
	sdk/python/.venv/bin/ruff check --config sdk/python/pyproject.toml sdk/python examples/python

## test-node: the npm package (conformance vectors, end to end, npm pack) and the Node example.
test-node:
	cd sdk/js && npm ci --no-audit --no-fund && npm test
	cd examples/node && npm ci --no-audit --no-fund && npm test

## test-browser: sdk/js's browser entry in headless Chromium (the machine's /usr/bin/chromium, driven by playwright-core;
## no browser is downloaded) against the emulator (--cors): sign-in, reload, refresh, cancellation, stores, the conformance vectors.
test-browser: sdk/js/node_modules/.package-lock.json
	cd sdk/js && npm run --silent test:browser

## test-python: the Python package in a local venv (conformance vectors, stores, wheel in a fresh venv) and the Python example.
test-python:
	sdk/python/scripts/test.sh

## test-reliability: issue 11's figures, short run: 20 Go and Python token processes on one store refresh once (2 rounds), 100 goroutines on one Host refresh once, 20 kill -9 around a refresh on an 8 MB store.
test-reliability:
	sdk/python/scripts/venv.sh
	$(GO) test -count=1 -v ./host/reliability

## reliability: the long run: 100 processes (half Go, half Python) x 5 rounds, 100 goroutines, 100 kill -9 on an 8 MB store; prints the figures.
reliability:
	sdk/python/scripts/venv.sh
	DEVICEFLOW_RELIABILITY_FULL=1 $(GO) test ./host/reliability -v -count=1 -timeout 20m

## test-go: vet and test every Go package (engine, model check, host, conformance vectors, emulator, SDK, CLI); host/reliability runs in test-reliability, once the Python venv exists, and the shared stores in test-platform.
test-go:
	$(GO) vet ./...
	cd plugin/internal/pretty && $(GO) vet ./... && $(GO) test -count=1 ./...
	$(GO) test -count=1 -skip '$(PLATFORM_INTEROP)|$(PLATFORM_SCHEDULER)' $$($(GO) list ./... | grep -v -e '/host/reliability$$' -e '/host/store/redis$$' -e '/host/store/postgres$$')

# The cross-language tests of the shared stores, in host/interop.
PLATFORM_INTEROP := ^(TestSharedStoresAcrossLanguages|TestPostgresSchemaAcrossLanguages)$$
# The scheduler's tests on real servers and processes, in host/scheduler.
PLATFORM_SCHEDULER := ^TestPlatform

## test-platform: the shared stores against a real redis-server and PostgreSQL (apt-get install redis-server postgresql; host/internal/testserver starts them): Go (store suite, swaps raced by goroutines and processes, leases, tenants, encryption at rest, TTLs, migrations, the plugin refreshing once for 20 hosts), Python, Go with Python on one server, and the scheduler (three nodes on Redis and on PostgreSQL with one killed; three processes with kill -9 on Redis, PostgreSQL and a file store).
test-platform:
	sdk/python/scripts/venv.sh
	$(GO) test -count=1 ./host/store/redis ./host/store/postgres
	$(GO) test -count=1 -run '$(PLATFORM_INTEROP)' ./host/interop
	$(GO) test -count=1 -run '$(PLATFORM_SCHEDULER)' ./host/scheduler
	cd sdk/python && .venv/bin/python -m pytest -q -p no:cacheprovider tests/test_shared_stores.py

## test-wit: validate the WIT with a real parser and check the wasm against it.
test-wit:
	cd wit/tools && $(GO) tool wit-bindgen-go wit ../deviceflow.wit > /dev/null && echo "wit: wit/deviceflow.wit parses"
	cd wit/tools && $(GO) vet ./... && $(GO) test -count=1 ./...

## fuzz: a short run of every fuzzer (seed corpora live in plugin/flow/testdata/fuzz).
fuzz:
	@for f in $(FUZZERS); do \
		out=$$($(GO) test ./plugin/flow -run '^$$' -fuzz "^$$f\$$" -fuzztime $(FUZZTIME) -v 2>&1); rc=$$?; \
		echo "$$f: $$(echo "$$out" | grep -o 'execs: [0-9]*' | tail -1)"; \
		if [ $$rc -ne 0 ]; then echo "$$out" | tail -30; exit $$rc; fi; \
	done

## demo: the deviceflow command against the local emulator: login approved through its web page, status, token.
demo:
	bash examples/demo/demo.sh

## bench: plugin vs x/oauth2 poll, start-up (cold compile, warm cache, instantiate, warm call), the token process, plugin size; Node and Python per-call figures.
bench:
	$(GO) test ./host -run '^$$' -bench 'StartupColdCompile' -benchtime 3x
	$(GO) test ./host -run '^$$' -bench 'Startup(FirstCallWarmCache|Instantiate|InstantiateAndCall|WarmCall)' -benchtime 20x
	$(GO) test ./host/bench -run '^$$' -bench . -benchtime 2s
	cd sdk/js && npm ci --no-audit --no-fund >/dev/null && npm run --silent bench
	sdk/python/scripts/venv.sh >/dev/null && sdk/python/.venv/bin/python sdk/python/bench.py

## bench-scale: 10,000 pending flows in one scheduler process (host/scheduler) against the emulator at GitHub's 5-second interval: polls/s sustained, lateness against due time (p50, p99), slow_down, CPU, RSS (DEVICEFLOW_BENCH_FLOWS, DEVICEFLOW_BENCH_WINDOW, DEVICEFLOW_BENCH_WORKERS change it).
bench-scale:
	DEVICEFLOW_BENCH_SCALE=1 $(GO) test ./host/scheduler -run '^TestBenchScale$$' -count=1 -v -timeout 30m

## bench-platform: 10,000 pending flows over three scheduler processes sharing PostgreSQL, then Redis (real servers, as in test-platform), against the emulator at a 5-second interval: each process's polls/s, lateness p50/p99, slow_down, CPU, RSS; then kill -9 of one process and every code approved: flows complete, tokens lost, slow_down (DEVICEFLOW_BENCH_FLOWS, DEVICEFLOW_BENCH_WINDOW, DEVICEFLOW_BENCH_WORKERS (16), DEVICEFLOW_BENCH_STORES change it; DEVICEFLOW_PLATFORM_CPUPROFILE=DIR writes each process's CPU profile of the window).
bench-platform:
	DEVICEFLOW_BENCH_PLATFORM=1 $(GO) test ./host/scheduler -run '^TestBenchPlatform$$' -count=1 -v -timeout 60m
