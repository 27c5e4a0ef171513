# uweb-crunch: the build-time asset embedder (tools/crunch/main.c).
TOOL_LDLIBS_crunch := -lbrotlienc -lz
