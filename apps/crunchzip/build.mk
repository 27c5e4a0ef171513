# apps/crunchzip: the page and stylesheet in assets/ are embedded by
# uweb-crunch into build/gen/crunchzip/crunchzip_assets.c and
# build/include/crunchzip_assets.h; editing an asset regenerates them and
# relinks the app.
# The directories are prerequisites too: adding, removing or renaming a file
# changes their time, so the generated code never lists a deleted asset.
CRUNCHZIP_ASSETS := $(shell find apps/crunchzip/assets -not -name '.*' 2>/dev/null | LC_ALL=C sort)
CRUNCHZIP_GEN_C := $(B)/gen/crunchzip/crunchzip_assets.c
CRUNCHZIP_GEN_H := $(B)/include/crunchzip_assets.h

$(CRUNCHZIP_GEN_C) $(CRUNCHZIP_GEN_H) &: $(CRUNCHZIP_ASSETS) $(B)/tools/uweb-crunch
	@mkdir -p $(dir $(CRUNCHZIP_GEN_C)) $(dir $(CRUNCHZIP_GEN_H))
	$(B)/tools/uweb-crunch -o $(CRUNCHZIP_GEN_C) -H $(CRUNCHZIP_GEN_H) -n crunchzip_assets apps/crunchzip/assets

$(B)/obj/apps/crunchzip/main.o $(B)/asan/obj/apps/crunchzip/main.o: $(CRUNCHZIP_GEN_H)
APP_DEPS_crunchzip := $(B)/obj/$(CRUNCHZIP_GEN_C:.c=.o)

# On the unikernels: net "service" and the optional block device "tls"
# (the PEM chain and key: HTTPS on 443 when it is given).
UK_MANIFEST_crunchzip := net:service block:tls?
