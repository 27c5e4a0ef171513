# src/static: the engine is pure, but static_web.c (the handler) calls the
# web framework, so programs linking src/static/ link what it uses too.
STATIC_WITH_WEB := static web http util tls runtime net stream
UNIT_MODULES_test_static := $(STATIC_WITH_WEB)
FUZZ_MODULES_static := $(STATIC_WITH_WEB)

# The browser test (tests/integration/browser_crunchzip.*) drives chromium
# with playwright-core from npm (node); bench/static.sh compares with nginx
# under wrk.
DEB_PACKAGES += chromium nodejs nginx-light wrk
