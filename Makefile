# maicache: build, test and demo entry points.
#
#   make          daemon, tools and the module for every kernel found
#   make check    every test: unit (Check), KUnit (UML), VM on 6.1 and 6.12
#   make demo     the main job, end to end in a VM
#
# Each target first runs `make deps`, which installs whatever is missing.

SHELL := /bin/bash
ROOT := $(CURDIR)
BUILD := $(ROOT)/build
export MAICACHE_CACHE ?= $(ROOT)/.cache

CC ?= cc
CFLAGS ?= -O2 -g
WARNFLAGS := -Wall -Wextra -Werror -std=gnu11
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
CPPFLAGS += -I$(ROOT)/proto -I$(ROOT)/userd
# Deferred: pkg-config only works once `deps` has installed the -dev packages.
PKG_CFLAGS = $(shell pkg-config --cflags libnl-genl-3.0)
PKG_LIBS = $(shell pkg-config --libs libnl-genl-3.0)
CHECK_LIBS = $(shell pkg-config --libs check)
# The daemon's libraries: libcurl (Blob REST), OpenSSL (Shared Key HMAC),
# liburing and libaio (the two event-loop engines).
USERD_LIBS = $(PKG_LIBS) $(shell pkg-config --libs libcurl libcrypto liburing) -laio

# Everything in userd/ but the daemon's main() is library code, linked into
# maicached, maicachectl and the unit tests.
USERD_MAIN := userd/maicached.c
USERD_LIB_SRCS := $(filter-out $(USERD_MAIN),$(wildcard userd/*.c))
USERD_HDRS := $(wildcard userd/*.h proto/*.h)
UNIT_TESTS := $(patsubst tests/unit/%.c,%,$(wildcard tests/unit/check_*.c))

.PHONY: all deps user unit module check demo dkms-install install clean

all: user module

deps:
	@scripts/deps.sh

user: $(BUILD)/user/maicached $(BUILD)/user/maicachectl $(BUILD)/user/mc-filler $(BUILD)/user/mc-pattern-check \
	$(BUILD)/user/policy-sim

include tests/vm/tools/tools.mk
user: $(addprefix $(BUILD)/user/,$(VM_TOOLS))
# Per-tool extra libraries: `$(BUILD)/user/<name>: LDLIBS += ...` in tools.mk.
$(addprefix $(BUILD)/user/,$(VM_TOOLS)): $(BUILD)/user/%: tests/vm/tools/%.c $(USERD_HDRS) | deps
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -Itools/sim $(PKG_CFLAGS) $(CFLAGS) $(WARNFLAGS) -o $@ $< $(PKG_LIBS) $(LDLIBS)

# The test daemon and pattern checker used by the VM tests.
FILLER_SRCS := tests/filler/filler.c userd/ring_hdr.c
$(BUILD)/user/mc-%: tests/filler/mc-%.c $(FILLER_SRCS) tests/filler/filler.h proto/maicache_ring.h | deps
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -Itests/filler $(CFLAGS) $(WARNFLAGS) -o $@ $< $(FILLER_SRCS) -luring

# The eviction policy's own code, replayed against LRU in user space.
$(BUILD)/user/policy-sim: tools/sim/policy-sim.c kmod/policy.c kmod/policy.h tools/sim/policy_user.h tools/sim/splitmix64.h | deps
	@mkdir -p $(@D)
	$(CC) -Itools/sim -Ikmod $(CFLAGS) $(WARNFLAGS) -o $@ tools/sim/policy-sim.c kmod/policy.c

CTL_SRCS := tools/maicachectl.c tools/ctl_volumes.c
$(BUILD)/user/maicachectl: $(CTL_SRCS) tools/maicachectl.h $(USERD_LIB_SRCS) $(USERD_HDRS) | deps
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(PKG_CFLAGS) $(CFLAGS) $(WARNFLAGS) -o $@ \
		$(CTL_SRCS) $(USERD_LIB_SRCS) $(USERD_LIBS)

$(BUILD)/user/maicached: $(USERD_MAIN) $(USERD_LIB_SRCS) $(USERD_HDRS) | deps
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(PKG_CFLAGS) $(CFLAGS) $(WARNFLAGS) -o $@ \
		$(USERD_MAIN) $(USERD_LIB_SRCS) $(USERD_LIBS)

# Unit tests always run under AddressSanitizer and UBSan.
$(BUILD)/unit/%: tests/unit/%.c $(wildcard tests/unit/*.h) $(USERD_LIB_SRCS) $(USERD_HDRS) $(wildcard tests/filler/*.[ch]) | deps
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(PKG_CFLAGS) -O1 -g $(WARNFLAGS) $(SANFLAGS) -o $@ \
		$< $(USERD_LIB_SRCS) $(USERD_LIBS) $(CHECK_LIBS)

unit: $(addprefix $(BUILD)/unit/,$(UNIT_TESTS))

# `make build/unit/check_x` from the top of the tree works too.
ifneq ($(BUILD),build)
build/unit/%: $(BUILD)/unit/% ; @:
build/user/%: $(BUILD)/user/% ; @:
endif

# One build tree per kernel: scripts/build-kmod.sh fails on any warning.
module: | deps
	@kvers=$$(scripts/kernels.sh); [ -n "$$kvers" ] || { echo "no kernel headers found" >&2; exit 1; }; \
	for k in $$kvers; do scripts/build-kmod.sh $$k || exit 1; done

check: all unit
	@tests/run-all.sh

demo: all
	@tests/demo.sh

# Install the module sources for DKMS (node images): built for every
# installed kernel now and on kernel upgrades.
dkms-install: | deps
	@src=$$(scripts/dkms-source.sh) && v=$${src##*-} && \
	dkms add maicache/$$v && dkms install maicache/$$v

# The daemon, the CLI, the systemd unit and the docs, on this node.
PREFIX ?= /usr/local
install: user
	install -D -m 0755 $(BUILD)/user/maicached $(DESTDIR)$(PREFIX)/sbin/maicached
	install -D -m 0755 $(BUILD)/user/maicachectl $(DESTDIR)$(PREFIX)/sbin/maicachectl
	install -D -m 0644 dist/maicached.service $(DESTDIR)/etc/systemd/system/maicached.service
	install -d -m 0755 $(DESTDIR)$(PREFIX)/share/doc/maicache
	install -m 0644 docs/*.md $(DESTDIR)$(PREFIX)/share/doc/maicache/

clean:
	rm -rf $(BUILD)
