# pppoed build, test and packaging.
#
#   make            host binary ./pppoed, with the load client (pppoed client)
#   GOARCH=mipsle make
#                   a mipsle router binary: the daemon without the load client
#   make cross      every router architecture into dist/
#   make test       what CI runs: deps, vet, race tests, alloc tests, a short fuzz pass
#   make fuzz       each fuzz target for FUZZTIME
#   sudo make demo  a throwaway lab that shows pppoed answering real clients
#   sudo make load  setup rate achieved against offered, 1,000 to 20,000/s

GO       ?= go
VERSION  := $(shell cat VERSION)
HOSTARCH := $(shell $(GO) env GOHOSTARCH)
GOARCH   ?= $(HOSTARCH)
FUZZTIME ?= 30s
LDFLAGS  := -s -w -X main.version=$(VERSION)
# fmt, reflect and the TOML decoder are compiled without inlining. None of
# them runs per packet (STYLE.md keeps fmt and reflection out of codecs and
# the data path), and inlined they cost the mipsle daemon 131 KB: since Go
# 1.26 fmt.Errorf is inlined at every one of its call sites, and reflect's
# small methods into every caller in fmt, json.go and the TOML decoder.
# openwrt/Makefile passes the same list.
NOINLINE := fmt reflect github.com/BurntSushi/toml
GCFLAGS  := $(foreach p,$(NOINLINE),-gcflags=$(p)=-l)
# Every binary we ship is static and reproducible. A router binary (any
# other GOARCH, make cross, make ipk) leaves the load client out.
BUILD    := CGO_ENABLED=0 GOMIPS=softfloat GOARM=7 $(GO) build -trimpath $(GCFLAGS) -ldflags "$(LDFLAGS)"
ROUTER   := $(BUILD) -tags noclient
HOSTTAGS := $(if $(filter $(HOSTARCH),$(GOARCH)),,-tags noclient)
CROSS    := mipsle mips arm arm64 amd64
FUZZ     := FuzzParseDiscovery FuzzTagIter FuzzParseLCP FuzzParseIPCP FuzzAuthMessages FuzzParseMSCHAPv2Response FuzzParseSecrets FuzzParseRadius FuzzRadcliConfig FuzzJSON FuzzParseDHCPv6 FuzzParseICMPv6

QEMU     := mips:qemu-mips mipsle:qemu-mipsel arm:qemu-arm arm64:qemu-aarch64

.PHONY: build cross test deps vet race allocs qemu fuzz demo load ipk vm-throughput vm-scale clean

build:
	GOARCH=$(GOARCH) $(BUILD) $(HOSTTAGS) -o pppoed .

cross:
	@mkdir -p dist
	@for a in $(CROSS); do \
		echo "build dist/pppoed-linux-$$a"; \
		GOOS=linux GOARCH=$$a $(ROUTER) -o dist/pppoed-linux-$$a . || exit 1; \
	done

deps:
	@./test/deps.sh

vet:
	$(GO) vet ./...

# The race detector needs cgo. Only the test binaries are built with it;
# the pppoed that the integration tests run is built like a release.
race:
	CGO_ENABLED=1 $(GO) test -race -count=1 -timeout 40m ./...

# The zero-allocation checks cannot run under -race (sync.Pool drops items
# on purpose there), so they run again without it, inlined as we ship.
allocs:
	CGO_ENABLED=0 $(GO) test $(GCFLAGS) -count=1 -run 'Allocs' ./...

# The unit tests again for each router architecture, under qemu-user:
# byte order, word size and the per-architecture ioctl numbers.
qemu:
	@for p in $(QEMU); do \
		a=$${p%%:*}; q=$${p##*:}; \
		echo "unit tests for $$a under $$q"; \
		GOARCH=$$a GOMIPS=softfloat GOARM=7 CGO_ENABLED=0 $(GO) test -short -count=1 -exec $$q . || exit 1; \
	done

fuzz:
	@for t in $(FUZZ); do \
		echo "fuzz $$t for $(FUZZTIME)"; \
		CGO_ENABLED=0 $(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) . || exit 1; \
	done

# A count, not a duration: Go 1.26's fuzz coordinator can report a bare
# "context deadline exceeded" when a -fuzztime duration runs out
# (golang/go#75804), which would fail CI with no crasher to show.
test: deps vet race allocs qemu
	@$(MAKE) --no-print-directory fuzz FUZZTIME=100000x

# make ipk ARCH=mipsel_24kc: dist/pppoed_$(VERSION)_<arch>.ipk for OpenWrt.
# test/ipk.sh knows the architectures and the GOARCH for each, and packs
# with pigz -11, which test/deps.sh installs when it is missing.
ipk:
	@test -n "$(ARCH)" || { echo "usage: make ipk ARCH=<$$(./test/ipk.sh --archs | tr ' ' '|')>" >&2; exit 2; }
	@command -v pigz >/dev/null || ./test/deps.sh pigz
	@goarch=$$(./test/ipk.sh --goarch "$(ARCH)") || exit 2; \
	mkdir -p dist; \
	echo "build dist/pppoed-openwrt-$(ARCH) (GOARCH=$$goarch)"; \
	GOOS=linux GOARCH=$$goarch $(ROUTER) -o dist/pppoed-openwrt-$(ARCH) . && \
	./test/ipk.sh "$(ARCH)" "$(VERSION)" dist/pppoed-openwrt-$(ARCH) dist

# iperf3 over one session in the VM: pppoed -k, pppoed --tun and rp-pppoe's
# kernel-mode pppoe-server, in one boot (root; about 2 minutes).
vm-throughput:
	@./test/vm/throughput.sh

# 1,000 sessions against pppoed -k in the VM: setup rate, RSS per session,
# flaps and teardown time (root; COUNT, RATE, HOLD, SERVER as the script says).
vm-scale:
	@./test/vm/scale.sh

demo: build
	@./test/demo.sh ./pppoed

# RATES, COUNT and SERVER (another pppoed to measure) as test/load.sh says.
load: build
	@./test/load.sh ./pppoed

clean:
	rm -rf pppoed dist
