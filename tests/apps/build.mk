# Test apps: tests/apps/NAME/main.c -> build/tests/apps/NAME, servers that
# the integration tests drive with real clients.
TEST_APPS := $(notdir $(patsubst %/,%,$(dir $(wildcard tests/apps/*/main.c))))
$(B)/tests/apps/%: $(B)/obj/tests/apps/%/main.o $(LIB)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)
EXTRA_TEST_DEPS += $(TEST_APPS:%=$(B)/tests/apps/%)
