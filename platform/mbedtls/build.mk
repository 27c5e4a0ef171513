# platform/mbedtls/build.mk - mbedTLS 3.6 LTS (trixie's source package:
# bookworm ships 2.28, without TLS 1.3), fetched into build/src/mbedtls and
# compiled with our configuration (platform/mbedtls/uw_mbedtls_config.h):
#
#   build/<t>/mbedtls/libmbedtls.a   for the unikernels (guest flags of <t>),
#                                    linked into every unikernel app
#   build/obj/mbedtls/libmbedtls.a   for unix with TLS=mbedtls
#
# The backend itself is src/tls/tls_mbedtls.c (include/uweb/tls.h).

# (platform/build.mk names the library for test unikernels:
# GUEST_LIB_mbedtls, its include flags and the fetched stamp.)
MBEDTLS_DIR := $(B)/src/mbedtls
# X25519 is Everest's (HACL*, 64-bit limbs; MBEDTLS_ECDH_VARIANT_EVEREST_ENABLED
# in the configuration): three files of the source's 3rdparty/everest,
# compiled into the library beside its own modules; mbedtls/ecdh.h includes
# its header (platform/build.mk's GUEST_LIB_CPPFLAGS_mbedtls has its path).
MBEDTLS_EVEREST := $(MBEDTLS_DIR)/3rdparty/everest
MBEDTLS_EVEREST_CPPFLAGS := -I$(MBEDTLS_DIR)/library -I$(MBEDTLS_EVEREST)/include/everest -I$(MBEDTLS_EVEREST)/include/everest/kremlib
# (platform/mbedtls/guest-include: the <endian.h> it wants on the guests)
MBEDTLS_EVEREST_MODULES := everest x25519 Hacl_Curve25519_joined
# PSA's public keys of X25519 key pairs by Everest too: psa_crypto_ecp.o
# calls platform/mbedtls/x25519_public.c instead of mbedtls_ecp_mul.
MBEDTLS_X25519_REBIND := objcopy --redefine-sym mbedtls_ecp_mul=uw_mbedtls_ecp_mul
MBEDTLS_FETCHED := $(GUEST_LIB_HEADERS_mbedtls)
MBEDTLS_CONFIG := platform/mbedtls/uw_mbedtls_config.h
MBEDTLS_CPPFLAGS := $(GUEST_LIB_CPPFLAGS_mbedtls)
# Every module of the library: what the configuration leaves out compiles
# to nothing.
MBEDTLS_MODULES := $(basename $(notdir $(wildcard $(MBEDTLS_DIR)/library/*.c)))
MBEDTLS_LIB_unix := $(B)/obj/mbedtls/libmbedtls.a
# Ours, beside the library's modules: the guests' clock (mbedtls_guest.c),
# X25519's public keys (x25519_public.c) and SHA-256's compression with the
# x86 SHA extensions (sha256_process.c, MBEDTLS_SHA256_PROCESS_ALT;
# sha256_shani.c gets the instruction set's flags on x86-64 targets with
# SSE, and compiles to nothing elsewhere).
MBEDTLS_OURS := mbedtls_guest x25519_public sha256_process sha256_shani
MBEDTLS_SHANI_FLAGS := $(if $(filter x86_64%,$(shell $(CC) -dumpmachine)),-msha -mssse3 -msse4.1)

$(MBEDTLS_FETCHED): platform/scripts/fetch-src.sh | $(B)/.deps-ok
	@platform/scripts/fetch-src.sh mbedtls $(MBEDTLS_DIR) $(B)/apt-src-mbedtls trixie
	@touch $@

# The module list is known once the sources are there.
ifeq ($(MBEDTLS_MODULES),)
# (a pattern rule and a plain one: make refuses both targets in one rule)
$(B)/%/mbedtls/libmbedtls.a: $(MBEDTLS_FETCHED) $(MBEDTLS_CONFIG)
	@$(MAKE) --no-print-directory B=$(B) TLS=$(TLS) HVT_SOFT_KVM=$(HVT_SOFT_KVM) $@
$(MBEDTLS_LIB_unix): $(MBEDTLS_FETCHED) $(MBEDTLS_CONFIG)
	@$(MAKE) --no-print-directory B=$(B) TLS=$(TLS) HVT_SOFT_KVM=$(HVT_SOFT_KVM) $@
else
define mbedtls_target_rules
$(B)/$(1)/mbedtls/%.o: $(MBEDTLS_FETCHED) $(MBEDTLS_CONFIG) $(B)/$(1)/.flags
	@mkdir -p $$(@D)
	@echo "CC $$@"; $$(CC) $$(GUEST_CPPFLAGS) $$(GUEST_CPPFLAGS_$(1)) $(MBEDTLS_CPPFLAGS) $$(GUEST_CFLAGS) $$(GUEST_CFLAGS_$(1)) -w -c $(MBEDTLS_DIR)/library/$$*.c -o $$@$$(if $$(filter psa_crypto_ecp,$$*), && $(MBEDTLS_X25519_REBIND) $$@)
$(B)/$(1)/mbedtls/everest/%.o: $(MBEDTLS_FETCHED) $(MBEDTLS_CONFIG) $(B)/$(1)/.flags
	@mkdir -p $$(@D)
	@echo "CC $$@"; $$(CC) $$(GUEST_CPPFLAGS) $$(GUEST_CPPFLAGS_$(1)) $(MBEDTLS_CPPFLAGS) $(MBEDTLS_EVEREST_CPPFLAGS) -Iplatform/mbedtls/guest-include $$(GUEST_CFLAGS) $$(GUEST_CFLAGS_$(1)) -w -c $(MBEDTLS_EVEREST)/library/$$*.c -o $$@
$(B)/$(1)/platform/mbedtls/%.o: GUEST_CPPFLAGS_EXTRA = $(MBEDTLS_CPPFLAGS)
$(B)/$(1)/platform/mbedtls/sha256_shani.o: GUEST_CFLAGS_EXTRA = $$(if $$(findstring -mgeneral-regs-only,$$(GUEST_CFLAGS_$(1))),,$(MBEDTLS_SHANI_FLAGS))
$(MBEDTLS_OURS:%=$(B)/$(1)/platform/mbedtls/%.o): $(MBEDTLS_FETCHED)
$(B)/$(1)/mbedtls/libmbedtls.a: $(MBEDTLS_MODULES:%=$(B)/$(1)/mbedtls/%.o) $(MBEDTLS_EVEREST_MODULES:%=$(B)/$(1)/mbedtls/everest/%.o) $(MBEDTLS_OURS:%=$(B)/$(1)/platform/mbedtls/%.o)
	@rm -f $$@; ar rcs $$@ $$^
endef
$(foreach t,$(GUEST_TARGETS),$(eval $(call mbedtls_target_rules,$(t))))
$(B)/obj/mbedtls/%.o: $(MBEDTLS_FETCHED) $(MBEDTLS_CONFIG)
	@mkdir -p $(@D)
	@echo "CC $@"; $(CC) $(MBEDTLS_CPPFLAGS) -std=gnu11 -O2 -g -w -c $(MBEDTLS_DIR)/library/$*.c -o $@$(if $(filter psa_crypto_ecp,$*), && $(MBEDTLS_X25519_REBIND) $@)
$(B)/obj/mbedtls/everest/%.o: $(MBEDTLS_FETCHED) $(MBEDTLS_CONFIG)
	@mkdir -p $(@D)
	@echo "CC $@"; $(CC) $(MBEDTLS_CPPFLAGS) $(MBEDTLS_EVEREST_CPPFLAGS) -std=gnu11 -O2 -g -w -c $(MBEDTLS_EVEREST)/library/$*.c -o $@
$(B)/obj/mbedtls/uw/%.o: platform/mbedtls/%.c platform/mbedtls/sha256_process.h $(MBEDTLS_FETCHED) $(MBEDTLS_CONFIG)
	@mkdir -p $(@D)
	@echo "CC $@"; $(CC) $(MBEDTLS_CPPFLAGS) -std=gnu11 -O2 -g $(WARN) $(if $(filter sha256_shani,$*),$(MBEDTLS_SHANI_FLAGS)) -c $< -o $@
$(MBEDTLS_LIB_unix): $(MBEDTLS_MODULES:%=$(B)/obj/mbedtls/%.o) $(MBEDTLS_EVEREST_MODULES:%=$(B)/obj/mbedtls/everest/%.o) $(patsubst %,$(B)/obj/mbedtls/uw/%.o,$(filter-out mbedtls_guest,$(MBEDTLS_OURS)))
	@rm -f $@; ar rcs $@ $^
endif

# The backend on the unikernels (platform/lwip/build.mk adds it to their
# libuweb.a and links libmbedtls.a into their apps) and with TLS=mbedtls
# on unix.
$(foreach t,$(GUEST_TARGETS),$(eval $(B)/$(t)/src/tls/tls_mbedtls.o: GUEST_CFLAGS_EXTRA = $(MBEDTLS_CPPFLAGS)))
$(GUEST_TARGETS:%=$(B)/%/src/tls/tls_mbedtls.o): | $(MBEDTLS_FETCHED)
ifeq ($(TLS),mbedtls)
$(B)/obj/src/tls/tls_mbedtls.o $(B)/asan/src/tls/tls_mbedtls.o: CPPFLAGS += $(MBEDTLS_CPPFLAGS)
$(B)/obj/src/tls/tls_mbedtls.o $(B)/asan/src/tls/tls_mbedtls.o: | $(MBEDTLS_FETCHED)
LDLIBS += $(MBEDTLS_LIB_unix)
$(LIB) $(LIB_ASAN): | $(MBEDTLS_LIB_unix)
$(UNIT_BINS) $(UNIT_BINS_ASAN) $(FUZZ_REPLAY) $(FUZZ_BINS): | $(MBEDTLS_LIB_unix)
FUZZ_CFLAGS += $(MBEDTLS_CPPFLAGS)
# tests/unit/test_tls.c's peer is an OpenSSL client.
DEB_PACKAGES += libssl-dev
UNIT_LDLIBS_test_tls += -lssl -lcrypto
endif
