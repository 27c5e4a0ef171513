# src/json: JSON bodies and responses with jansson (include/uweb/json.h);
# unix only for now (json_unix.c).
DEB_PACKAGES += libjansson-dev
LDLIBS += -ljansson
UNIT_MODULES_test_json := json web http util tls runtime net stream
FUZZ_MODULES_json := json web http util tls runtime net stream
FUZZ_LDLIBS_json := -ljansson
