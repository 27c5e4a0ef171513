# tests/integration: the HTTPS tests run against both TLS backends on unix.
#   $(B)/mbedtls/apps/{hello,crunchzip}   the apps built with TLS=mbedtls in a
#                                         build directory of their own
#                                         (tests/integration/https.py,
#                                         testssl.py: UWEB_BUILD_MBEDTLS)
#   make testssl                          testssl.sh's full run against both
#                                         backends (make test runs a short one:
#                                         protocols, ciphers, vulnerabilities)
DEB_PACKAGES += testssl.sh
MBEDTLS_APPS := $(B)/mbedtls/apps/hello $(B)/mbedtls/apps/crunchzip

# One sub-make for both (a grouped target: no two sub-makes in one
# directory under -j); it decides what is stale.
$(MBEDTLS_APPS) &: mbedtls-apps-force
	@$(MAKE) --no-print-directory B=$(B)/mbedtls TLS=mbedtls $(MBEDTLS_APPS)

.PHONY: mbedtls-apps mbedtls-apps-force testssl
mbedtls-apps-force:
mbedtls-apps: $(MBEDTLS_APPS)
EXTRA_TEST_DEPS += $(MBEDTLS_APPS)

testssl: all $(MBEDTLS_APPS)
	@UWEB_ROOT=$(ROOT) UWEB_BUILD=$(ROOT)/$(B) UWEB_TESTSSL=full tests/integration/testssl.py
