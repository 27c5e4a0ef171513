# pkg/build.mk - uweb for other people's projects.
#
#   make install [PREFIX=/usr/local] [DESTDIR=]   headers, libraries for unix, spt
#                                  and hvt, tenders, tools, pkg-config modules
#                                  uweb / uweb-spt / uweb-hvt, man pages, the
#                                  `uweb new NAME` template (pkg/install.sh)
#   make uninstall [PREFIX=] [DESTDIR=]   removes what install recorded
#   make deb                       build/uweb_VERSION_amd64.deb (dpkg-deb)
#
# The version is UW_VERSION in include/uweb/version.h, nowhere else.
# Installing needs the unikernel libraries too: `make install` builds what
# is missing for all three targets.

DEB_PACKAGES += pkg-config dpkg-dev strace man-db groff-base libssl-dev

PREFIX ?= /usr/local
DESTDIR ?=
# Man pages are dated by the tree's last commit (reproducible).
UW_SOURCE_DATE := $(or $(SOURCE_DATE_EPOCH),$(shell git log -1 --format=%ct 2>/dev/null),0)
UW_VERSION_STR := $(shell sed -n 's/^\#define UW_VERSION "\(.*\)"$$/\1/p' include/uweb/version.h)

# Everything pkg/install.sh copies out of the build (recursive: the
# fragments that define these variables are read after this one).
INSTALL_DEPS = $(LIB) $(LIB_LIBS) $(B)/tools/uweb-crunch $(B)/tools/uweb-bench $(B)/tools/uweb-image $(B)/uweb-spt $(B)/uweb-hvt \
  $(foreach t,$(GUEST_TARGETS),$(B)/$(t)/libuweb.a $(B)/$(t)/lwip/liblwip.a $(B)/$(t)/mbedtls/libmbedtls.a \
    $(B)/$(t)/zlib/libz.a $(B)/$(t)/libuwc.a $(B)/$(t)/platform/lwip/manifest.o $(GUEST_BINDINGS_$(t)))
INSTALL_SRCS := pkg/install.sh pkg/uweb.sh pkg/help2man.sh $(wildcard pkg/template/*) \
  $(wildcard include/uweb/*.h) README.md LICENSE

.PHONY: install uninstall deb install-check
# uweb.pc links OpenSSL: the unix library must be built with it.
install-check:
	@test "$(TLS)" = openssl || { echo "make install: TLS=$(TLS): uweb.pc is written for TLS=openssl" >&2; exit 1; }
# The guests' link flags per target (where guest.ld puts the image) go
# into uweb-spt.pc and uweb-hvt.pc.
INSTALL_ENV = GUEST_LDFLAGS_spt='$(GUEST_LDFLAGS_spt)' GUEST_LDFLAGS_hvt='$(GUEST_LDFLAGS_hvt)'
install: install-check $$(INSTALL_DEPS)
	@$(INSTALL_ENV) SOURCE_DATE_EPOCH=$(UW_SOURCE_DATE) pkg/install.sh install $(B) $(PREFIX) '$(DESTDIR)' $(UW_VERSION_STR) $(HVT_SOFT_KVM) $(CC)
uninstall:
	@pkg/install.sh uninstall $(PREFIX) '$(DESTDIR)'

# The Debian package: installed under /usr into build/pkg/root, with
# DEBIAN/control from pkg/control.in.  dpkg owns the files, so the
# install record is left out.  Lintian's verdict, if it is installed.
DEB_FILE := $(B)/uweb_$(UW_VERSION_STR)_amd64.deb
deb: $(DEB_FILE)
$(DEB_FILE): $$(INSTALL_DEPS) $(INSTALL_SRCS) pkg/control.in | install-check
	@rm -rf $(B)/pkg/root
	@$(INSTALL_ENV) SOURCE_DATE_EPOCH=$(UW_SOURCE_DATE) pkg/install.sh install $(B) /usr $(B)/pkg/root $(UW_VERSION_STR) $(HVT_SOFT_KVM) $(CC) >/dev/null
	@rm -f $(B)/pkg/root/usr/share/uweb/installed
	@install -m 644 LICENSE $(B)/pkg/root/usr/share/doc/uweb/copyright
	@mkdir -p $(B)/pkg/root/DEBIAN
	@sed -e 's/@VERSION@/$(UW_VERSION_STR)/' \
	  -e "s/@SIZE@/$$(du -sk --exclude=DEBIAN $(B)/pkg/root | cut -f1)/" pkg/control.in >$(B)/pkg/root/DEBIAN/control
	@cd $(B)/pkg/root && find usr -type f | LC_ALL=C sort | xargs md5sum >DEBIAN/md5sums
	@dpkg-deb --root-owner-group -Zxz --build $(B)/pkg/root $@ >/dev/null
	@echo "built $@"
	@if command -v lintian >/dev/null; then lintian --no-tag-display-limit $@ | grep '^E:' || echo "lintian: no errors"; \
	  else echo "lintian: not installed, not checked"; fi

EXTRA_TEST_DEPS += $(INSTALL_DEPS)
EXTRA_CLEAN += $(B)/pkg $(B)/uweb_*.deb
