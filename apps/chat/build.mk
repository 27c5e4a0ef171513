# apps/chat: the chatroom page in assets/ is embedded by uweb-crunch into
# build/gen/chat/chat_assets.c and build/include/chat_assets.h (as
# apps/crunchzip/build.mk does).
CHAT_ASSETS := $(shell find apps/chat/assets -not -name '.*' 2>/dev/null | LC_ALL=C sort)
CHAT_GEN_C := $(B)/gen/chat/chat_assets.c
CHAT_GEN_H := $(B)/include/chat_assets.h

$(CHAT_GEN_C) $(CHAT_GEN_H) &: $(CHAT_ASSETS) $(B)/tools/uweb-crunch
	@mkdir -p $(dir $(CHAT_GEN_C)) $(dir $(CHAT_GEN_H))
	$(B)/tools/uweb-crunch -o $(CHAT_GEN_C) -H $(CHAT_GEN_H) -n chat_assets apps/chat/assets

$(foreach d,obj asan/obj spt hvt,$(B)/$(d)/apps/chat/main.o): $(CHAT_GEN_H)
APP_DEPS_chat := $(B)/obj/$(CHAT_GEN_C:.c=.o)
