# maicache: build, test and demo entry points.
#
#   make          daemon, tools and the module for every kernel found
#   make check    every test: unit (Check), KUnit (UML), the packages, VM on 6.1 and 6.12
#   make demo     the main job, end to end in a VM
#   make deb      the Debian packages maicache and maicache-dkms, in build/deb/
#
# Each target first runs `make deps`, which installs whatever is missing;
# `make DEPS=none ...` builds with what is installed (the package build, whose
# dependencies are debian/control's Build-Depends).

SHELL := /bin/bash
# `make` alone builds what `make all` does, not the first rule below.
.DEFAULT_GOAL := all
ROOT := $(CURDIR)
BUILD := $(ROOT)/build
export MAICACHE_CACHE ?= $(ROOT)/.cache

CC ?= cc
# Where `make install` puts maicache (the package build: /usr).
PREFIX ?= /usr/local
CFLAGS ?= -O2 -g
WARNFLAGS := -Wall -Wextra -Werror -std=gnu11
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
# Deferred: pkg-config only works once `deps` has installed the -dev packages.
NL_CFLAGS = $(shell pkg-config --cflags libnl-genl-3.0)
NL_LIBS = $(shell pkg-config --libs libnl-genl-3.0)
CHECK_LIBS = $(shell pkg-config --libs check)

# User space is built as one static library per folder, each compiled
# with the include paths of the folders it may use and nothing else, so an
# include against the dependency direction does not build
# (docs/architecture.md):
#
#   lib/     libmaicache.a  ring client, netlink and control clients, utilities
#   loop/    libmcloop.a    the event loop engines
#   azure/   libmcazure.a   credentials and the Blob client
#   peer/    libmcpeer.a    the cache group: keys, placement, wire, auth, single flight, TCP
#   userd/   libmaicached.a the daemon (maicached.c holds main())
#   agent/   libmcagent.a   the Kubernetes node agent (maicache-agent.c holds main())
#
# and the system libraries each needs when it is linked.
INC_lib := -Iproto -Ilib
INC_loop := -Ilib -Iloop
INC_azure := -Iproto -Ilib -Iloop -Iazure
INC_peer := -Iproto -Ilib -Iloop -Ipeer
INC_userd := -Iproto -Ilib -Iloop -Iazure -Ipeer -Iuserd
INC_tools := -Iproto -Ilib -Iloop -Iazure -Ipeer -Itools -Itools/sim
# The agent is a client, as maicachectl is: lib/ and azure/'s credentials
# (deferred, as pkg-config is above: libblkid's header is in a folder of its own).
INC_agent = -Iproto -Ilib -Iazure -Iagent $(shell pkg-config --cflags mount blkid)
INC_tests := -Iproto -Ilib -Iloop -Iazure -Ipeer -Iuserd -Iagent -Itools -Itests/filler -Itests/blob -Itests/unit -Itests/etcd
LIBS_lib = $(NL_LIBS)
LIBS_loop = $(shell pkg-config --libs liburing) -laio
LIBS_azure = $(shell pkg-config --libs libcurl libcrypto)
LIBS_cred = $(shell pkg-config --libs libcrypto)
# ISA-L for CRC32C at memory speed (peer/crc.h says why); jansson for
# etcd's JSON (peer/etcd.h); libcurl for etcd's HTTP (peer/etcd_session.h);
# rdma-core's librdmacm and libibverbs for the RDMA transport (peer/rdma.h).
LIBS_peer = $(shell pkg-config --libs libcrypto libisal jansson libcurl librdmacm libibverbs)
# libmicrohttpd for GET /metrics (userd/metrics.h).
LIBS_userd = $(shell pkg-config --libs libmicrohttpd)
# util-linux's libmount (the mount table) and libblkid (what an image holds).
LIBS_agent = $(shell pkg-config --libs mount blkid)

SRCS_maicache := $(wildcard lib/*.c)
SRCS_mcloop := $(wildcard loop/*.c)
SRCS_mcazure := $(wildcard azure/*.c)
SRCS_mcpeer := $(wildcard peer/*.c)
SRCS_maicached := $(filter-out userd/maicached.c,$(wildcard userd/*.c))
SRCS_mcagent := $(filter-out agent/maicache-agent.c,$(wildcard agent/*.c))
SRCS_mcfiller := tests/filler/filler.c
# maicachectl's pure logic (warmup plans, progress, top's arithmetic), apart
# so that the unit tests link it.
SRCS_mcctl := tools/warm_plan.c tools/progress.c tools/top_calc.c
ARCHIVES := mcctl mcfiller mcagent maicached mcpeer mcazure mcloop maicache
UNIT_TESTS := $(patsubst tests/unit/%.c,%,$(wildcard tests/unit/check_*.c))

# Objects: build/obj/<path>.o, and build/asan/<path>.o for the unit tests.
# CPPFLAGS and LDFLAGS are empty here and dpkg-buildflags' in the package build.
$(BUILD)/obj/%.o: %.c | deps
	@mkdir -p $(@D)
	$(CC) $(INC_$(firstword $(subst /, ,$*))) $(NL_CFLAGS) $(CPPFLAGS) $(CFLAGS) $(WARNFLAGS) -MMD -MP -c -o $@ $<
$(BUILD)/asan/%.o: %.c | deps
	@mkdir -p $(@D)
	$(CC) $(INC_$(firstword $(subst /, ,$*))) $(NL_CFLAGS) $(TEST_DEFS) -O1 -g $(WARNFLAGS) $(SANFLAGS) -MMD -MP -c -o $@ $<
# check_dist_conf reads the packaged default configuration from the tree.
$(BUILD)/asan/tests/unit/check_dist_conf.o: TEST_DEFS := -DMC_DIST_CONF='"$(ROOT)/dist/maicached.conf"'
-include $(shell find $(BUILD)/obj $(BUILD)/asan -name '*.d' 2>/dev/null)
# Objects made by chained pattern rules are kept, not deleted as intermediates.
.SECONDARY:

# $(1): obj or asan; $(2): archive name.
define archive
$(BUILD)/$(1)/lib$(2).a: $(patsubst %.c,$(BUILD)/$(1)/%.o,$(SRCS_$(2)))
	@rm -f $$@
	ar rcs $$@ $$^
endef
$(foreach v,obj asan,$(foreach a,$(ARCHIVES),$(eval $(call archive,$(v),$(a)))))
A = $(BUILD)/obj
S = $(BUILD)/asan

.PHONY: all deps user unit module check demo dkms-install install packaged deb clean fuzz fuzz-build

all: user module

deps:
ifneq ($(DEPS),none)
	@scripts/deps.sh
endif

user: $(BUILD)/user/maicached $(BUILD)/user/maicachectl $(BUILD)/user/maicache-agent $(BUILD)/user/mc-filler $(BUILD)/user/mc-pattern-check \
	$(BUILD)/user/policy-sim $(BUILD)/user/placement-sim $(BUILD)/user/cluster-sim

include tests/vm/tools/tools.mk
user: $(addprefix $(BUILD)/user/,$(VM_TOOLS))
# Per-tool extra libraries: `$(BUILD)/user/<name>: LDLIBS += ...` in tools.mk.
$(addprefix $(BUILD)/user/,$(VM_TOOLS)): $(BUILD)/user/%: tests/vm/tools/%.c | deps
	@mkdir -p $(@D)
	$(CC) -Iproto -Itools/sim $(NL_CFLAGS) $(CFLAGS) $(WARNFLAGS) -o $@ $< $(NL_LIBS) $(LDLIBS)

# The test daemon and pattern checker used by the VM tests.
$(BUILD)/user/mc-%: $(A)/tests/filler/mc-%.o $(A)/libmcfiller.a $(A)/libmaicache.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $^ -luring

# The eviction policy's own code, replayed against LRU in user space.
$(BUILD)/user/policy-sim: tools/sim/policy-sim.c kmod/policy.c kmod/policy.h tools/sim/policy_user.h tools/sim/splitmix64.h | deps
	@mkdir -p $(@D)
	$(CC) -Itools/sim -Ikmod $(CFLAGS) $(WARNFLAGS) -o $@ tools/sim/policy-sim.c kmod/policy.c

# The CLI: the shared library and the credential code, and so neither
# libcurl nor the event loop's liburing and libaio (tests/unit/ldd.sh).
# The cache group's placement code over synthetic groups (docs/peers.md).
$(BUILD)/user/placement-sim: $(A)/tools/sim/placement-sim.o $(A)/libmcpeer.a $(A)/libmaicache.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $^ $(LIBS_peer)

# A checkpoint herd on a cluster, run by the group's own placement,
# single-flight and fan-out code (docs/scale.md).
$(BUILD)/user/cluster-sim: $(A)/tools/sim/cluster-sim.o $(A)/libmcpeer.a $(A)/libmaicache.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $^ $(LIBS_peer)

# One group's etcd sessions against a real etcd (tools/bench/etcd-bench.sh).
user: $(BUILD)/user/etcd-group-bench
$(BUILD)/user/etcd-group-bench: $(A)/tools/bench/etcd-group-bench.o $(A)/libmcpeer.a $(A)/libmcloop.a $(A)/libmaicache.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $^ $(LIBS_peer) $(LIBS_loop) $(LIBS_lib)

# The held-extents ABI driven as the daemon drives it.
user: $(BUILD)/user/mc-held-probe
$(BUILD)/user/mc-held-probe: $(A)/tests/vm/tools/mc-held-probe.o $(A)/libmaicache.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $^ $(LIBS_lib)

# The peer transport between two nodes of a multi-VM test, and a hostile peer.
user: $(BUILD)/user/mc-peer-probe $(BUILD)/user/mc-bad-peer
$(BUILD)/user/mc-peer-probe $(BUILD)/user/mc-bad-peer: $(BUILD)/user/%: $(A)/tests/vm/tools/%.o $(A)/libmcpeer.a $(A)/libmcloop.a $(A)/libmaicache.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $^ $(LIBS_peer) $(LIBS_loop) $(LIBS_lib)

CTL_OBJS := $(A)/tools/maicachectl.o $(A)/tools/ctl_volumes.o $(A)/tools/ctl_peers.o \
	$(A)/tools/ctl_warmup.o $(A)/tools/ctl_top.o
# ncurses for top's full-screen view (tools/ctl_top.c).
LIBS_curses = $(shell pkg-config --libs ncursesw)
$(BUILD)/user/maicachectl: $(CTL_OBJS) $(A)/libmcctl.a $(A)/libmcazure.a $(A)/libmaicache.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LIBS_cred) $(LIBS_lib) $(LIBS_curses)

# The node agent: like the CLI, the control client and the credential code only.
$(BUILD)/user/maicache-agent: $(A)/agent/maicache-agent.o $(A)/libmcagent.a $(A)/libmcazure.a $(A)/libmaicache.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LIBS_agent) $(LIBS_cred)

$(BUILD)/user/maicached: $(A)/userd/maicached.o $(addprefix $(A)/lib,maicached.a mcpeer.a mcazure.a mcloop.a maicache.a)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LIBS_userd) $(LIBS_peer) $(LIBS_azure) $(LIBS_loop) $(LIBS_lib)

# Unit tests always run under AddressSanitizer and UBSan, against the
# sanitized archives (each program pulls in what it uses).
UNIT_ARCHIVES := $(addprefix $(S)/lib,$(addsuffix .a,$(ARCHIVES)))
$(BUILD)/unit/%: $(S)/tests/unit/%.o $(UNIT_ARCHIVES)
	@mkdir -p $(@D)
	$(CC) $(SANFLAGS) -o $@ $< $(UNIT_ARCHIVES) $(LIBS_agent) $(LIBS_userd) $(LIBS_peer) $(LIBS_azure) $(LIBS_loop) $(LIBS_lib) $(CHECK_LIBS)

# The blob client against Azurite (tests/blob/run.sh runs it).
$(BUILD)/blob/blob-client-test: $(S)/tests/blob/blob-client-test.o $(S)/tests/blob/blob-put.o $(UNIT_ARCHIVES)
	@mkdir -p $(@D)
	$(CC) $(SANFLAGS) -o $@ $^ $(LIBS_azure) $(LIBS_loop) $(LIBS_lib)
# ... and through tests/blob/hostile-proxy.py, which spoils its answers.
$(BUILD)/blob/blob-hostile-test: $(S)/tests/blob/blob-hostile-test.o $(S)/tests/blob/blob-put.o $(UNIT_ARCHIVES)
	@mkdir -p $(@D)
	$(CC) $(SANFLAGS) -o $@ $^ $(LIBS_azure) $(LIBS_loop) $(LIBS_lib)

# peer/etcd.c and peer/etcd_session.c against a real etcd (tests/etcd/run.sh runs them).
ETCD_TESTS := $(BUILD)/etcd/etcd-client-test $(BUILD)/etcd/etcd-session-test
$(ETCD_TESTS): $(BUILD)/etcd/%: $(S)/tests/etcd/%.o $(UNIT_ARCHIVES)
	@mkdir -p $(@D)
	$(CC) $(SANFLAGS) -o $@ $^ $(LIBS_peer) $(LIBS_azure) $(LIBS_loop) $(LIBS_lib)

unit: $(addprefix $(BUILD)/unit/,$(UNIT_TESTS)) $(BUILD)/blob/blob-client-test $(BUILD)/blob/blob-hostile-test $(ETCD_TESTS)

# `make build/unit/check_x` from the top of the tree works too.
ifneq ($(BUILD),build)
build/unit/%: $(BUILD)/unit/% ; @:
build/user/%: $(BUILD)/user/% ; @:
build/blob/%: $(BUILD)/blob/% ; @:
build/etcd/%: $(BUILD)/etcd/% ; @:
endif

# One build tree per kernel: scripts/build-kmod.sh fails on any warning.
# The + hands make's jobserver down, so `make -j2` builds the module too.
module: | deps
	+@kvers=$$(scripts/kernels.sh); [ -n "$$kvers" ] || { echo "no kernel headers found" >&2; exit 1; }; \
	for k in $$kvers; do scripts/build-kmod.sh $$k || exit 1; done

check: all unit deb
	@tests/run-all.sh

# Fuzzers (libFuzzer: clang, ASan + UBSan) for the parsers of bytes from
# outside, one program per parser (tests/fuzz/fuzz_*.c), each compiled with
# the sources it parses with. `make fuzz` runs each FUZZ_SECONDS; make check
# runs each over its seed corpus and briefly beyond (tests/fuzz/run.sh).
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 60
FUZZ_FLAGS := -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	-Iproto -Ilib -Iloop -Ipeer -Iazure -Iuserd
FUZZ_TARGETS := $(patsubst tests/fuzz/%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_SRCS := peer/wire.c peer/auth.c peer/key.c peer/etcd.c peer/members.c peer/node_id.c \
	peer/placement.c peer/fanout.c peer/idmap.c userd/config.c lib/errmsg.c lib/secret.c lib/parse.c lib/ctl_msg.c azure/az_url.c \
	azure/az_resp.c azure/az_sign.c azure/cred.c
# What only some fuzzers need: a state record's credential is the blob
# source's, which brings the blob client and the event loop.
FUZZ_SRCS_fuzz_state := userd/state.c userd/source.c userd/source_blob.c userd/source_file.c \
	azure/blob.c lib/retry.c $(wildcard loop/*.c)
FUZZ_LIBS_fuzz_state := $(LIBS_loop)
FUZZ_SRCS_fuzz_ring := lib/miss_ring.c lib/ring_hdr.c
FUZZ_SRCS_fuzz_miss_check := userd/miss_check.c
FUZZ_CFLAGS_fuzz_nl := $(NL_CFLAGS)
FUZZ_LIBS_fuzz_nl := $(NL_LIBS)
# Each source is compiled once for all the fuzzers (build/fuzz/obj/).
fuzz_obj = $(patsubst %.c,$(BUILD)/fuzz/obj/%.o,$(1))
$(BUILD)/fuzz/obj/%.o: %.c | deps
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_FLAGS) $(NL_CFLAGS) -MMD -MP -c -o $@ $<
-include $(shell find $(BUILD)/fuzz/obj -name '*.d' 2>/dev/null)
$(BUILD)/fuzz/fuzz_state: $(call fuzz_obj,$(FUZZ_SRCS_fuzz_state))
$(BUILD)/fuzz/fuzz_ring: $(call fuzz_obj,$(FUZZ_SRCS_fuzz_ring))
$(BUILD)/fuzz/fuzz_miss_check: $(call fuzz_obj,$(FUZZ_SRCS_fuzz_miss_check))
$(BUILD)/fuzz/fuzz_nl: lib/nlclient.c
$(BUILD)/fuzz/%: tests/fuzz/%.c $(call fuzz_obj,$(FUZZ_SRCS)) | deps
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_FLAGS) $(FUZZ_CFLAGS_$*) -MMD -MP -MF $@.d -o $@ $< \
		$(call fuzz_obj,$(FUZZ_SRCS) $(FUZZ_SRCS_$*)) \
		$(shell pkg-config --libs libcrypto jansson libcurl) $(FUZZ_LIBS_$*)
-include $(wildcard $(BUILD)/fuzz/*.d)
fuzz-build: $(addprefix $(BUILD)/fuzz/,$(FUZZ_TARGETS))
fuzz: fuzz-build
	@FUZZ_SECONDS=$(FUZZ_SECONDS) tests/fuzz/run.sh

demo: all
	@tests/demo.sh

# Install the module sources for DKMS (node images): built for every
# installed kernel now and on kernel upgrades.
dkms-install: | deps
	@src=$$(scripts/dkms-source.sh) && v=$${src##*-} && \
	dkms add maicache/$$v && dkms install maicache/$$v

# The systemd unit with the paths of an install under PREFIX (one file per
# PREFIX: `make install` and the package build may share a tree).
UNIT := $(BUILD)/dist$(PREFIX)/maicached.service
$(UNIT): dist/maicached.service.in
	@mkdir -p $(@D)
	sed -e 's|@SBINDIR@|$(PREFIX)/sbin|g' -e 's|@DOCDIR@|$(PREFIX)/share/doc/maicache|g' $< >$@

# What the maicache package installs that is built (debian/rules).
packaged: $(BUILD)/user/maicached $(BUILD)/user/maicachectl $(BUILD)/user/maicache-agent $(UNIT)

# The Debian packages, built from a copy of the tree (scripts/build-deb.sh).
deb: | deps
	@scripts/build-deb.sh

# The daemon, the CLI, the systemd unit, the udev rules, the man pages and
# the docs, on this node (the packages install the same, under /usr).
install: user $(UNIT)
	install -D -m 0755 $(BUILD)/user/maicached $(DESTDIR)$(PREFIX)/sbin/maicached
	install -D -m 0755 $(BUILD)/user/maicachectl $(DESTDIR)$(PREFIX)/sbin/maicachectl
	install -D -m 0755 $(BUILD)/user/maicache-agent $(DESTDIR)$(PREFIX)/sbin/maicache-agent
	install -D -m 0644 $(UNIT) $(DESTDIR)/etc/systemd/system/maicached.service
	install -D -m 0644 dist/60-maicache.rules $(DESTDIR)/etc/udev/rules.d/60-maicache.rules
	install -D -m 0644 -t $(DESTDIR)$(PREFIX)/share/man/man8 dist/man/maicached.8 dist/man/maicachectl.8 \
		dist/man/maicache-agent.8
	install -D -m 0644 -t $(DESTDIR)$(PREFIX)/share/doc/maicache README.md
	install -D -m 0644 -t $(DESTDIR)$(PREFIX)/share/doc/maicache/docs docs/*.md

clean:
	rm -rf $(BUILD)
