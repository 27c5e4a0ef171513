# platform/jansson/build.mk - jansson (Debian's source package, the host's
# release) compiled freestanding for the unikernels: its objects go into
# build/<t>/libuweb.a beside llhttp's, with src/json/json_unix.c (the
# JSON bodies of include/uweb/json.h), so every unikernel app can use
# <jansson.h> (unix links Debian's libjansson instead).
# platform/jansson/jansson_config.h and jansson_private_config.h stand in
# for configure: 64-bit integers, no locale, no threads, no files
# (json_dumpfd/json_loadfd fail, json_load_file/json_dump_file find no
# file).  Memory comes from the guest's malloc (json_set_alloc_funcs
# still works).  Numbers: JSON integers only, on every guest alike: hvt
# guests on a host without hardware virtualization are built with
# -mgeneral-regs-only (HVT_SOFT_KVM=1, platform/hvt/build.mk) and the
# guest libc has no strtod nor %g, so jansson is compiled with double as a
# 64-bit integer (-Ddouble=__INT64_TYPE__) and
# platform/jansson/jansson_guest.c replaces strconv.c (a number with a fraction or an exponent is refused:
# "real number overflow") and hashtable_seed.c (the seed from uw_random).
# Code on the guests must not call json_real*/json_number_value.
JANSSON_DIR := $(B)/src/jansson
JANSSON_FETCHED := $(JANSSON_DIR)/.fetched
JANSSON_MODULES := dump error hashtable load memory pack_unpack strbuffer utf value version
# What code including <jansson.h> on the guests needs.
JANSSON_GUEST_CPPFLAGS := -Iplatform/jansson -I$(JANSSON_DIR)/src
# jansson's own objects (math.h: isnan/isinf of integers).
JANSSON_GUEST_LIB_FLAGS := $(JANSSON_GUEST_CPPFLAGS) -Iplatform/jansson/include -DHAVE_CONFIG_H -Ddouble=__INT64_TYPE__
# (platform/build.mk names build/<t>/jansson/libjansson.a for test
# unikernels: GUEST_LIB_jansson.)

$(JANSSON_FETCHED): platform/scripts/fetch-src.sh | $(B)/.deps-ok
	@platform/scripts/fetch-src.sh jansson $(JANSSON_DIR) $(B)/apt-src-jansson
	@touch $@

JANSSON_GUEST_DEPS := $(JANSSON_FETCHED) platform/jansson/jansson_config.h platform/jansson/jansson_private_config.h \
  platform/jansson/include/math.h
define jansson_target_rules
$(B)/$(1)/jansson/%.o: $(JANSSON_GUEST_DEPS) $(B)/$(1)/.flags
	@mkdir -p $$(@D)
	@echo "CC $$@"; $$(CC) $$(GUEST_CPPFLAGS) $$(GUEST_CPPFLAGS_$(1)) $(JANSSON_GUEST_LIB_FLAGS) \
	  $$(GUEST_CFLAGS) $$(GUEST_CFLAGS_$(1)) -w -c $(JANSSON_DIR)/src/$$*.c -o $$@
$(B)/$(1)/platform/jansson/%.o: GUEST_CFLAGS_EXTRA = $(JANSSON_GUEST_LIB_FLAGS)
$(B)/$(1)/platform/jansson/jansson_guest.o: $(JANSSON_GUEST_DEPS)
$(B)/$(1)/jansson/libjansson.a: $(JANSSON_MODULES:%=$(B)/$(1)/jansson/%.o) $(B)/$(1)/platform/jansson/jansson_guest.o
	@rm -f $$@; ar rcs $$@ $$^
$(B)/$(1)/libuweb.a: $(JANSSON_MODULES:%=$(B)/$(1)/jansson/%.o) $(B)/$(1)/platform/jansson/jansson_guest.o \
  $(B)/$(1)/src/json/json_unix.o
$(B)/$(1)/src/json/json_unix.o: GUEST_CFLAGS_EXTRA = $(JANSSON_GUEST_CPPFLAGS)
$(B)/$(1)/src/json/json_unix.o: | $(JANSSON_FETCHED)
endef
$(foreach t,$(GUEST_TARGETS),$(eval $(call jansson_target_rules,$(t))))
