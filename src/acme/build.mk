# src/acme: the ACME client (include/uweb/acme.h): the protocol on unix
# with jansson and OpenSSL's libcrypto (acme_unix.c, crypto_openssl_unix.c),
# a stub on the unikernels (acme_uk.c).  uw_main (module web) runs it, so
# whatever links module web links acme and the client too (MODULE_DEPS).
# tests/integration/acme.py runs pebble, Debian's ACME test server (plain
# and under ASan+UBSan).
DEB_PACKAGES += libjansson-dev libssl-dev openssl pebble
LDLIBS += -ljansson -lcrypto
MODULE_DEPS_web += acme client
UNIT_MODULES_test_acme := acme client web http util tls runtime net stream
