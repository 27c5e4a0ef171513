# tests/unikernel/jansson: jansson as the guests have it (libuweb.a holds
# it too; uw_random comes from libuweb.a's mbedTLS backend).
GUEST_TEST_LIBS_jansson := jansson uweb mbedtls
