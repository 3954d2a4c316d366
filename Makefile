# thermal — build, test, lint, bench, install.
#
#   make test    everything CI runs: Debian packages, lint, unit and integration tests
#   make unit    fast hermetic tests only (go test -short)
#   make build         bin/thermal: CGO_ENABLED=0, with NVML support (loads
#                      libnvidia-ml.so.1 at run time through purego, so it
#                      needs the dynamic loader and glibc, nothing else)
#   make build-static  bin/thermal-static: fully static, no NVML (musl hosts)

GO      ?= go
PREFIX  ?= /usr/local
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo devel)
LDFLAGS := -s -w -X main.version=$(VERSION)
# Pinned so that lint results do not change under our feet.
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
# Oracles and consumers the integration tests run: lm-sensors (sensors -j),
# node_exporter (serves the textfile), prometheus (the server and promtool),
# prometheus-alertmanager (and amtool), victoria-metrics, prometheus-pushgateway
# ([push] is tested against both), util-linux
# (unshare, mount), systemd (systemd-analyze for the units); and for the QEMU
# suite: qemu-system-x86, busybox-static, acpica-tools (iasl), nvme-cli,
# smartmontools and sg3-utils (the drives' oracles), openipmi (ipmi_sim, the
# BMC) and ipmitool (its oracle), strace, cpio, kmod (depmod), file, xz-utils. The suite downloads Debian's
# kernel package itself (apt-get download) into .cache/e2e. Node.js and npm
# (installed from Debian when missing) fetch Sentry's Spotlight, pinned in
# testdata/spotlight, into .cache/spotlight. python3-yaml parses the Helm values.
APT_PACKAGES := lm-sensors prometheus-node-exporter prometheus util-linux systemd \
	qemu-system-x86 busybox-static acpica-tools nvme-cli smartmontools sg3-utils openipmi ipmitool strace cpio kmod file xz-utils gzip \
	jq curl linux-perf time prometheus-alertmanager victoria-metrics prometheus-pushgateway gcc libc6-dev \
	python3 python3-yaml
# -race needs cgo; use it where a C compiler exists.
RACE := $(shell command -v gcc >/dev/null 2>&1 && echo -race)

GO_SOURCES := $(shell git ls-files '*.go' 2>/dev/null) go.mod go.sum

.PHONY: all build build-static test unit integration e2e lint bench install deps tools run clean

all: build

build: bin/thermal

bin/thermal: $(GO_SOURCES)
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $@ ./cmd/thermal

build-static: bin/thermal-static

bin/thermal-static: $(GO_SOURCES)
	CGO_ENABLED=0 $(GO) build -tags nonvml -trimpath -ldflags '$(LDFLAGS)' -o $@ ./cmd/thermal

# Installs the Debian packages the integration tests need, only when missing.
deps:
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; \
	done; \
	command -v npm >/dev/null 2>&1 || missing="$$missing nodejs npm"; \
	if [ -n "$$missing" ]; then \
	  echo "make deps: installing$$missing"; \
	  apt-get update -q && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing </dev/null; \
	fi

# The pinned staticcheck, built once into .cache/bin. A fresh machine
# builds it (about 3.5 minutes on 2 CPUs) while apt-get downloads and
# installs the packages, not after: `tools` runs both at once.
STATICCHECK_BIN := .cache/bin/staticcheck

$(STATICCHECK_BIN): go.mod
	GOBIN=$(CURDIR)/.cache/bin $(GO) install $(STATICCHECK)

tools:
	$(MAKE) --no-print-directory -j2 deps $(STATICCHECK_BIN)

test: tools lint build build-static
	THERMAL_INTEGRATION=require $(GO) test $(RACE) -count=1 ./...
	# The ioctl struct layout and the parsers on a 32-bit ABI (nonvml: purego
	# would make the 386 test binaries dynamic, and hosts have no 32-bit loader).
	GOARCH=386 $(GO) test -tags nonvml -short -count=1 ./nvme ./disk ./ipmi ./internal/sysread ./hwmon ./alert

unit:
	$(GO) test -short ./...

integration: deps
	THERMAL_INTEGRATION=require $(GO) test -count=1 -run Integration ./...

# The real-kernel suite alone: a Debian kernel under QEMU/TCG (no KVM needed).
e2e: deps
	THERMAL_INTEGRATION=require $(GO) test -count=1 -v ./e2e

lint:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	GOARCH=386 $(GO) vet ./...
	GOOS=darwin $(GO) build ./...
	$(GO) vet -tags nonvml ./...
	$(GO) mod tidy -diff
	$(MAKE) --no-print-directory $(STATICCHECK_BIN)
	$(STATICCHECK_BIN) ./...

# Go benchmarks (in process), then the side-by-side run against sensors -j
# and the shell pipeline (whole processes; needs root).
bench: deps
	$(GO) test -run '^$$' -bench . -benchmem ./...
	./scripts/bench-compare.sh

# Runs the main job against this machine's sensors, printing the textfile.
run: build
	bin/thermal beat --dry-run

install: build
	install -D -m 0755 bin/thermal $(DESTDIR)$(PREFIX)/bin/thermal
	# The unit's ReadWritePaths= must exist, or the unit does not start.
	install -d -m 0755 $(DESTDIR)/var/lib/prometheus/node-exporter
	# SENTRY_DSN and THERMAL_CHECKIN_URL go in /etc/thermal-heartbeat/env,
	# readable by root only: they are credentials.
	install -d -m 0755 $(DESTDIR)/etc/thermal-heartbeat
	[ -e $(DESTDIR)/etc/thermal-heartbeat/env ] || install -m 0600 /dev/null $(DESTDIR)/etc/thermal-heartbeat/env
	install -D -m 0644 systemd/thermal-heartbeat.service $(DESTDIR)/etc/systemd/system/thermal-heartbeat.service
	install -D -m 0644 systemd/thermal-heartbeat.timer $(DESTDIR)/etc/systemd/system/thermal-heartbeat.timer

clean:
	rm -rf bin .cache
