# src/compress: compression on the fly (include/uweb/compress.h), gzip with
# zlib everywhere, brotli with libbrotli on unix (compress_br_unix.c).
DEB_PACKAGES += libbrotli-dev
LDLIBS += -lbrotlienc
UNIT_MODULES_test_compress := compress web http util tls runtime net stream
UNIT_LDLIBS_test_compress := -lbrotlidec
DEB_PACKAGES += python3-brotli
