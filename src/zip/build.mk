# src/zip: the streaming ZIP writer.  The library objects come from the
# Makefile; here: the Unicode tables its names are normalized with, the
# readers its tests check archives with, and zipgen, the test and
# benchmark driver (tests/zip/zipgen.c) that writes archives from files
# and generators.
DEB_PACKAGES += unzip zip p7zip-full libarchive-tools perl python3 time unicode-data bzip2

# NFC and case folding tables, generated from the Unicode Character
# Database of unicode-data into the build directory; every build of
# unicode.c (host, ASan, guests, fuzz targets) waits for them.
UNICODE_DIR := /usr/share/unicode
ZIP_UNICODE_H := $(B)/include/zip_unicode_tables.h
$(ZIP_UNICODE_H): src/zip/unicode_tables.py | $(B)/.deps-ok
	@mkdir -p $(@D)
	python3 src/zip/unicode_tables.py $(UNICODE_DIR) $@
$(foreach d,obj asan fuzzobj $(GUEST_TARGETS),$(B)/$(d)/src/zip/unicode.o): $(ZIP_UNICODE_H)

FUZZ_MODULES_zipname := zip
$(B)/fuzz/fuzz_zipname: $(ZIP_UNICODE_H)

ZIPGEN := $(B)/tests/zip/zipgen
$(ZIPGEN): $(B)/obj/tests/zip/zipgen.o $(patsubst %.c,$(B)/obj/%.o,$(wildcard src/zip/*.c))
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

EXTRA_TEST_DEPS += $(ZIPGEN)
