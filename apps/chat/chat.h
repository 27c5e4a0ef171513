/* The chat room (room.c): members, the broadcast, the history. */
#ifndef CHAT_H
#define CHAT_H

#include <uweb/http.h>
#include <uweb/ws.h>

#define CHAT_NAME_MAX 32
#define CHAT_TEXT_MAX 2000

/* A display name from the query (NULL: "guest-N"): at most
 * CHAT_NAME_MAX bytes of valid UTF-8 without control characters. */
void chat_name(const char *query, char out[CHAT_NAME_MAX + 1]);
/* A member on a WebSocket, until it leaves or is too slow. */
void chat_serve_ws(uw_ws *ws, const char *name);
/* A read-only member on a server-sent events stream. */
void chat_serve_sse(uw_res *res);

#endif
