# tests/integration: the HTTPS tests run against both TLS backends on unix.
#   $(B)/mbedtls/apps/{hello,crunchzip}   the apps built with TLS=mbedtls in a
#                                         build directory of their own
#                                         (tests/integration/https.py,
#                                         testssl.py: UWEB_BUILD_MBEDTLS)
#   $(B)/mbedtls/tests/unit/test_tls,     the engine's unit test (plain and
#   $(B)/mbedtls/asan/tests/unit/test_tls ASan+UBSan) and fuzz_tls (corpus
#   $(B)/mbedtls/fuzz/{replay,fuzz}_tls   replay, libFuzzer) on mbedTLS, run
#                                         by tests/run.sh and tests/fuzz/run.sh
#                                         (labels .../mbedtls/...)
#   make testssl                          testssl.sh's full run against both
#                                         backends (make test runs a short one:
#                                         protocols, ciphers, vulnerabilities)
DEB_PACKAGES += testssl.sh
# (and the ACME client's crypto unit test on mbedTLS, checked by OpenSSL:
# tests/integration/acme.py runs it)
MBEDTLS_APPS := $(B)/mbedtls/apps/hello $(B)/mbedtls/apps/crunchzip $(B)/mbedtls/tests/unit/test_acme
MBEDTLS_TESTS := $(B)/mbedtls/tests/unit/test_tls $(B)/mbedtls/asan/tests/unit/test_tls \
  $(B)/mbedtls/fuzz/replay_tls $(B)/mbedtls/fuzz/fuzz_tls

# One sub-make for all (a grouped target: no two sub-makes in one
# directory under -j); it decides what is stale.
$(MBEDTLS_APPS) $(MBEDTLS_TESTS) &: mbedtls-apps-force
	@$(MAKE) --no-print-directory B=$(B)/mbedtls TLS=mbedtls $(MBEDTLS_APPS) $(MBEDTLS_TESTS)

.PHONY: mbedtls-apps mbedtls-apps-force testssl
mbedtls-apps-force:
mbedtls-apps: $(MBEDTLS_APPS)
EXTRA_TEST_DEPS += $(MBEDTLS_APPS) $(MBEDTLS_TESTS)

testssl: all $(MBEDTLS_APPS)
	@UWEB_ROOT=$(ROOT) UWEB_BUILD=$(ROOT)/$(B) UWEB_TESTSSL=full tests/integration/testssl.py
