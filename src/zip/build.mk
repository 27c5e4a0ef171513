# src/zip: the streaming ZIP writer.  The library objects come from the
# Makefile; here: the readers its tests check archives with, and zipgen, the
# test and benchmark driver (tests/zip/zipgen.c) that writes archives from
# files and generators.
DEB_PACKAGES += unzip zip p7zip-full libarchive-tools perl python3 time

ZIPGEN := $(B)/tests/zip/zipgen
$(ZIPGEN): $(B)/obj/tests/zip/zipgen.o $(patsubst %.c,$(B)/obj/%.o,$(wildcard src/zip/*.c))
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

EXTRA_TEST_DEPS += $(ZIPGEN)
