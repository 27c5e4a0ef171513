# src/multipart: the streaming multipart/form-data parser.  Its unit test
# and fuzz target link src/multipart/ only (the defaults).  bench/multipart.sh
# compares it with Debian's python3-multipart and Node's busboy (fetched
# with npm into build/node_modules by the script).
DEB_PACKAGES += python3-multipart nodejs

# The portable delimiter search (memchr; what unikernel builds without SSE
# get) is tested by the same unit test built with UW_MP_NO_SIMD, under
# ASan+UBSan; x86-64 builds otherwise take the SSE2 search.
MP_NOSIMD_SRCS := tests/unit/test_multipart.c $(sort $(wildcard src/multipart/*.c))
$(B)/tests/unit/test_multipart_nosimd: $(MP_NOSIMD_SRCS) $(wildcard src/multipart/*.h) include/uweb/multipart.h | $(B)/.deps-ok
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(ASAN_FLAGS) -DUW_MP_NO_SIMD -o $@ $(MP_NOSIMD_SRCS) $(LDLIBS)
EXTRA_TEST_DEPS += $(B)/tests/unit/test_multipart_nosimd
