/*
 * @NAME@: a uweb app (written by `uweb new`).
 *
 *     make && make run                  # http://127.0.0.1:8080/
 *     curl http://127.0.0.1:8080/hello/world
 *
 * The same source builds as a unikernel: make TARGET=spt, make TARGET=hvt
 * (the devices it asks for are in manifest.c); make run TARGET=spt serves
 * it on http://10.0.0.2/ (a unikernel listens on port 80 by default).
 */
#include <uweb/web.h>
#include <uweb/static.h>
#include "assets.h"   /* made by uweb-crunch from assets/ (see Makefile) */

static void hello(uw_req *req, uw_res *res)
{
    uw_res_textf(res, 200, "Hello, %s!\n", uw_req_param(req, "name"));
}

static const uw_static_mount site = { &assets, .cache_control = "no-cache" };

static const uw_route routes[] = {
    { UW_GET, "/hello/<seg:name>", hello },
    { UW_GET, "/<rest:path>", uw_static_handler, .arg = (void *)&site },
};

int main(int argc, char **argv)
{
    return uw_main(argc, argv, &(uw_app){ UW_ROUTES(routes), .name = "@NAME@" });
}
