# src/client: the HTTP/1.1 client.  Its unit test runs uweb's own server
# in the same process; the fuzz target feeds the response parser alone.
UNIT_MODULES_test_client := client web http util tls runtime net stream
FUZZ_MODULES_response := client tls runtime net
# HTTP/2 (src/client/h2.c) on nghttp2 where its header is (unix); tests
# and the benchmark compare with h2load (nghttp2-client).
DEB_PACKAGES += libnghttp2-dev nghttp2-client
LDLIBS += -lnghttp2
