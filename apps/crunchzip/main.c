/*
 * Crunch & Zip: upload files from a form, get one zip back, streamed.
 *
 * GET / and GET /style.css serve the page and its stylesheet, embedded
 * from assets/ at build time by uweb-crunch (see build.mk); POST /upload
 * takes the form; unknown paths get the 404 page of assets/404.html.
 * Options: --port=N (default 8080 on unix, 80 on unikernels), --addr=A, --help.
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

/* The app's error pages, from its embedded assets. */
static uw_error_page pages[1];
static const uw_error_pages error_pages = { pages, UW_COUNT(pages) };
static const uw_middleware mws[] = { { uw_mw_error_pages, (void *)&error_pages } };

int main(int argc, char **argv)
{
    pages[0] = (uw_error_page){ 404, .asset = uw_static_find(&crunchzip_assets, "/404.html", 9) };
    return uw_main(argc, argv, &(uw_app){ UW_ROUTES(routes), UW_MIDDLEWARES(mws), .name = "crunchzip" });
}
