# src/image: the image reader (reader_unix.c links libzstd) and its handler
# (image_web.c, which calls the web framework and the static engine).
DEB_PACKAGES += libzstd-dev
IMAGE_WITH_WEB := image static web http util tls runtime net stream
UNIT_MODULES_test_image := image
UNIT_LDLIBS_test_image := -lzstd
FUZZ_MODULES_image := $(IMAGE_WITH_WEB)
FUZZ_LDLIBS_image := -lzstd
