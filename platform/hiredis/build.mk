# platform/hiredis/build.mk - hiredis's reader (Debian's source package,
# the host's release), the I/O-free RESP parser, compiled freestanding for
# the unikernels: read.c, sds.c, alloc.c and platform/hiredis/hiredis_guest.c
# (redisReaderCreate and freeReplyObject, which live in hiredis.c with the
# socket code that is not built) go into build/<t>/libuweb.a.  Code on the
# guests includes <hiredis/hiredis.h> with HIREDIS_GUEST_CPPFLAGS and uses
# the reader only (unix links Debian's libhiredis).
HIREDIS_DIR := $(B)/src/hiredis
HIREDIS_FETCHED := $(HIREDIS_DIR)/.fetched
HIREDIS_MODULES := read sds alloc
# <hiredis/hiredis.h>: a directory whose hiredis/ is the source tree.
HIREDIS_INC := $(B)/gen/hiredis
HIREDIS_GUEST_CPPFLAGS := -I$(HIREDIS_INC)

$(HIREDIS_FETCHED): platform/scripts/fetch-src.sh | $(B)/.deps-ok
	@platform/scripts/fetch-src.sh hiredis $(HIREDIS_DIR) $(B)/apt-src-hiredis
	@mkdir -p $(HIREDIS_INC) && ln -sfn ../../src/hiredis $(HIREDIS_INC)/hiredis
	@touch $@

define hiredis_target_rules
$(B)/$(1)/hiredis/%.o: $(HIREDIS_FETCHED) $(B)/$(1)/.flags
	@mkdir -p $$(@D)
	@echo "CC $$@"; $$(CC) $$(GUEST_CPPFLAGS) $$(GUEST_CPPFLAGS_$(1)) $$(GUEST_CFLAGS) $$(GUEST_CFLAGS_$(1)) \
	  -w -c $(HIREDIS_DIR)/$$*.c -o $$@
$(B)/$(1)/platform/hiredis/%.o: GUEST_CFLAGS_EXTRA = $(HIREDIS_GUEST_CPPFLAGS)
$(B)/$(1)/platform/hiredis/hiredis_guest.o: | $(HIREDIS_FETCHED)
$(B)/$(1)/libuweb.a: $(HIREDIS_MODULES:%=$(B)/$(1)/hiredis/%.o) $(B)/$(1)/platform/hiredis/hiredis_guest.o
endef
$(foreach t,$(GUEST_TARGETS),$(eval $(call hiredis_target_rules,$(t))))
