# src/tls: the TLS engine (include/uweb/tls.h), its backend chosen by TLS
# (the Makefile builds src/tls/tls_$(TLS).c only) and the TLS connection.
# tests/unit/test_tls.c drives the engine with OpenSSL's client whatever
# the backend, and makes its certificates with the openssl command.
DEB_PACKAGES += openssl libssl-dev
ifeq ($(TLS),openssl)
LDLIBS += -lssl -lcrypto
endif
UNIT_MODULES_test_tls := tls net runtime
UNIT_LDLIBS_test_tls := -lssl -lcrypto
FUZZ_MODULES_tls := tls net runtime
