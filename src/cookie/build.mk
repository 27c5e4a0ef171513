# src/cookie: cookies, signed and sealed with AES-256-GCM (include/uweb/cookie.h)
# over include/uweb/aead.h: src/tls/aead_unix.c (OpenSSL's libcrypto, on
# unix whatever TLS backend) and src/tls/aead_uk.c (mbedTLS on the
# unikernels, compiled with mbedTLS's include flags like tls_mbedtls.c).
UNIT_MODULES_test_cookie := cookie tls web http util runtime net stream
UNIT_LDLIBS_test_cookie := -lcrypto
ifneq ($(TLS),openssl)
LDLIBS += -lcrypto
endif
$(foreach t,$(GUEST_TARGETS),$(eval $(B)/$(t)/src/tls/aead_uk.o: GUEST_CFLAGS_EXTRA = $(MBEDTLS_CPPFLAGS)))
$(GUEST_TARGETS:%=$(B)/%/src/tls/aead_uk.o): | $(MBEDTLS_FETCHED)
FUZZ_MODULES_cookie := cookie tls web http util runtime net stream
FUZZ_LDLIBS_cookie := -lcrypto
