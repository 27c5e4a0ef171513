# platform/lwip/build.mk - the network stack of the unikernels and uweb
# itself built for them.
#
#   build/<t>/lwip/liblwip.a    lwIP (Debian's source package, fetched into
#                               build/src/lwip) + the service interface
#                               (platform/lwip/netif.c), NO_SYS, our lwipopts.h
#   build/<t>/libuweb.a         src/*/*.c minus *_unix.c, plus llhttp; the TLS
#                               backend is tls_mbedtls.c (platform/mbedtls/)
#   build/<t>/apps/NAME.<t>     apps/NAME/*.c linked with the above, zlib and
#                               the app's manifest (UK_MANIFEST_NAME in its
#                               build.mk; default: net device "service")
#
#   make unikernel-apps-spt / unikernel-apps-hvt, or make TARGET=spt|hvt
#
# Run: build/uweb-spt --net:service=TAP -- build/spt/apps/hello.spt --ipv4=10.0.0.2/24
# (without --ipv4 the guest asks a DHCP server on the tap's link)

# dnsmasq-base: the DHCP server of tests/net/unikernel.py (the binary
# only; the dnsmasq package would also start a DNS service on the host).
DEB_PACKAGES += iputils-ping wrk dnsmasq-base

LWIP_DIR := $(B)/src/lwip
LWIP_FETCHED := $(LWIP_DIR)/.fetched
LWIP_MODULES := core/init core/def core/inet_chksum core/ip core/mem core/memp core/netif \
  core/pbuf core/tcp core/tcp_in core/tcp_out core/timeouts core/udp core/dns \
  core/ipv4/dhcp core/ipv4/etharp core/ipv4/icmp core/ipv4/ip4 core/ipv4/ip4_addr core/ipv4/ip4_frag \
  core/ipv6/ethip6 core/ipv6/icmp6 core/ipv6/inet6 core/ipv6/ip6 core/ipv6/ip6_addr \
  core/ipv6/ip6_frag core/ipv6/mld6 core/ipv6/nd6 \
  netif/ethernet
LWIP_CPPFLAGS := -Iplatform/lwip/include -Iplatform/lwip -I$(LWIP_DIR)/src/include
UK_CPPFLAGS := $(LWIP_CPPFLAGS) -I$(B)/deb/node-llhttp/usr/share/include/llhttp -I$(ZLIB_DIR)
UK_LIB_SRCS := $(filter-out %_unix.c,$(LIB_SRCS)) $(filter %_mbedtls.c,$(TLS_BACKEND_SRCS))
# Apps needing a library the unikernels do not have yet are built for unix
# only: their build.mk adds them to UNIX_ONLY_APPS (pasteur: jansson).
UK_APPS := $(filter-out $(UNIX_ONLY_APPS),$(APPS))

$(LWIP_FETCHED): platform/scripts/fetch-src.sh | $(B)/.deps-ok
	@platform/scripts/fetch-src.sh lwip $(LWIP_DIR) $(B)/apt-src-lwip
	@touch $@

# $(call uk_app_objs,TARGET,APP): the app's objects for TARGET (its own
# sources and the generated ones its build.mk adds under build/obj/).
uk_app_objs = $(patsubst %.c,$(B)/$(1)/%.o,$(wildcard apps/$(2)/*.c)) \
  $(patsubst $(B)/obj/%,$(B)/$(1)/%,$(filter $(B)/obj/%.o,$(APP_DEPS_$(2))))

define uk_target_rules
$(B)/$(1)/lwip/%.o: $(LWIP_FETCHED) $(B)/$(1)/.flags platform/lwip/include/lwipopts.h platform/lwip/include/arch/cc.h
	@mkdir -p $$(@D)
	$$(CC) $$(GUEST_CPPFLAGS) $$(GUEST_CPPFLAGS_$(1)) $(LWIP_CPPFLAGS) $$(if $$(filter %_frag,$$*),-DUW_LWIP_FRAG_SELF) $$(GUEST_CFLAGS) $$(GUEST_CFLAGS_$(1)) -w -c $(LWIP_DIR)/src/$$*.c -o $$@
$(B)/$(1)/lwip/liblwip.a: $(LWIP_MODULES:%=$(B)/$(1)/lwip/%.o) $(B)/$(1)/platform/lwip/netif.o
	@rm -f $$@; ar rcs $$@ $$^
$(B)/$(1)/platform/lwip/%.o: GUEST_CPPFLAGS_EXTRA = $(LWIP_CPPFLAGS)
$(B)/$(1)/platform/lwip/netif.o: | $(LWIP_FETCHED)
$(B)/$(1)/src/%.o: GUEST_CPPFLAGS_EXTRA = $(UK_CPPFLAGS)
$(B)/$(1)/apps/%.o: GUEST_CPPFLAGS_EXTRA = $(UK_CPPFLAGS)
$(B)/$(1)/$(B)/gen/%.o: GUEST_CPPFLAGS_EXTRA = $(UK_CPPFLAGS)
$(B)/$(1)/llhttp/%.o: $(LLHTTP_DIR)/%.c $(B)/$(1)/.flags
	@mkdir -p $$(@D)
	$$(CC) $$(GUEST_CPPFLAGS) $$(GUEST_CPPFLAGS_$(1)) $(UK_CPPFLAGS) $$(GUEST_CFLAGS) $$(GUEST_CFLAGS_$(1)) -w -c $$< -o $$@
$(UK_LIB_SRCS:%.c=$(B)/$(1)/%.o): | $(LWIP_FETCHED) $(ZLIB_DIR)/zlib.h $(LLHTTP_DIR)/api.c
$(B)/$(1)/libuweb.a: $(UK_LIB_SRCS:%.c=$(B)/$(1)/%.o) $(patsubst $(LLHTTP_DIR)/%.c,$(B)/$(1)/llhttp/%.o,$(LLHTTP_SRCS))
	@rm -f $$@; ar rcs $$@ $$^
UK_APP_BINS_$(1) := $(UK_APPS:%=$(B)/$(1)/apps/%.$(1))
endef
$(foreach t,$(GUEST_TARGETS),$(eval $(call uk_target_rules,$(t))))

# Apps (apps/*/build.mk are read before this fragment: APP_DEPS_NAME is
# set; crunchzip's sources include its generated asset header).  Each app
# links its own manifest: UK_MANIFEST_NAME from its build.mk, net
# "service" by default (uk_manifest_obj, platform/build.mk).
define uk_app_rule
$(call uk_app_objs,$(1),$(2)): | $(LLHTTP_DIR)/api.c $(ZLIB_DIR)/zlib.h $(if $(filter crunchzip,$(2)),$(CRUNCHZIP_GEN_H))
$(call guest_link_rule,$(1),$(B)/$(1)/apps/$(2).$(1),$(call uk_app_objs,$(1),$(2)) $(call uk_manifest_obj,$(1),$(2)),$(B)/$(1)/libuweb.a $(B)/$(1)/lwip/liblwip.a $(B)/$(1)/mbedtls/libmbedtls.a $(B)/$(1)/zlib/libz.a)
endef
$(foreach t,$(GUEST_TARGETS),$(foreach a,$(UK_APPS),$(eval $(call uk_app_rule,$(t),$(a)))))

# Test unikernels of tests/net/ (folders with a main.c), linked like the
# apps: build/<t>/tests/net/NAME.<t>.  A test's build.mk may set
# UK_MANIFEST_net_NAME (devices as UK_MANIFEST_NAME of the apps; default:
# net "service" only, platform/lwip/manifest.c).
-include $(wildcard tests/net/*/build.mk)
UK_NET_TESTS := $(notdir $(patsubst %/,%,$(dir $(wildcard tests/net/*/main.c))))
uk_net_test_objs = $(patsubst %.c,$(B)/$(1)/%.o,$(wildcard tests/net/$(2)/*.c))
uk_net_test_manifest = $(if $(UK_MANIFEST_net_$(2)),$(call uk_manifest_obj,$(1),net_$(2)),$(B)/$(1)/platform/lwip/manifest.o)
$(foreach n,$(UK_NET_TESTS),$(if $(UK_MANIFEST_net_$(n)),$(eval $(call uk_manifest_rule,net_$(n),$(UK_MANIFEST_net_$(n))))))
define uk_net_test_rule
$(call uk_net_test_objs,$(1),$(2)): GUEST_CPPFLAGS_EXTRA = $(UK_CPPFLAGS)
$(call uk_net_test_objs,$(1),$(2)): | $(LWIP_FETCHED)
$(call guest_link_rule,$(1),$(B)/$(1)/tests/net/$(2).$(1),$(call uk_net_test_objs,$(1),$(2)) $(call uk_net_test_manifest,$(1),$(2)),$(B)/$(1)/libuweb.a $(B)/$(1)/lwip/liblwip.a $(B)/$(1)/mbedtls/libmbedtls.a $(B)/$(1)/zlib/libz.a)
endef
$(foreach t,$(GUEST_TARGETS),$(foreach n,$(UK_NET_TESTS),$(eval $(call uk_net_test_rule,$(t),$(n)))))
UK_NET_TEST_BINS := $(UK_NET_TESTS:%=$(B)/spt/tests/net/%.spt)

.PHONY: unikernel-apps-spt unikernel-apps-hvt
unikernel-apps-spt: $(UK_APP_BINS_spt)
unikernel-apps-hvt: $(UK_APP_BINS_hvt)
# tests/net/unikernel.py runs them.
EXTRA_TEST_DEPS += $(UK_APP_BINS_spt) $(UK_APP_BINS_hvt) $(UK_NET_TEST_BINS)
ifeq ($(TARGET),spt)
EXTRA_ALL += $(UK_APP_BINS_spt)
endif
ifeq ($(TARGET),hvt)
EXTRA_ALL += $(UK_APP_BINS_hvt)
endif
