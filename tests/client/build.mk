# tests/client: fetch (the client as a command) for the tests against
# uweb's servers and nginx in this folder; it borrows uweb-bench's SHA-256.
CLIENT_FETCH := $(B)/tests/client/fetch
$(CLIENT_FETCH): $(B)/obj/tests/client/fetch.o $(B)/obj/tools/bench/hist.o $(LIB)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)
EXTRA_TEST_DEPS += $(CLIENT_FETCH) $(B)/tools/uweb-bench
# client.py starts nginx on a free port as the reference server; the
# uweb-bench benchmark runs wrk beside it.
DEB_PACKAGES += nginx wrk
