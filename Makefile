# Passwordless sign-in on Amazon Cognito: Go CDK app, construct and Lambdas.
# `make help` lists the targets. Everything a target needs is installed by the target itself.

SHELL        := /bin/bash
ENV          ?= dev
CDK_VERSION  := 2.1148.1
DYNALITE_VERSION := 4.0.0
AMPLIFY_VERSION  := 6.22.1
TOOLS        := .tools
CDK          := $(TOOLS)/node_modules/.bin/cdk
DYNALITE     := $(TOOLS)/node_modules/.bin/dynalite
TOOLS_STAMP  := $(TOOLS)/.installed-$(CDK_VERSION)-$(DYNALITE_VERSION)-$(AMPLIFY_VERSION)
PERF_NODE       := $(TOOLS)/perf-node
PERF_NODE_STAMP := $(PERF_NODE)/.installed
GO_BUILD_FLAGS := -trimpath -buildvcs=false -tags lambda.norpc -ldflags "-s -w"
LAMBDAS      := $(notdir $(wildcard lambdas/cmd/*))
# Count-based: a wall-clock -fuzztime can end in a spurious "context deadline exceeded" with no
# crasher under Go 1.26 (go.dev/issue/75804, fixed in Go 1.27); a count never takes that path.
FUZZTIME     ?= 20000x

export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 1
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20

.PHONY: help tools deps synth diff deploy test test-go e2e dev fuzz lint build snapshot-update bench clean preflight smoke

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

$(TOOLS_STAMP):
	@command -v node >/dev/null || { echo "Node.js is required (jsii runs the CDK in Node)"; exit 1; }
	@# --ignore-scripts: the one install script in the tree is classic-level's (dynalite's on-disk
	@# store, unused: the tests run dynalite in memory), and it only picks the prebuilt binary that
	@# ships in the package for Linux, macOS and Windows; skipping it also silences npm 11's
	@# "install-scripts not yet covered by allowScripts" warning.
	npm install --prefix $(TOOLS) --no-audit --no-fund --no-save --ignore-scripts aws-cdk@$(CDK_VERSION) dynalite@$(DYNALITE_VERSION) aws-amplify@$(AMPLIFY_VERSION)
	@touch $@

$(PERF_NODE_STAMP): infra/local/perf/node/package.json infra/local/perf/node/package-lock.json
	@mkdir -p $(PERF_NODE)
	cp infra/local/perf/node/package.json infra/local/perf/node/package-lock.json $(PERF_NODE)/
	npm ci --prefix $(PERF_NODE) --no-audit --no-fund
	@touch $@

tools: $(TOOLS_STAMP) $(PERF_NODE_STAMP) ## install the pinned CDK CLI, dynalite, Amplify JS and the Node.js peer's SDK into .tools/

deps: ## download Go modules
	go mod download

synth: tools deps ## synthesize ENV (default dev) into cdk.out/, no AWS account needed
	$(CDK) synth -c env=$(ENV) --quiet
	@echo "cloud assembly for $(ENV) in cdk.out/ (validation report: cdk.out/validation-report.json)"

diff: tools deps ## compare ENV with what is deployed (needs AWS credentials)
	$(CDK) diff -c env=$(ENV)

preflight: deps ## check with read-only AWS calls that the AWS account and region are ready for ENV (fails when something blocks it)
	@mkdir -p bin
	go build -o bin/preflight ./infra/cmd/preflight
	bin/preflight -env $(ENV)

deploy: tools deps ## deploy ENV (needs AWS credentials and a bootstrapped account); outputs in cdk.out/outputs-ENV.json
	$(CDK) deploy -c env=$(ENV) --require-approval broadening --outputs-file cdk.out/outputs-$(ENV).json

smoke: deps ## sign in against the deployed ENV (EMAIL=an address you can read; you type the code)
	@[ -f cdk.out/outputs-$(ENV).json ] || { echo "no cdk.out/outputs-$(ENV).json: run make deploy ENV=$(ENV) first"; exit 1; }
	go run ./infra/cmd/smoke --outputs cdk.out/outputs-$(ENV).json $(if $(EMAIL),--email $(EMAIL))

test: tools deps lint test-go fuzz ## everything CI runs: lint, all tests (dynalite, CDK CLI synth), short fuzz runs

TEST_ENV := REQUIRE_DYNALITE=1 DYNALITE_BIN=$(CURDIR)/$(DYNALITE) CDK_CLI=$(CURDIR)/$(CDK)

test-go:
	@command -v chromium >/dev/null || command -v chromium-browser >/dev/null || [ -n "$$CHROMIUM_BIN" ] || \
		echo "SKIPPED: the browser tests of passkeys and magic links (infra/local/browser) need Chromium; install it with: apt-get install chromium"
	$(TEST_ENV) go test -count=1 -timeout 20m ./...

e2e: tools deps ## end-to-end tests: built Lambdas behind the local Cognito, API Gateway and AWS endpoints
	$(TEST_ENV) go test -count=1 -timeout 10m -v ./infra/local/e2e/ 2>&1 | grep -E '^(=== RUN|--- |PASS|FAIL|ok|\s+\S+_test.go)'; exit $${PIPESTATUS[0]}

dev: tools deps ## run the whole stack locally (Cognito, HTTP API, built Lambdas, dynalite); prints endpoints and sent codes
	DYNALITE_BIN=$(CURDIR)/$(DYNALITE) go run ./infra/cmd/dev

fuzz: ## run each fuzz target for FUZZTIME executions (default 20000x)
	@log=$$(mktemp); for pkg in $$(go list ./...); do \
		for f in $$(go test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
			echo "fuzz $$pkg $$f"; \
			go test -run='^$$' -fuzz="^$$f$$" -fuzztime=$(FUZZTIME) $$pkg >$$log 2>&1 || { cat $$log; exit 1; }; \
		done; \
	done

lint: ## gofmt, go mod tidy -diff (fails on an untidy module), go vet
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './.tools/*')); \
		if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	go mod tidy -diff
	go vet ./...

build: ## build every Lambda into bin/<name>/bootstrap (linux/arm64, as the construct does)
	@for l in $(LAMBDAS); do \
		GOOS=linux GOARCH=arm64 CGO_ENABLED=0 go build $(GO_BUILD_FLAGS) -o bin/$$l/bootstrap ./lambdas/cmd/$$l || exit 1; \
		printf "  %-10s %8d bytes\n" $$l $$(stat -c %s bin/$$l/bootstrap); \
	done

snapshot-update: ## rewrite golden templates (review the diff before committing)
	go test -count=1 ./constructs/passwordless ./infra/stacks -update
	@git --no-pager diff --stat -- '*/testdata/*'

bench: tools deps ## benchmarks: handler costs, then cold start, peak RSS and arm64 size of every function vs a Node.js peer (table)
	go test -run='^$$' -bench=. -benchmem ./lambdas/...
	DYNALITE_BIN=$(CURDIR)/$(DYNALITE) go run ./infra/cmd/bench -runs 15 -invocations 1000

clean: ## remove build output and installed tools
	rm -rf cdk.out bin $(TOOLS)
