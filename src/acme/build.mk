# src/acme: the ACME client (include/uweb/acme.h), one engine on every
# target (engine.c: jansson, uweb's HTTP client) with the crypto of the
# TLS backend (crypto_openssl.c on OpenSSL's libcrypto, crypto_mbedtls.c on
# mbedTLS: the unikernels and TLS=mbedtls; the Makefile picks it like
# src/tls/tls_$(TLS).c) and its state in files (files_unix.c) or on the
# block device acme (store_block.c, the unikernels' only storage).
# uw_main (module web) runs it, so whatever links module web links acme
# and the client too (MODULE_DEPS; static: its HTTP-date parser reads
# Retry-After).  tests/integration/acme.py runs pebble, Debian's ACME test
# server (plain, under ASan+UBSan and on the mbedTLS backend);
# tests/net/acme_spt.py the spt guest against pebble in a namespace.
DEB_PACKAGES += libjansson-dev libssl-dev openssl pebble
LDLIBS += -ljansson -lcrypto
MODULE_DEPS_web += acme client static
UNIT_MODULES_test_acme := acme client web http util tls runtime net stream static
# The guests: engine.c includes jansson's header (platform/jansson),
# crypto_mbedtls.c mbedTLS's.
$(foreach t,$(GUEST_TARGETS),$(eval $(B)/$(t)/src/acme/engine.o: GUEST_CFLAGS_EXTRA = $$(JANSSON_GUEST_CPPFLAGS)))
$(GUEST_TARGETS:%=$(B)/%/src/acme/engine.o): | $(B)/src/jansson/.fetched
$(foreach t,$(GUEST_TARGETS),$(eval $(B)/$(t)/src/acme/crypto_mbedtls.o: GUEST_CFLAGS_EXTRA = $$(MBEDTLS_CPPFLAGS)))
$(GUEST_TARGETS:%=$(B)/%/src/acme/crypto_mbedtls.o): | $(B)/src/mbedtls/.fetched
ifeq ($(TLS),mbedtls)
$(B)/obj/src/acme/crypto_mbedtls.o $(B)/asan/src/acme/crypto_mbedtls.o: CPPFLAGS += $(MBEDTLS_CPPFLAGS)
$(B)/obj/src/acme/crypto_mbedtls.o $(B)/asan/src/acme/crypto_mbedtls.o: | $(B)/src/mbedtls/.fetched
endif
