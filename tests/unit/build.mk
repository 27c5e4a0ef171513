# Unit tests that need more than their own module.
UNIT_MODULES_test_web := web http util tls runtime net stream
UNIT_MODULES_test_stream := stream runtime
UNIT_MODULES_test_arena := runtime
FUZZ_MODULES_request := web http util tls runtime net stream
UNIT_MODULES_test_http := web http util tls runtime net stream
UNIT_MODULES_test_proxy := http util tls runtime net stream
FUZZ_MODULES_proxy := http util tls runtime net stream
