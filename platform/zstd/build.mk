# platform/zstd/build.mk - zstd's decompressor (Debian's libzstd source
# package, the host's release) compiled freestanding for the unikernels:
# lib/common and lib/decompress only (no compressor, no legacy formats, no
# threads, no assembly: ZSTD_DISABLE_ASM), into build/<t>/libuweb.a beside
# jansson's, for the image reader (src/image/reader.c; unix links Debian's
# libzstd instead).  Memory comes from the guest heap (the guest libc's
# malloc/calloc/free, which zstd's default allocator calls).  hvt guests on
# a host without hardware virtualization are built with
# -mgeneral-regs-only (platform/hvt/build.mk), so no SSE intrinsics there
# (ZSTD_NO_INTRINSICS); spt guests keep zstd's SSE2 copies.  No run-time
# BMI2 variants (DYNAMIC_BMI2=0): GCC compiles functions with a target
# attribute with the TLS stack canary (%fs:0x28), which guests do not
# have, instead of -mstack-protector-guard=global.
ZSTD_DIR := $(B)/src/zstd
ZSTD_FETCHED := $(ZSTD_DIR)/.fetched
ZSTD_MODULES := common/debug common/entropy_common common/error_private common/fse_decompress common/xxhash \
  common/zstd_common decompress/huf_decompress decompress/zstd_ddict decompress/zstd_decompress \
  decompress/zstd_decompress_block
# What code including <zstd.h> on the guests needs.
ZSTD_GUEST_CPPFLAGS := -I$(ZSTD_DIR)/lib
ZSTD_GUEST_LIB_FLAGS := $(ZSTD_GUEST_CPPFLAGS) -I$(ZSTD_DIR)/lib/common -DZSTD_DISABLE_ASM -DZSTD_LEGACY_SUPPORT=0 \
  -DDEBUGLEVEL=0 -DXXH_NAMESPACE=ZSTD_ -DZSTD_NO_TRACE -DDYNAMIC_BMI2=0
ZSTD_GUEST_LIB_FLAGS_spt :=
ZSTD_GUEST_LIB_FLAGS_hvt := -DZSTD_NO_INTRINSICS

$(ZSTD_FETCHED): platform/scripts/fetch-src.sh | $(B)/.deps-ok
	@platform/scripts/fetch-src.sh libzstd $(ZSTD_DIR) $(B)/apt-src-zstd
	@touch $@

define zstd_target_rules
$(B)/$(1)/zstd/%.o: $(ZSTD_FETCHED) $(B)/$(1)/.flags
	@mkdir -p $$(@D)
	@echo "CC $$@"; $$(CC) $$(GUEST_CPPFLAGS) $$(GUEST_CPPFLAGS_$(1)) $(ZSTD_GUEST_LIB_FLAGS) $(ZSTD_GUEST_LIB_FLAGS_$(1)) \
	  $$(GUEST_CFLAGS) $$(GUEST_CFLAGS_$(1)) -w -c $(ZSTD_DIR)/lib/$$*.c -o $$@
$(B)/$(1)/libuweb.a: $(ZSTD_MODULES:%=$(B)/$(1)/zstd/%.o)
$(B)/$(1)/src/image/reader.o: GUEST_CFLAGS_EXTRA = $(ZSTD_GUEST_CPPFLAGS)
$(B)/$(1)/src/image/reader.o: | $(ZSTD_FETCHED)
endef
$(foreach t,$(GUEST_TARGETS),$(eval $(call zstd_target_rules,$(t))))
