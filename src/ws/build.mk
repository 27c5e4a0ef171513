# src/ws: the WebSocket frame codec (no I/O: frames, masking, UTF-8,
# close payloads, the handshake's key, permessage-deflate on zlib).
# src/websocket (the WebSocket of handlers) and src/sse (server-sent
# events) are built from the Makefile's defaults.
# python3-websockets: the client of tests/integration/websocket.py;
# libwebsockets-dev: the reference server of bench/ws.sh.
DEB_PACKAGES += python3-websockets libwebsockets-dev
UNIT_MODULES_test_ws := ws util
FUZZ_MODULES_ws := ws util

# `make ws-idle`: tests/integration/websocket.py with 10,000 idle
# WebSockets, as make test opens (UWEB_WS_IDLE=N for another count).
.PHONY: ws-idle
ws-idle: $(B)/tests/apps/wsecho
	@UWEB_ROOT=$(ROOT) UWEB_BUILD=$(ROOT)/$(B) UWEB_WS_IDLE=10000 tests/integration/websocket.py
