# src/http: HTTP/1.1 (llhttp, fetched by the Makefile) and HTTP/2 (nghttp2:
# Debian's libnghttp2 on unix; h2_conn.c builds without it on targets that
# lack its header, and then never offers h2).  nghttp2-client (nghttp,
# h2load), python3-h2 and h2o are for tests/h2/ and bench/h2.sh.
DEB_PACKAGES += libnghttp2-dev nghttp2-client python3-h2 h2o
LDLIBS += -lnghttp2
# tests/fuzz/fuzz_h2.c: HTTP/2 over an in-memory connection.
FUZZ_MODULES_h2 := http util tls runtime net stream
