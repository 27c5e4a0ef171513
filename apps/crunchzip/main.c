/*
 * Crunch & Zip: upload files from a form, get one zip back, streamed.
 *
 * GET / and GET /style.css serve the page and its stylesheet, embedded
 * from assets/ at build time by uweb-crunch (see build.mk); POST /upload
 * takes the form.  Options: --port=N (default 8080), --addr=A, --help.
 */
#include <uweb/static.h>
#include <uweb/web.h>

#include "crunchzip_assets.h"

static const uw_static_mount site = { &crunchzip_assets, .cache_control = "no-cache" };

void crunchzip_upload(uw_req *req, uw_res *res); /* upload.c */

static const uw_route routes[] = {
    { UW_POST, "/upload", crunchzip_upload, .max_body = UW_BODY_UNLIMITED },
    { UW_GET, "/<rest:path>", uw_static_handler, .arg = (void *)&site },
};

int main(int argc, char **argv)
{
    return uw_main(argc, argv, &(uw_app){ UW_ROUTES(routes), .name = "crunchzip" });
}
