# uweb — one non-recursive GNU Makefile.
#
#   make            build the library, the apps and the tools for TARGET
#   make run        install what is missing, build, start the demo services
#   make test       install what is missing, build, run every test
#   make asan       the apps and tools built with ASan+UBSan (build/asan/)
#   make bench      run the side-by-side benchmarks in bench/
#
# Parts of the tree that build more than library code add their rules in a
# build.mk beside them (apps/crunchzip/build.mk, platform/build.mk, ...);
# they are included below, so everything is still one make invocation.

.DEFAULT_GOAL := all
# As many compile jobs as there are CPUs, unless make was given -j.
ifeq ($(filter -j%,$(MAKEFLAGS)),)
MAKEFLAGS += -j$(shell nproc 2>/dev/null || echo 1)
endif
SHELL := /bin/bash
TARGET ?= unix
B := build
ROOT := $(CURDIR)

CC := gcc
CLANG := clang
WARN := -Wall -Wextra -Werror -Wno-missing-field-initializers
CPPFLAGS := -Iinclude -I$(B)/include -I$(B)/deb/node-llhttp/usr/share/include/llhttp -D_GNU_SOURCE
CFLAGS := -std=gnu11 -O2 -g $(WARN) -fno-strict-aliasing
ASAN_FLAGS := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDLIBS := -lz

# Debian packages a fresh machine needs; build.mk fragments append theirs.
DEB_PACKAGES := gcc make clang llvm libclang-rt-14-dev curl python3 \
  zlib1g-dev libbrotli-dev libzstd-dev iproute2 procps socat
# The browser test: chromium driven by playwright-core, which npm fetches
# (Debian's nodejs does not ship npm).
DEB_PACKAGES += nodejs npm chromium

# ---------------------------------------------------------------- deps
# Installs missing packages (only when missing) and fetches the Debian
# packages whose sources we compile (llhttp).  Re-run when a list changes.
$(B)/.deps-ok: Makefile $(wildcard */build.mk */*/build.mk) scripts/deps.sh
	@mkdir -p $(B)
	@scripts/deps.sh $(sort $(DEB_PACKAGES))
	@touch $@

LLHTTP_DIR := $(B)/deb/node-llhttp/usr/share/llhttp
$(LLHTTP_DIR)/api.c: | $(B)/.deps-ok
	@scripts/fetch-deb.sh node-llhttp $(B)/deb/node-llhttp
	@test -f $@ && touch $@

# ---------------------------------------------------------------- library
# The TLS backend, one file each (src/tls/tls_BACKEND.c): TLS=openssl
# (the default on unix) or TLS=mbedtls; the unikernels always use mbedtls
# (platform/lwip/build.mk).  LIB_SRCS holds none of them.  The ACME
# client's crypto follows the backend (src/acme/crypto_BACKEND.c).
TLS ?= openssl
TLS_BACKEND_SRCS := src/tls/tls_openssl.c src/tls/tls_mbedtls.c src/acme/crypto_openssl.c src/acme/crypto_mbedtls.c
LIB_SRCS := $(filter-out $(TLS_BACKEND_SRCS),$(sort $(wildcard src/*/*.c)))
# Variant sources chosen per target: *_unix.c only on unix; *_uk.c and
# *_lwip.c (the lwIP network stack) only on the unikernels.
LIB_SRCS_unix := $(filter-out %_lwip.c %_uk.c,$(LIB_SRCS)) $(filter %_$(TLS).c,$(TLS_BACKEND_SRCS))
LLHTTP_SRCS := $(LLHTTP_DIR)/api.c $(LLHTTP_DIR)/http.c $(LLHTTP_DIR)/llhttp.c
LLHTTP_FLAGS := -std=gnu11 -O2 -g -w -I$(B)/deb/node-llhttp/usr/share/include/llhttp

$(B)/obj/%.o: %.c | $(B)/.deps-ok $(LLHTTP_DIR)/api.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@
$(B)/asan/%.o: %.c | $(B)/.deps-ok $(LLHTTP_DIR)/api.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(ASAN_FLAGS) -MMD -MP -c $< -o $@
# Objects of the ASan+UBSan apps and tools (`make asan`), apart from their
# binaries: build/asan/apps/NAME is a program, not a directory of objects.
$(B)/asan/obj/%.o: %.c | $(B)/.deps-ok $(LLHTTP_DIR)/api.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(ASAN_FLAGS) -MMD -MP -c $< -o $@
$(B)/obj/llhttp/%.o: $(LLHTTP_DIR)/%.c
	@mkdir -p $(@D)
	$(CC) $(LLHTTP_FLAGS) -c $< -o $@
$(B)/asan/llhttp/%.o: $(LLHTTP_DIR)/%.c
	@mkdir -p $(@D)
	$(CC) $(LLHTTP_FLAGS) $(ASAN_FLAGS) -c $< -o $@
$(LLHTTP_DIR)/http.c $(LLHTTP_DIR)/llhttp.c: $(LLHTTP_DIR)/api.c

LIB_OBJS := $(LIB_SRCS_unix:%.c=$(B)/obj/%.o) $(patsubst $(LLHTTP_DIR)/%.c,$(B)/obj/llhttp/%.o,$(LLHTTP_SRCS))
LIB_OBJS_ASAN := $(LIB_SRCS_unix:%.c=$(B)/asan/%.o) $(patsubst $(LLHTTP_DIR)/%.c,$(B)/asan/llhttp/%.o,$(LLHTTP_SRCS))
LIB := $(B)/libuweb.a
LIB_ASAN := $(B)/asan/libuweb.a
$(LIB): $(LIB_OBJS)
	@rm -f $@; ar rcs $@ $^
$(LIB_ASAN): $(LIB_OBJS_ASAN)
	@rm -f $@; ar rcs $@ $^
# The libraries a program linking libuweb.a by hand puts after it (LDLIBS,
# which build.mk fragments extend): read by pkg-config's uweb.pc, the tool
# tests and the benchmarks.  Rewritten only when the list changes.
LIB_LIBS := $(B)/libuweb.libs
.PHONY: lib-libs-force
$(LIB_LIBS): lib-libs-force
	@mkdir -p $(@D); echo '$(strip $(LDLIBS))' | cmp -s - $@ || echo '$(strip $(LDLIBS))' >$@

# ---------------------------------------------------------------- apps
# apps/NAME/*.c -> build/apps/NAME.  A build.mk may add APP_DEPS_NAME
# (extra objects or generated sources) and APP_LDLIBS_NAME.
APPS := $(notdir $(patsubst %/,%,$(dir $(wildcard apps/*/main.c))))
define app_rule
$(B)/apps/$(1): $$(patsubst %.c,$(B)/obj/%.o,$$(wildcard apps/$(1)/*.c)) $$(APP_DEPS_$(1)) $(LIB)
	@mkdir -p $$(@D)
	$(CC) $(CFLAGS) -o $$@ $$(filter %.o %.a,$$^) $(LIB) $$(APP_LDLIBS_$(1)) $(LDLIBS)
endef

# ---------------------------------------------------------------- tools
# tools/NAME/*.c -> build/tools/uweb-NAME; TOOL_LDLIBS_NAME for extra libs.
TOOLS := $(notdir $(patsubst %/,%,$(dir $(wildcard tools/*/main.c))))
define tool_rule
$(B)/tools/uweb-$(1): $$(patsubst %.c,$(B)/obj/%.o,$$(wildcard tools/$(1)/*.c)) $(LIB)
	@mkdir -p $$(@D)
	$(CC) $(CFLAGS) -o $$@ $$(filter %.o,$$^) $(LIB) $$(TOOL_LDLIBS_$(1)) $(LDLIBS)
endef

# ---------------------------------------------------------------- asan
# `make asan`: every app and tool built again with ASan+UBSan, into
# build/asan/apps/NAME and build/asan/tools/uweb-NAME (fragments add theirs
# to ASAN_BINS); `make test` runs tests/integration/*.py once more against
# them (UWEB_ASAN=1, read by tests/lib/uwtest.py).
asan_deps = $(patsubst $(B)/obj/%,$(B)/asan/obj/%,$(1))
define asan_app_rule
$(B)/asan/apps/$(1): $$(patsubst %.c,$(B)/asan/obj/%.o,$$(wildcard apps/$(1)/*.c)) $$(call asan_deps,$$(APP_DEPS_$(1))) $(LIB_ASAN)
	@mkdir -p $$(@D)
	$(CC) $(CFLAGS) $(ASAN_FLAGS) -o $$@ $$(filter %.o %.a,$$^) $(LIB_ASAN) $$(APP_LDLIBS_$(1)) $(LDLIBS)
endef
define asan_tool_rule
$(B)/asan/tools/uweb-$(1): $$(patsubst %.c,$(B)/asan/obj/%.o,$$(wildcard tools/$(1)/*.c)) $(LIB_ASAN)
	@mkdir -p $$(@D)
	$(CC) $(CFLAGS) $(ASAN_FLAGS) -o $$@ $$(filter %.o,$$^) $(LIB_ASAN) $$(TOOL_LDLIBS_$(1)) $(LDLIBS)
endef

# ---------------------------------------------------------------- tests
# tests/unit/test_X.c -> build/tests/unit/test_X and an ASan+UBSan twin.
# A test links only the modules it tests: src/X/ by default, or the list in
# UNIT_MODULES_test_X (set in a build.mk), so one module's work in progress
# never breaks another's tests.  Fuzz targets likewise: FUZZ_MODULES_X.
.SECONDEXPANSION:
unit_modules = $(or $(UNIT_MODULES_$(1)),$(patsubst test_%,%,$(1)))
fuzz_modules = $(or $(FUZZ_MODULES_$(1)),$(1))
# A module's own dependencies come along: MODULE_DEPS_m (set in a build.mk).
mod_srcs = $(filter-out %_lwip.c %_uk.c $(TLS_BACKEND_SRCS),$(sort $(wildcard $(foreach m,$(1) $(foreach d,$(1),$(MODULE_DEPS_$(d))),src/$(m)/*.c)))) \
  $(if $(filter tls,$(1)),$(wildcard src/tls/tls_$(TLS).c)) \
  $(if $(filter acme,$(1) $(foreach d,$(1),$(MODULE_DEPS_$(d)))),src/acme/crypto_$(TLS).c)
mod_objs = $(patsubst %.c,$(B)/$(1)/%.o,$(call mod_srcs,$(2))) $(patsubst $(LLHTTP_DIR)/%.c,$(B)/$(1)/llhttp/%.o,$(LLHTTP_SRCS))

UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(B)/tests/unit/%)
UNIT_BINS_ASAN := $(UNIT_SRCS:tests/unit/%.c=$(B)/asan/tests/unit/%)
$(B)/tests/unit/%: $(B)/obj/tests/unit/%.o $$(call mod_objs,obj,$$(call unit_modules,$$*))
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $^ $(UNIT_LDLIBS_$*) $(LDLIBS)
$(B)/asan/tests/unit/%: $(B)/asan/tests/unit/%.o $$(call mod_objs,asan,$$(call unit_modules,$$*))
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(ASAN_FLAGS) -o $@ $^ $(UNIT_LDLIBS_$*) $(LDLIBS)

# tests/fuzz/fuzz_X.c (LLVMFuzzerTestOneInput) -> a corpus replayer built
# with gcc + sanitizers, and a libFuzzer binary built with clang.
FUZZ_SRCS := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_REPLAY := $(FUZZ_SRCS:tests/fuzz/fuzz_%.c=$(B)/fuzz/replay_%)
FUZZ_BINS := $(FUZZ_SRCS:tests/fuzz/fuzz_%.c=$(B)/fuzz/fuzz_%)
$(B)/fuzz/replay_%: $(B)/asan/tests/fuzz/fuzz_%.o $(B)/asan/tests/fuzz/replay_main.o $$(call mod_objs,asan,$$(call fuzz_modules,$$*))
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(ASAN_FLAGS) -o $@ $^ $(FUZZ_LDLIBS_$*) $(LDLIBS)
FUZZ_INC := -Iinclude -I$(B)/include -I$(B)/deb/node-llhttp/usr/share/include/llhttp -D_GNU_SOURCE
FUZZ_CFLAGS := -g -O1 -fsanitize=fuzzer,address,undefined $(FUZZ_INC)
FUZZ_OBJ_CFLAGS = $(patsubst -fsanitize=fuzzer%,-fsanitize=fuzzer-no-link%,$(FUZZ_CFLAGS))
# Each source is compiled once for all the libFuzzer binaries (build/fuzzobj/).
$(B)/fuzzobj/%.o: %.c | $(B)/.deps-ok $(LLHTTP_DIR)/api.c
	@mkdir -p $(@D)
	$(CLANG) $(FUZZ_OBJ_CFLAGS) -w -MMD -MP -c $< -o $@
$(B)/fuzzobj/llhttp/%.o: $(LLHTTP_DIR)/%.c
	@mkdir -p $(@D)
	$(CLANG) $(FUZZ_OBJ_CFLAGS) -w -c $< -o $@
$(B)/fuzz/fuzz_%: $(B)/fuzzobj/tests/fuzz/fuzz_%.o $$(call mod_objs,fuzzobj,$$(call fuzz_modules,$$*))
	@mkdir -p $(@D)
	$(CLANG) $(FUZZ_CFLAGS) -o $@ $(filter %.o %.a,$^) $(FUZZ_LDLIBS_$*) $(LDLIBS)

# ---------------------------------------------------------------- fragments
include $(sort $(wildcard */build.mk */*/build.mk))

$(foreach a,$(APPS),$(eval $(call app_rule,$(a))))
$(foreach t,$(TOOLS),$(eval $(call tool_rule,$(t))))
$(foreach a,$(APPS),$(eval $(call asan_app_rule,$(a))))
$(foreach t,$(TOOLS),$(eval $(call asan_tool_rule,$(t))))
APP_BINS := $(APPS:%=$(B)/apps/%)
TOOL_BINS := $(TOOLS:%=$(B)/tools/uweb-%)
ASAN_BINS += $(APPS:%=$(B)/asan/apps/%) $(TOOLS:%=$(B)/asan/tools/uweb-%)

-include $(shell find $(B)/obj $(B)/asan $(B)/fuzzobj -name '*.d' 2>/dev/null)

# ---------------------------------------------------------------- goals
.SECONDARY:
.PHONY: all test run bench clean check-build fuzz asan
all: $(LIB) $(LIB_LIBS) $(APP_BINS) $(TOOL_BINS) $(EXTRA_ALL)
check-build: all asan $(UNIT_BINS) $(UNIT_BINS_ASAN) $(FUZZ_REPLAY) $(FUZZ_BINS) $(EXTRA_TEST_DEPS)
fuzz: $(FUZZ_BINS)
asan: $(ASAN_BINS)

test: check-build
	@UWEB_ROOT=$(ROOT) UWEB_BUILD=$(ROOT)/$(B) CC=$(CC) CLANG=$(CLANG) tests/run.sh

run: all
	@TARGET=$(TARGET) scripts/run.sh $(B)

bench: all
	@for b in bench/*.sh; do echo "== $$b"; $$b || exit 1; done

clean:
	rm -rf $(B)/obj $(B)/asan $(B)/apps $(B)/tools $(B)/tests $(B)/fuzz $(B)/fuzzobj $(B)/*.a $(EXTRA_CLEAN)
