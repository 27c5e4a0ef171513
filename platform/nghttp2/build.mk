# platform/nghttp2/build.mk - nghttp2 (Debian's source package, the host's
# release: 1.52 on bookworm) compiled freestanding for the unikernels: its
# objects go into build/<t>/libuweb.a beside llhttp's, under
# src/http/h2_conn.c (unix links Debian's libnghttp2 instead).
# platform/nghttp2/config.h stands in for configure; nghttp2ver.h is made
# from its template.  Its memory comes from the guest heap through its
# allocator hook (nghttp2_mem, h2_conn.c: counted and bounded per
# connection).  (Included
# after platform/hvt/build.mk, which sets the guests' flags.)
NGHTTP2_DIR := $(B)/src/nghttp2
NGHTTP2_FETCHED := $(NGHTTP2_DIR)/.fetched
NGHTTP2_VER_H := $(B)/gen/nghttp2/nghttp2/nghttp2ver.h
NGHTTP2_MODULES := buf callbacks debug extpri frame hd hd_huffman hd_huffman_data helper http map mem npn \
  option outbound_item pq priority_spec queue ratelim rcbuf session stream submit time version
NGHTTP2_GUEST_CPPFLAGS := -DHAVE_CONFIG_H -DNGHTTP2_STATICLIB -Iplatform/nghttp2 -I$(B)/gen/nghttp2 \
  -I$(NGHTTP2_DIR)/lib/includes

$(NGHTTP2_FETCHED): platform/scripts/fetch-src.sh | $(B)/.deps-ok
	@platform/scripts/fetch-src.sh nghttp2 $(NGHTTP2_DIR) $(B)/apt-src-nghttp2
	@touch $@
$(NGHTTP2_VER_H): $(NGHTTP2_FETCHED)
	@mkdir -p $(@D)
	@v=$$(sed -n 's/^AC_INIT(\[nghttp2\], \[\([^]]*\)\].*/\1/p' $(NGHTTP2_DIR)/configure.ac); \
	  n=$$(echo "$$v" | awk -F. '{ printf "0x%02x%02x%02x", $$1, $$2, $$3 }'); \
	  sed -e "s/@PACKAGE_VERSION@/$$v/" -e "s/@PACKAGE_VERSION_NUM@/$$n/" \
	    $(NGHTTP2_DIR)/lib/includes/nghttp2/nghttp2ver.h.in > $@

define nghttp2_target_rules
$(B)/$(1)/nghttp2/%.o: $(NGHTTP2_VER_H) platform/nghttp2/config.h $(B)/$(1)/.flags
	@mkdir -p $$(@D)
	@echo "CC $$@"; $$(CC) $$(GUEST_CPPFLAGS) $$(GUEST_CPPFLAGS_$(1)) $(NGHTTP2_GUEST_CPPFLAGS) -I$(NGHTTP2_DIR)/lib \
	  $$(GUEST_CFLAGS) $$(GUEST_CFLAGS_$(1)) -w -c $(NGHTTP2_DIR)/lib/nghttp2_$$*.c -o $$@
$(B)/$(1)/libuweb.a: $(NGHTTP2_MODULES:%=$(B)/$(1)/nghttp2/%.o)
$(B)/$(1)/src/http/h2_conn.o: GUEST_CFLAGS_EXTRA = $(NGHTTP2_GUEST_CPPFLAGS)
$(B)/$(1)/src/http/h2_conn.o: | $(NGHTTP2_VER_H)
endef
# Not for a guest built without SSE (hvt on a host whose /dev/kvm is
# emulated, HVT_SOFT_KVM=1): nghttp2 parses priority fields with doubles.
# Its h2_conn.c then builds without nghttp2 and offers HTTP/1.1 only.
NGHTTP2_TARGETS := $(foreach t,$(GUEST_TARGETS),$(if $(findstring -mgeneral-regs-only,$(GUEST_CFLAGS_$(t))),,$(t)))
$(foreach t,$(NGHTTP2_TARGETS),$(eval $(call nghttp2_target_rules,$(t))))
