# Test apps: tests/apps/NAME/main.c -> build/tests/apps/NAME, servers that
# the integration tests drive with real clients.
TEST_APPS := $(notdir $(patsubst %/,%,$(dir $(wildcard tests/apps/*/main.c))))
$(B)/tests/apps/%: $(B)/obj/tests/apps/%/main.o $(LIB)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)
EXTRA_TEST_DEPS += $(TEST_APPS:%=$(B)/tests/apps/%)
# ASan+UBSan twins for `make asan` (the integration tests' second run).
$(TEST_APPS:%=$(B)/asan/tests/apps/%): $(B)/asan/tests/apps/%: $(B)/asan/obj/tests/apps/%/main.o $(LIB_ASAN)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(ASAN_FLAGS) -o $@ $^ $(LDLIBS)
ASAN_BINS += $(TEST_APPS:%=$(B)/asan/tests/apps/%)
