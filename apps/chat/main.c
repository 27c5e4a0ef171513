/*
 * Chat: a chatroom where every browser sees everyone's messages (vif's
 * tutorial, on uweb).
 *
 *   GET /                the page (assets/, embedded at build time)
 *   GET /ws?name=NAME    a WebSocket into the room: text messages in,
 *                        JSON events out ({"from","text"}, {"system"})
 *   GET /events          the room as server-sent events (read-only)
 *
 * The room lives in room.c.  Options: those of every app (--help).
 */
#include <uweb/sse.h>
#include <uweb/static.h>
#include <uweb/web.h>
#include <uweb/ws.h>

#include "chat.h"
#include "chat_assets.h"

static const uw_static_mount site = { &chat_assets, .cache_control = "no-cache" };

static void ws_route(uw_req *req, uw_res *res)
{
    char name[CHAT_NAME_MAX + 1];
    chat_name(uw_req_query(req, "name"), name);
    uw_ws_options o;
    uw_ws_options_default(&o);
    o.max_message = CHAT_TEXT_MAX * 4;       /* longer texts are cut, longer messages refused */
    o.write_timeout = UW_SEC(5);             /* a member that takes no bytes for that long leaves */
    uw_ws *ws;
    if (uw_ws_accept_opts(req, res, &ws, &o) != UW_OK) return;
    chat_serve_ws(ws, name);
}

static void events_route(uw_req *req, uw_res *res)
{
    (void)req;
    if (uw_sse_begin(res) != UW_OK) return;
    chat_serve_sse(res);
}

static const uw_route routes[] = {
    { UW_GET, "/ws", ws_route },
    { UW_GET, "/events", events_route },
    { UW_GET, "/<rest:path>", uw_static_handler, .arg = (void *)&site },
};

int main(int argc, char **argv)
{
    return uw_main(argc, argv, &(uw_app){ UW_ROUTES(routes), .name = "chat" });
}
