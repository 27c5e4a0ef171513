# apps/site: serves an image made by uweb-image (tools/image) from a file
# or the block device "site"; `make run` serves an image of example/.
APP_LDLIBS_site := -lzstd -lcrypto
UK_MANIFEST_site := net:service block:site
SITE_EXAMPLE := $(shell find apps/site/example -type f 2>/dev/null | LC_ALL=C sort)
$(B)/site.img: $(SITE_EXAMPLE) $(B)/tools/uweb-image
	$(B)/tools/uweb-image build apps/site/example -o $@ --mtime=$(shell git log -1 --format=%ct 2>/dev/null || echo 0) -q
EXTRA_ALL += $(B)/site.img
