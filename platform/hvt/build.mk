# platform/hvt/build.mk - the hvt target: the uweb-hvt tender (a KVM
# monitor, host program) and the hvt guest bindings; links the test
# unikernels for hvt.
#
#   make build/uweb-hvt                          the tender
#   make build/hvt/tests/unikernel/hello.hvt     one test guest
#   make unikernel-hvt                           the tender and every test guest
#
# HVT_SOFT_KVM=1 builds hvt guests (bindings, libc, zlib, apps) with
# -mgeneral-regs-only: no SSE or x87 instruction anywhere, for hosts whose
# /dev/kvm is emulated in software and cannot run them.  The default is
# detected: 1 when the CPU has no hardware virtualization (no vmx/svm flag
# in /proc/cpuinfo), else 0 (normal code generation; the tender enables
# SSE for the guest).

DEB_PACKAGES += linux-libc-dev

HVT_SOFT_KVM ?= $(shell grep -qwE 'vmx|svm' /proc/cpuinfo 2>/dev/null && echo 0 || echo 1)

# ---------------------------------------------------------------- tender
HVT_TENDER_SRCS := $(sort $(wildcard platform/hvt/tender/*.c))
HVT_TENDER_OBJS := $(HVT_TENDER_SRCS:%.c=$(B)/host/%.o)

$(B)/host/platform/hvt/%.o: platform/hvt/%.c | $(B)/.deps-ok
	@mkdir -p $(@D)
	$(CC) -Iplatform/include -Iplatform/tender -D_GNU_SOURCE $(CFLAGS) -fPIE -MMD -MP -c $< -o $@

# TENDER_COMMON_OBJS: the tenders' shared code (platform/build.mk).
$(B)/uweb-hvt: $(HVT_TENDER_OBJS) $(TENDER_COMMON_OBJS)
	$(CC) $(CFLAGS) -o $@ $^

# ---------------------------------------------------------------- guests
# Only once the common guest build (platform/build.mk) provides the rules.
ifdef guest_test_rule
ifeq ($(HVT_SOFT_KVM),1)
GUEST_CFLAGS_hvt += -mgeneral-regs-only
endif
GUEST_CFLAGS_hvt += -mno-red-zone
GUEST_CPPFLAGS_hvt += -Iplatform/hvt

GUEST_BINDINGS_hvt := $(B)/hvt/platform/hvt/start.o $(B)/hvt/platform/hvt/bindings.o

# Changing HVT_SOFT_KVM changes GUEST_CFLAGS_hvt, and build/hvt/.flags
# (platform/build.mk) then rebuilds every hvt object.

HVT_TEST_GUESTS := $(patsubst %,$(B)/hvt/tests/unikernel/%.hvt,$(UNIKERNEL_TESTS) $(UNIKERNEL_TESTS_hvt_only))
$(foreach n,$(UNIKERNEL_TESTS) $(UNIKERNEL_TESTS_hvt_only),$(eval $(call guest_test_rule,hvt,$(n))))
endif

UNIKERNEL_HVT := $(B)/uweb-hvt $(HVT_TEST_GUESTS)
EXTRA_TEST_DEPS += $(UNIKERNEL_HVT)
ifeq ($(TARGET),hvt)
EXTRA_ALL += $(UNIKERNEL_HVT)
endif
.PHONY: unikernel-hvt
unikernel-hvt: $(UNIKERNEL_HVT)

-include $(shell find $(B)/host/platform/hvt -name '*.d' 2>/dev/null)
