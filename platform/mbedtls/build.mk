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
MBEDTLS_FETCHED := $(GUEST_LIB_HEADERS_mbedtls)
MBEDTLS_CONFIG := platform/mbedtls/uw_mbedtls_config.h
MBEDTLS_CPPFLAGS := $(GUEST_LIB_CPPFLAGS_mbedtls)
# Every module of the library: what the configuration leaves out compiles
# to nothing.
MBEDTLS_MODULES := $(basename $(notdir $(wildcard $(MBEDTLS_DIR)/library/*.c)))
MBEDTLS_LIB_unix := $(B)/obj/mbedtls/libmbedtls.a

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
	@echo "CC $$@"; $$(CC) $$(GUEST_CPPFLAGS) $$(GUEST_CPPFLAGS_$(1)) $(MBEDTLS_CPPFLAGS) $$(GUEST_CFLAGS) $$(GUEST_CFLAGS_$(1)) -w -c $(MBEDTLS_DIR)/library/$$*.c -o $$@
$(B)/$(1)/platform/mbedtls/%.o: GUEST_CPPFLAGS_EXTRA = $(MBEDTLS_CPPFLAGS)
$(B)/$(1)/platform/mbedtls/mbedtls_guest.o: $(MBEDTLS_FETCHED)
$(B)/$(1)/mbedtls/libmbedtls.a: $(MBEDTLS_MODULES:%=$(B)/$(1)/mbedtls/%.o) $(B)/$(1)/platform/mbedtls/mbedtls_guest.o
	@rm -f $$@; ar rcs $$@ $$^
endef
$(foreach t,$(GUEST_TARGETS),$(eval $(call mbedtls_target_rules,$(t))))
$(B)/obj/mbedtls/%.o: $(MBEDTLS_FETCHED) $(MBEDTLS_CONFIG)
	@mkdir -p $(@D)
	@echo "CC $@"; $(CC) $(MBEDTLS_CPPFLAGS) -std=gnu11 -O2 -g -w -c $(MBEDTLS_DIR)/library/$*.c -o $@
$(MBEDTLS_LIB_unix): $(MBEDTLS_MODULES:%=$(B)/obj/mbedtls/%.o)
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
