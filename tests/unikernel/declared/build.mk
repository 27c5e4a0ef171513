# tests/unikernel/declared: a guest whose devices come from the build, as
# an app's do (UK_TEST_MANIFEST_NAME, platform/build.mk), not from its source.
UK_TEST_MANIFEST_declared := net:service block:tls
