# c4sctl build, demo and test entry points. Everything a fresh machine needs is fetched by the Go
# toolchain from go.mod; nothing is installed by hand.
GO       ?= go
BIN      := bin/c4sctl
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT   ?= $(shell git rev-parse HEAD 2>/dev/null)
LDFLAGS  := -X github.com/c4sctl/c4sctl/pkg/cli.Version=$(VERSION) -X github.com/c4sctl/c4sctl/pkg/cli.Commit=$(COMMIT)
DEMO_DIR ?= examples/quickstart
C4S      := $(BIN) --dir $(DEMO_DIR) --sandbox --no-color

.PHONY: all build demo test vet fuzz bench clean azurite cross release release-files image

all: build

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/c4sctl

# demo: a fresh sandbox tenant and org; plan and apply. Things no API can do happen in between,
# as they would for real: the admin installs the Salesforce connected app (guide step 6), a
# seller's first sign-in creates msdyn_viva (step 7), and the plan after it asks the admin to add
# c4sctl's app to msdyn_viva as an application user, which the admin does. The second apply
# finishes the job and the plan after it prints "No changes."; then the sellers who are ready are
# welcomed (guide step 9; stdin is not a terminal, so nobody is asked). status then tells the
# truth about the seeded org: 193 of 200 sellers ready, 7 held back by their Salesforce users
# (seller 13 has no Federation ID, 97 and 194 are inactive, 50, 100, 150 and 200 have the Read
# Only profile: no permission set, no API Enabled, not let through the connected app), steps 4,
# 6 and 9 not done, exit 2, with the fix for each. The admin makes those fixes in Setup > Users >
# Edit (sandbox salesforce edit-user), the next apply assigns the permission set, the 7 are
# welcomed, and status shows every step done and 200 of 200 ready, with the clocks (exit 0).
demo: build
	rm -rf $(DEMO_DIR)/.c4sctl
	$(C4S) validate
	$(C4S) plan
	$(C4S) apply --auto-approve || test $$? -eq 4 # 4: applied, but manual steps and deferred resources remain
	$(C4S) sandbox salesforce install-app
	$(C4S) sandbox sign-in seller@contoso-sandbox.onmicrosoft.com
	$(C4S) plan
	$(C4S) sandbox dataverse add-app-user
	$(C4S) apply --auto-approve
	$(C4S) plan --detailed-exitcode
	$(C4S) welcome --send --ready-only --per-minute 100000 </dev/null >/dev/null
	$(C4S) status || test $$? -eq 2 # 2: not ready, 7 sellers' Salesforce users (the final status must exit 0)
	$(C4S) sandbox salesforce edit-user seller013@contoso-sandbox.example --federation-id user00013@contoso-sandbox.onmicrosoft.com
	$(C4S) sandbox salesforce edit-user seller097@contoso-sandbox.example --active=true
	$(C4S) sandbox salesforce edit-user seller194@contoso-sandbox.example --active=true
	for u in 050 100 150 200; do $(C4S) sandbox salesforce edit-user seller$$u@contoso-sandbox.example --profile "Standard User" || exit 1; done
	$(C4S) apply --auto-approve
	$(C4S) welcome --send --ready-only --per-minute 100000 </dev/null >/dev/null
	$(C4S) status

# examples/fleet is a module of its own (its test needs sigs.k8s.io/yaml and k8s.io/api, which
# c4sctl does not): ./... does not reach it, so vet and test name it.
FLEET_EXAMPLES := examples/fleet

vet:
	$(GO) vet ./...
	cd $(FLEET_EXAMPLES) && $(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt would change:"; gofmt -l $$(git ls-files '*.go'); exit 1; }

test: vet azurite
	$(GO) test -count=1 ./...
	cd $(FLEET_EXAMPLES) && $(GO) test -count=1 ./...

# azurite: the Azure Storage emulator the azurerm backend tests start (internal/azurite), installed
# by npm from the committed tools/azurite/package-lock.json when missing (a fresh machine needs
# nothing by hand). Install scripts are not run: Azurite needs none.
AZURITE := tools/azurite/node_modules/.bin/azurite-blob
azurite: $(AZURITE)
$(AZURITE): tools/azurite/package.json tools/azurite/package-lock.json
	npm ci --prefix tools/azurite --ignore-scripts --no-audit --no-fund --loglevel=error
	@touch $@

# Longer fuzzing than the seed-corpus runs `make test` does (each target in turn);
# FUZZTIME=5m make fuzz.
FUZZTIME ?= 30s
fuzz:
	$(GO) test ./pkg/spec -run '^$$' -fuzz '^FuzzLoadFiles$$' -fuzztime $(FUZZTIME)
	$(GO) test ./pkg/spec -run '^$$' -fuzz '^FuzzVariableInputs$$' -fuzztime $(FUZZTIME)
	$(GO) test ./pkg/planfile -run '^$$' -fuzz '^FuzzDecodePlanFile$$' -fuzztime $(FUZZTIME)
	$(GO) test ./pkg/plan -run '^$$' -fuzz '^FuzzFromJSON$$' -fuzztime $(FUZZTIME)

# bench: the large-tenant benchmark (README "Performance"): c4sctl against the sandbox and a naive
# per-record client, the throttle and 20%-fault scenarios, and the configuration load time of
# `c4sctl validate` on 10,000 resources and on a 5 MB file, and the fleet simulation (drift over
# 100 sandbox tenants as an Indexed Job against Azurite state, bench/fleet_test.go); a table on
# stdout, about 4 minutes on 2 cores. Scale it down with BENCH_USERS=5000 BENCH_SELLERS=2000
# BENCH_FLEET_TENANTS=20 (see bench/bench_test.go, bench/fleet_test.go).
bench: build azurite
	$(GO) test -run '^$$' -bench . -benchtime 1x -timeout 30m ./bench/...

# cross: the build and vet on the platforms admins use besides Linux on amd64; .ci/run runs it.
# vet type-checks the test files too, so a test that calls a Unix-only API (syscall.Kill,
# Rusage.Maxrss) without a build-tagged file per OS fails here, not on an admin's Windows machine.
CROSS_PLATFORMS ?= windows/amd64 darwin/arm64 linux/arm64
cross:
	set -e; for p in $(CROSS_PLATFORMS); do \
		echo "== build and vet $$p"; \
		GOOS=$${p%/*} GOARCH=$${p#*/} $(GO) build ./...; \
		GOOS=$${p%/*} GOARCH=$${p#*/} $(GO) vet ./...; \
		(cd $(FLEET_EXAMPLES) && GOOS=$${p%/*} GOARCH=$${p#*/} $(GO) vet ./...); \
	done

# release: dist/c4sctl_VERSION_OS_ARCH.tar.gz (.zip for Windows) for each platform, each holding
# the directory c4sctl_VERSION_OS_ARCH/ with the binary and RELEASE_FILES, and dist/SHA256SUMS.
# Reproducible: -trimpath, no symbol tables, no cgo, archive entries with a fixed owner and the
# commit's time, gzip without a name or timestamp. VERSION comes from git describe.
RELEASE_PLATFORMS ?= linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64 windows/arm64
DIST     := dist
SRC_DATE := $(shell git log -1 --format=%ct 2>/dev/null || echo 0)
release:
	rm -rf $(DIST) && mkdir -p $(DIST)
	set -e; for p in $(RELEASE_PLATFORMS); do \
		os=$${p%/*}; arch=$${p#*/}; name=c4sctl_$(VERSION)_$${os}_$${arch}; ext=; \
		[ $$os = windows ] && ext=.exe; \
		mkdir -p $(DIST)/$$name; \
		CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch $(GO) build -trimpath -ldflags "-s -w $(LDFLAGS)" \
			-o $(DIST)/$$name/c4sctl$$ext ./cmd/c4sctl; \
		$(MAKE) -s release-files STAGE=$(DIST)/$$name; \
		find $(DIST)/$$name -exec touch -h -d @$(SRC_DATE) {} +; \
		if [ $$os = windows ]; then \
			(cd $(DIST) && find $$name | LC_ALL=C sort | TZ=UTC zip -q -X -@ $$name.zip); \
		else \
			tar -C $(DIST) --sort=name --owner=0 --group=0 --numeric-owner --mtime=@$(SRC_DATE) \
				-cf - $$name | gzip -n -9 > $(DIST)/$$name.tar.gz; \
		fi; \
		rm -rf $(DIST)/$$name; \
	done
	cd $(DIST) && sha256sum $$(LC_ALL=C ls | grep -E '\.(tar\.gz|zip)$$') > SHA256SUMS # no .zip without Windows in RELEASE_PLATFORMS
	@cat $(DIST)/SHA256SUMS

# release-files: what each release archive holds besides the binary, copied into STAGE with their
# paths: the licence, the README and the example configuration for a real tenant, which
# docs/getting-started-real.md step 1 copies (cmd/c4sctl's TestReleaseArchiveHoldsWhatTheDocsCopy
# stages them and checks the paths that step names). Directories go in without state (.c4sctl).
RELEASE_FILES := LICENSE README.md examples/real-tenant
release-files:
	@test -n "$(STAGE)" || { echo "release-files: set STAGE=DIR" >&2; exit 1; }
	set -e; for f in $$(find $(RELEASE_FILES) -type f ! -path '*/.c4sctl/*' | LC_ALL=C sort); do \
		mkdir -p "$(STAGE)/$$(dirname $$f)"; cp "$$f" "$(STAGE)/$$f"; \
	done

# image: the container image (Dockerfile) for pipelines, tagged with VERSION. Needs a Docker
# daemon, which CI here does not have: cmd/c4sctl's tests check the Dockerfile's build matches
# `make release` instead.
image:
	docker build --build-arg VERSION=$(VERSION) --build-arg COMMIT=$(COMMIT) -t c4sctl:$(VERSION) .

clean:
	rm -rf bin dist $(DEMO_DIR)/.c4sctl tools/azurite/node_modules
