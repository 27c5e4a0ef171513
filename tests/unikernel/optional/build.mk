# tests/unikernel/optional: a guest declaring an optional block device
# (a final "?", platform/build.mk) beside a required one.
UK_TEST_MANIFEST_optional := block:tls? block:data
