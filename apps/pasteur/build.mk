# apps/pasteur: the page in web/ and the npm packages it uses (highlight.js,
# marked, DOMPurify: fetched by npm into $(B)/pasteur-npm at build time,
# never committed) are embedded by uweb-crunch into
# $(B)/gen/pasteur/pasteur_assets.c; the pastes live in the block device
# "store" (--block:store=FILE on unix).  JSON through jansson, RESP through
# hiredis's reader: Debian's libraries on unix, the same sources compiled
# for the unikernels (platform/jansson/, platform/hiredis/).
DEB_PACKAGES += libjansson-dev libhiredis-dev redis-server haproxy
# tests/integration/browser_pasteur_firefox.py: the pages in Firefox, driven by
# puppeteer-core (npm, into $(B)/firefox-node at test time) over WebDriver BiDi.
DEB_PACKAGES += firefox-esr
APP_LDLIBS_pasteur := -ljansson -lhiredis
# On the unikernels: the store, and the optional "tls" device (the PEM
# chain and key, as apps/hello: HTTPS when it is given).
UK_MANIFEST_pasteur := net:service block:store block:tls?

PASTEUR_NPM := @highlightjs/cdn-assets@11.12.0 marked@15.0.12 dompurify@3.5.0
PASTEUR_NPM_DIR := $(B)/pasteur-npm
PASTEUR_VENDOR := $(B)/gen/pasteur/vendor
PASTEUR_VENDOR_FILES := $(PASTEUR_VENDOR)/vendor/highlight.min.js $(PASTEUR_VENDOR)/vendor/marked.min.js \
  $(PASTEUR_VENDOR)/vendor/purify.min.js $(PASTEUR_VENDOR)/vendor/hljs.css

$(PASTEUR_VENDOR_FILES) &: apps/pasteur/build.mk | $(B)/.deps-ok
	@mkdir -p $(PASTEUR_NPM_DIR) $(PASTEUR_VENDOR)/vendor
	@cd $(PASTEUR_NPM_DIR) && PATH=/usr/bin:$$PATH npm install --prefix . --no-audit --no-fund --no-save $(PASTEUR_NPM) >npm.log 2>&1 \
	  || { echo "pasteur: npm install $(PASTEUR_NPM) failed, see $(PASTEUR_NPM_DIR)/npm.log"; exit 1; }
	cp $(PASTEUR_NPM_DIR)/node_modules/@highlightjs/cdn-assets/highlight.min.js $(PASTEUR_VENDOR)/vendor/highlight.min.js
	cp $(PASTEUR_NPM_DIR)/node_modules/@highlightjs/cdn-assets/styles/github.min.css $(PASTEUR_VENDOR)/vendor/hljs.css
	cp $(PASTEUR_NPM_DIR)/node_modules/marked/marked.min.js $(PASTEUR_VENDOR)/vendor/marked.min.js
	cp $(PASTEUR_NPM_DIR)/node_modules/dompurify/dist/purify.min.js $(PASTEUR_VENDOR)/vendor/purify.min.js

PASTEUR_ASSETS := $(shell find apps/pasteur/web -not -name '.*' 2>/dev/null | LC_ALL=C sort)
PASTEUR_GEN_C := $(B)/gen/pasteur/pasteur_assets.c
PASTEUR_GEN_H := $(B)/include/pasteur_assets.h

$(PASTEUR_GEN_C) $(PASTEUR_GEN_H) &: $(PASTEUR_ASSETS) $(PASTEUR_VENDOR_FILES) $(B)/tools/uweb-crunch
	@mkdir -p $(dir $(PASTEUR_GEN_C)) $(dir $(PASTEUR_GEN_H))
	$(B)/tools/uweb-crunch -o $(PASTEUR_GEN_C) -H $(PASTEUR_GEN_H) -n pasteur_assets apps/pasteur/web $(PASTEUR_VENDOR)

$(B)/obj/apps/pasteur/main.o $(B)/asan/obj/apps/pasteur/main.o: $(PASTEUR_GEN_H)
APP_DEPS_pasteur := $(B)/obj/$(PASTEUR_GEN_C:.c=.o)

# The guests' objects: jansson's and hiredis's headers from the fetched
# sources (platform/jansson/build.mk and platform/hiredis/build.mk are read
# after this file: their stamps are named here).
PASTEUR_GUEST_OBJS := $(foreach t,spt hvt,$(patsubst %.c,$(B)/$(t)/%.o,$(wildcard apps/pasteur/*.c)))
$(PASTEUR_GUEST_OBJS): GUEST_CFLAGS_EXTRA = $(JANSSON_GUEST_CPPFLAGS) $(HIREDIS_GUEST_CPPFLAGS)
$(PASTEUR_GUEST_OBJS): | $(B)/src/jansson/.fetched $(B)/src/hiredis/.fetched
$(B)/spt/apps/pasteur/main.o $(B)/hvt/apps/pasteur/main.o: $(PASTEUR_GEN_H)
