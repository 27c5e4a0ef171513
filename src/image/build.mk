# src/image: the image reader (reader.c: libzstd from Debian on unix, its
# decompressor built for the guests by platform/zstd/build.mk) and its handler
# (image_web.c, which calls the web framework and the static engine).
DEB_PACKAGES += libzstd-dev
IMAGE_WITH_WEB := image static web http util tls runtime net stream
# tests/unit/test_image writes its images with uweb-image's writer.
UNIT_MODULES_test_image := $(IMAGE_WITH_WEB)
UNIT_LDLIBS_test_image := -lgit2 -lzstd -lcrypto
$(B)/tests/unit/test_image: $(B)/obj/tools/image/writer.o $(B)/obj/tools/image/source.o
$(B)/asan/tests/unit/test_image: $(B)/asan/obj/tools/image/writer.o $(B)/asan/obj/tools/image/source.o
FUZZ_MODULES_image := $(IMAGE_WITH_WEB)
FUZZ_LDLIBS_image := -lzstd -lcrypto
# sha256_uk.c hashes with mbedTLS on the unikernels (its include flags, as
# tls_mbedtls.c and aead_uk.c have them).
$(foreach t,$(GUEST_TARGETS),$(eval $(B)/$(t)/src/image/sha256_uk.o: GUEST_CFLAGS_EXTRA = $(MBEDTLS_CPPFLAGS)))
$(GUEST_TARGETS:%=$(B)/%/src/image/sha256_uk.o): | $(MBEDTLS_FETCHED)
