# src/tls: the TLS engine (include/uweb/tls.h), its backend chosen by TLS
# (the Makefile builds src/tls/tls_$(TLS).c only) and the TLS connection.
# The openssl CLI makes the test certificates of tests/unit/test_tls.c.
DEB_PACKAGES += openssl
ifeq ($(TLS),openssl)
DEB_PACKAGES += libssl-dev
LDLIBS += -lssl -lcrypto
endif
UNIT_MODULES_test_tls := tls net runtime
FUZZ_MODULES_tls := tls net runtime
