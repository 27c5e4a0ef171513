# src/client: the HTTP/1.1 client.  Its unit test runs uweb's own server
# in the same process; the fuzz target feeds the response parser alone.
UNIT_MODULES_test_client := client web http util tls runtime net stream
FUZZ_MODULES_response := client tls runtime net
