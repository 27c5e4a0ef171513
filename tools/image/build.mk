# uweb-image: builds and reads site images (tools/image/README.md).  The
# reader is src/image/ in libuweb; libgit2 reads Git repositories.
DEB_PACKAGES += libzstd-dev libgit2-dev squashfs-tools erofs-utils
TOOL_LDLIBS_image := -lgit2 -lzstd -lcrypto
