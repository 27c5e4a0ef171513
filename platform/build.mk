# platform/build.mk — the unikernel platform: guest build (flags, libc,
# start code, linker script), zlib for guests, the spt tender and the test
# unikernels.  Variables and functions for other fragments are described
# in platform/README.md ("Build variables and output paths").

DEB_PACKAGES += dpkg-dev libc6-dev hyperfine

GUEST_TARGETS := spt hvt

# ---------------------------------------------------------------- flags
# -ffreestanding: no hosted libc is assumed (and __STDC_HOSTED__ is 0, so
# the compiler's <stdint.h> stands alone); -fbuiltin keeps memcpy & co.
# as builtins so small fixed copies are inlined.  The canary is a global
# (-mstack-protector-guard=global): guests have no TLS.
GUEST_CPPFLAGS := -nostdinc -isystem $(shell $(CC) -print-file-name=include) \
  -isystem platform/libc/include -Iplatform/include -Iplatform/guest -Iinclude -I$(B)/include
GUEST_CFLAGS := -std=gnu11 -O2 -g $(WARN) -fno-strict-aliasing -ffreestanding -fbuiltin \
  -fno-pic -fno-pie -fstack-protector-strong -mstack-protector-guard=global -fstack-clash-protection \
  -fno-asynchronous-unwind-tables -ffunction-sections -fdata-sections -fno-common
GUEST_CFLAGS_spt :=
GUEST_CPPFLAGS_spt := -Iplatform/spt
GUEST_LDFLAGS := -nostdlib -static -no-pie -Wl,-T,platform/guest/guest.ld -Wl,--gc-sections \
  -Wl,-z,max-page-size=0x1000 -Wl,-z,noexecstack -Wl,--build-id=none -Wl,--strip-debug
# Where guest.ld links the image: spt at UW_SPT_GUEST_BASE (platform/spt/
# spt_abi.h, 4 MiB: above any host's vm.mmap_min_addr), hvt at
# UW_HVT_GUEST_MIN_BASE (guest-physical 1 MiB).
GUEST_LDFLAGS_spt := -Wl,--defsym=uw_image_base=0x400000
GUEST_LDFLAGS_hvt := -Wl,--defsym=uw_image_base=0x100000
GUEST_LIBGCC := $(shell $(CC) -print-libgcc-file-name)
# The libc's own memcpy/memset must not be turned back into calls to themselves.
GUEST_LIBC_FLAGS := -fno-builtin -fno-tree-loop-distribute-patterns

GUEST_BINDINGS_spt := $(B)/spt/platform/spt/bindings.o

# Guest libraries other fragments can link by short name (see
# GUEST_TEST_LIBS_NAME): archive under build/<t>/, include flags, and a
# header whose presence means the sources are fetched.
ZLIB_DIR := $(B)/src/zlib
ZLIB_MODULES := adler32 compress crc32 deflate infback inffast inflate inftrees trees uncompr zutil
GUEST_LIB_zlib := zlib/libz.a
GUEST_LIB_CPPFLAGS_zlib := -I$(ZLIB_DIR)
GUEST_LIB_HEADERS_zlib := $(ZLIB_DIR)/zlib.h
# As Debian builds its libz (debian/rules: -O3, and -DUNALIGNED_OK on
# amd64): at -O2 zlib's braided CRC-32 runs at 2.3 GB/s instead of 4.2,
# and every byte through Crunch & Zip's ZIP writer goes through it.
ZLIB_GUEST_CFLAGS := -O3 $(if $(filter x86_64%,$(shell $(CC) -dumpmachine)),-DUNALIGNED_OK)
# mbedTLS (platform/mbedtls/build.mk) and libuweb.a (platform/lwip/build.mk).
GUEST_LIB_mbedtls := mbedtls/libmbedtls.a
# (3rdparty/everest/include: mbedtls/ecdh.h includes Everest's header, the
# configuration's X25519; platform/mbedtls/build.mk)
GUEST_LIB_CPPFLAGS_mbedtls := -Iplatform/mbedtls -I$(B)/src/mbedtls/include -I$(B)/src/mbedtls/3rdparty/everest/include \
  '-DMBEDTLS_CONFIG_FILE="uw_mbedtls_config.h"'
GUEST_LIB_HEADERS_mbedtls := $(B)/src/mbedtls/.fetched
GUEST_LIB_uweb := libuweb.a
# jansson (platform/jansson/build.mk).
GUEST_LIB_jansson := jansson/libjansson.a
GUEST_LIB_CPPFLAGS_jansson := -Iplatform/jansson -I$(B)/src/jansson/src
GUEST_LIB_HEADERS_jansson := $(B)/src/jansson/.fetched

# ---------------------------------------------------------------- rules per target
GUEST_LIBC_SRCS := $(sort $(wildcard platform/libc/src/*.c)) $(sort $(wildcard platform/guest/*.c))

# build/<t>/.flags holds the target's compile flags and changes only when
# they do, so changing a flag (GUEST_CFLAGS_hvt, ...) rebuilds that
# target's objects and nothing else.
.PHONY: guest-flags-force
define guest_target_rules
$(B)/$(1)/.flags: guest-flags-force
	@mkdir -p $$(@D)
	@echo '$$(GUEST_CPPFLAGS) $$(GUEST_CPPFLAGS_$(1)) $$(GUEST_CFLAGS) $$(GUEST_CFLAGS_$(1))' | cmp -s - $$@ \
	  || echo '$$(GUEST_CPPFLAGS) $$(GUEST_CPPFLAGS_$(1)) $$(GUEST_CFLAGS) $$(GUEST_CFLAGS_$(1))' >$$@
$(B)/$(1)/%.o: %.c $(B)/$(1)/.flags | $(B)/.deps-ok
	@mkdir -p $$(@D)
	$$(CC) $$(GUEST_CPPFLAGS) $$(GUEST_CPPFLAGS_$(1)) $$(GUEST_CPPFLAGS_EXTRA) $$(GUEST_CFLAGS) $$(GUEST_CFLAGS_$(1)) $$(GUEST_CFLAGS_EXTRA) -MMD -MP -c $$< -o $$@
$(B)/$(1)/%.o: %.S $(B)/$(1)/.flags | $(B)/.deps-ok
	@mkdir -p $$(@D)
	$$(CC) $$(GUEST_CPPFLAGS) $$(GUEST_CPPFLAGS_$(1)) $$(GUEST_CFLAGS) $$(GUEST_CFLAGS_$(1)) -MMD -MP -c $$< -o $$@
$(B)/$(1)/platform/libc/%.o: GUEST_CFLAGS_EXTRA = $$(GUEST_LIBC_FLAGS)
$(B)/$(1)/libuwc.a: $(patsubst %.c,$(B)/$(1)/%.o,$(GUEST_LIBC_SRCS))
	@rm -f $$@; ar rcs $$@ $$^
$(B)/$(1)/zlib/%.o: $(ZLIB_DIR)/zlib.h $(B)/$(1)/.flags
	@mkdir -p $$(@D)
	$$(CC) $$(GUEST_CPPFLAGS) $$(GUEST_CPPFLAGS_$(1)) -I$(ZLIB_DIR) $$(GUEST_CFLAGS) $$(GUEST_CFLAGS_$(1)) $(ZLIB_GUEST_CFLAGS) -w -c $(ZLIB_DIR)/$$*.c -o $$@
$(B)/$(1)/zlib/libz.a: $(ZLIB_MODULES:%=$(B)/$(1)/zlib/%.o)
	@rm -f $$@; ar rcs $$@ $$^
endef
$(foreach t,$(GUEST_TARGETS),$(eval $(call guest_target_rules,$(t))))

$(ZLIB_DIR)/zlib.h: platform/scripts/fetch-src.sh | $(B)/.deps-ok
	@platform/scripts/fetch-src.sh zlib $(ZLIB_DIR) $(B)/apt-src
	@test -f $@ && touch $@

# $(call guest_link_rule,TARGET,OUTPUT,OBJECTS,LIBS): a rule linking a
# guest image (use with $(eval)).  The target's bindings come first, then
# OBJECTS, LIBS (archives), the guest libc and libgcc.
define guest_link_rule
$(2): $(3) $$(GUEST_BINDINGS_$(1)) $(4) $(B)/$(1)/libuwc.a platform/guest/guest.ld
	@mkdir -p $$(@D)
	$$(CC) $$(GUEST_LDFLAGS) $$(GUEST_LDFLAGS_$(1)) -o $$@ $$(GUEST_BINDINGS_$(1)) $(3) \
	  -Wl,--start-group $(4) $(B)/$(1)/libuwc.a $$(GUEST_LIBGCC) -Wl,--end-group
endef

# ---------------------------------------------------------------- per-app manifests
# An app declares its devices in its build.mk, as words KIND:NAME (KIND
# net or block; NAME as the tenders' --KIND:NAME= option), or "none":
#
#     UK_MANIFEST_hello := net:service block:tls?
#
# A final "?" makes the device optional: the tenders start the guest
# without it, and acquiring it then fails (the app checks).
#
# Without it an app gets UK_MANIFEST_DEFAULT: net "service", the lwIP
# service interface.  The build writes build/gen/manifest/ID.c (one
# UW_PLAT_MANIFEST of those devices; rewritten only when the list
# changes) and links its object for the target: $(call
# uk_manifest_obj,TARGET,ID).  Apps use ID = NAME (platform/lwip/build.mk);
# a test unikernel tests/unikernel/NAME/ without a UW_PLAT_MANIFEST in its
# source may set UK_TEST_MANIFEST_NAME in tests/unikernel/NAME/build.mk (ID =
# test_NAME).  Both tenders check the result like any manifest.
UK_MANIFEST_DEFAULT := net:service
UK_EMPTY :=
UK_SPACE := $(UK_EMPTY) $(UK_EMPTY)
UK_COMMA := ,
uk_manifest_entry = $(if $(filter %?,$(1)),$(call uk_manifest_entry_,$(patsubst %?,%,$(1)),_OPTIONAL),$(call \
  uk_manifest_entry_,$(1),))
# Net devices are lwIP's, which takes offloads (platform/lwip/README.md).
uk_manifest_entry_ = $(if $(filter net:%,$(1)),UW_PLAT_NET_OFFLOADED$(2)("$(patsubst net:%,%,$(1))"),$(if \
  $(filter block:%,$(1)),UW_PLAT_BLOCK$(2)("$(patsubst block:%,%,$(1))"),$(if $(filter none,$(1)),,$(error \
  UK_MANIFEST: '$(1)' is not net:NAME, block:NAME (either with a final ? when optional) or none))))
# $(call uk_manifest_text,DEVICES): the C line declaring DEVICES.
uk_manifest_text = UW_PLAT_MANIFEST($(subst $(UK_SPACE),$(UK_COMMA)$(UK_SPACE),$(strip \
  $(foreach d,$(1),$(call uk_manifest_entry,$(d))))));
uk_manifest_obj = $(B)/$(1)/$(B)/gen/manifest/$(2).o
# $(call uk_manifest_rule,ID,DEVICES): the rule writing build/gen/manifest/ID.c.
define uk_manifest_rule
$(B)/gen/manifest/$(1).c: guest-flags-force
	@mkdir -p $$(@D)
	@printf '%s\n' '/* Generated by platform/build.mk: the devices of $(1) ($(2)). */' \
	  '#include "uw_platform.h"' '$(call uk_manifest_text,$(2))' | cmp -s - $$@ \
	  || printf '%s\n' '/* Generated by platform/build.mk: the devices of $(1) ($(2)). */' \
	  '#include "uw_platform.h"' '$(call uk_manifest_text,$(2))' >$$@
endef
$(foreach a,$(APPS),$(eval $(call uk_manifest_rule,$(a),$(or $(UK_MANIFEST_$(a)),$(UK_MANIFEST_DEFAULT)))))

# ---------------------------------------------------------------- test unikernels
-include $(wildcard tests/unikernel/*/build.mk)
UNIKERNEL_ALL := $(sort $(notdir $(patsubst %/,%,$(dir $(wildcard tests/unikernel/*/main.c)))))
UNIKERNEL_TESTS := $(filter-out hvt_% spt_%,$(UNIKERNEL_ALL))
UNIKERNEL_TESTS_hvt_only := $(filter hvt_%,$(UNIKERNEL_ALL))
UNIKERNEL_TESTS_spt_only := $(filter spt_%,$(UNIKERNEL_ALL))
GUEST_TEST_LIBS_zlib := zlib
GUEST_TEST_LIBS_tls := uweb mbedtls
# The libc test checks the library, not the compiler's folding of known calls.
$(B)/%/tests/unikernel/libc/main.o: GUEST_CFLAGS_EXTRA = -fno-builtin

# $(call guest_test_objs,TARGET,NAME): objects of tests/unikernel/NAME/*.c.
guest_test_objs = $(patsubst %.c,$(B)/$(1)/%.o,$(wildcard tests/unikernel/$(2)/*.c))

# $(call guest_test_rule,TARGET,NAME): rules for build/<t>/tests/unikernel/NAME.<t>.
define guest_test_rule
$(B)/$(1)/tests/unikernel/$(2)/%.o: GUEST_CPPFLAGS_EXTRA = $(foreach l,$(GUEST_TEST_LIBS_$(2)),$(GUEST_LIB_CPPFLAGS_$(l)))
$(call guest_test_objs,$(1),$(2)): | $(foreach l,$(GUEST_TEST_LIBS_$(2)),$(GUEST_LIB_HEADERS_$(l)))
$(call guest_link_rule,$(1),$(B)/$(1)/tests/unikernel/$(2).$(1),$(call guest_test_objs,$(1),$(2)) $(if $(UK_TEST_MANIFEST_$(2)),$(call uk_manifest_obj,$(1),test_$(2))),$(foreach l,$(GUEST_TEST_LIBS_$(2)),$(B)/$(1)/$(GUEST_LIB_$(l))))
endef
$(foreach n,$(UNIKERNEL_ALL),$(if $(UK_TEST_MANIFEST_$(n)),$(eval $(call uk_manifest_rule,test_$(n),$(UK_TEST_MANIFEST_$(n))))))
$(foreach n,$(UNIKERNEL_TESTS) $(UNIKERNEL_TESTS_spt_only),$(eval $(call guest_test_rule,spt,$(n))))
SPT_TEST_GUESTS := $(patsubst %,$(B)/spt/tests/unikernel/%.spt,$(UNIKERNEL_TESTS) $(UNIKERNEL_TESTS_spt_only))

# ---------------------------------------------------------------- tenders' shared code
# platform/tender/: image, manifest and device checks, command line,
# seccomp filter builder; linked into both tenders (PIE objects).
TENDER_COMMON_SRCS := $(sort $(wildcard platform/tender/*.c))
TENDER_COMMON_OBJS := $(TENDER_COMMON_SRCS:%.c=$(B)/host/%.o)
$(B)/host/platform/tender/%.o: platform/tender/%.c | $(B)/.deps-ok
	@mkdir -p $(@D)
	$(CC) -Iplatform/include -Iplatform/tender -D_GNU_SOURCE $(CFLAGS) -fPIE -MMD -MP -c $< -o $@

# tests/fuzz/fuzz_elf.c drives the shared ELF and manifest parsers: its
# fuzzer and corpus replayer link platform/tender/ instead of src/ modules.
$(B)/asan/tests/fuzz/fuzz_elf.o: CPPFLAGS += -Iplatform/include -Iplatform/tender
$(B)/fuzz/replay_elf: $(B)/asan/tests/fuzz/fuzz_elf.o $(B)/asan/tests/fuzz/replay_main.o \
    $(TENDER_COMMON_SRCS:%.c=$(B)/asan/%.o)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(ASAN_FLAGS) -o $@ $^
$(B)/asan/platform/tender/%.o: CPPFLAGS += -Iplatform/include -Iplatform/tender
$(B)/fuzz/fuzz_elf: tests/fuzz/fuzz_elf.c $(TENDER_COMMON_SRCS)
	@mkdir -p $(@D)
	$(CLANG) $(FUZZ_CFLAGS) -Iplatform/include -Iplatform/tender -w -o $@ $^

# ---------------------------------------------------------------- spt tender
SPT_TENDER_SRCS := $(sort $(wildcard platform/spt/tender/*.c))
SPT_TENDER_OBJS := $(SPT_TENDER_SRCS:%.c=$(B)/host/%.o)
$(B)/host/platform/spt/%.o: platform/spt/%.c | $(B)/.deps-ok
	@mkdir -p $(@D)
	$(CC) -Iplatform/include -Iplatform/spt -Iplatform/tender -D_GNU_SOURCE $(CFLAGS) -fPIE -MMD -MP -c $< -o $@
# Static PIE: no dynamic loader at start, and no library mapped later.
$(B)/uweb-spt: $(SPT_TENDER_OBJS) $(TENDER_COMMON_OBJS)
	$(CC) $(CFLAGS) -static-pie -o $@ $^

# ---------------------------------------------------------------- benchmarks
# platform/bench/libc_bench.c as an spt guest (guest libc) and a host
# program (glibc); bench/platform.sh compares them.
$(eval $(call guest_link_rule,spt,$(B)/spt/platform/bench/libc_bench.spt,$(B)/spt/platform/bench/libc_bench.o))
$(B)/host/platform/bench/libc_bench: platform/bench/libc_bench.c | $(B)/.deps-ok
	@mkdir -p $(@D)
	$(CC) -Iplatform/include $(CFLAGS) -o $@ $<

UNIKERNEL_SPT := $(B)/uweb-spt $(SPT_TEST_GUESTS)
EXTRA_TEST_DEPS += $(UNIKERNEL_SPT)
ifeq ($(TARGET),spt)
EXTRA_ALL += $(UNIKERNEL_SPT)
endif
.PHONY: unikernel-spt
unikernel-spt: $(UNIKERNEL_SPT)

-include $(shell find $(B)/spt $(B)/hvt $(B)/host -name '*.d' 2>/dev/null)

# What `make clean` removes besides the library builds (fetched sources stay).
EXTRA_CLEAN += $(B)/spt $(B)/hvt $(B)/host $(B)/uweb-spt $(B)/uweb-hvt
