/*
 * site: serves a read-only image made by uweb-image (include/uweb/image.h)
 * with ETags, Last-Modified, ranges and directory index pages.
 *
 *   build/apps/site --image=site.img              unix, the image as a file
 *   build/apps/site --block:site=site.img         unix, as the block device "site"
 *   uweb-spt --block:site=site.img --net:service=tap0 -- site.spt
 *
 * Options of its own: --image=FILE, --cache=BYTES (the reader's block
 * cache, default 2 MiB); every other option is uw_main's (--port, ...).
 * Compressible files of 1 KiB and more go out compressed on the fly to
 * clients that ask (uw_mw_compress: gzip, and brotli on unix; Vary:
 * Accept-Encoding; never for Range answers).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uweb/block.h>
#include <uweb/compress.h>
#include <uweb/image.h>
#include <uweb/web.h>

static uw_image_mount site = { NULL, .cache_control = "no-cache" };

static const uw_middleware mws[] = { { uw_mw_compress, NULL } };

static const uw_route routes[] = {
    { UW_GET, "/<rest:path>", uw_image_handler, .arg = &site },
};

int main(int argc, char **argv)
{
    const char *file = NULL;
    uw_image_config cfg = { 0 };
    int n = 1;
    for (int i = 1; i < argc; i++) {
        if (strncmp(argv[i], "--image=", 8) == 0) { file = argv[i] + 8; continue; }
        if (strncmp(argv[i], "--cache=", 8) == 0) { cfg.cache_bytes = strtoull(argv[i] + 8, NULL, 10); continue; }
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            printf("site: serves an image made by uweb-image\n"
                   "    --image=FILE            the image (unix); else the block device \"site\"\n"
                   "    --cache=BYTES           the reader's block cache (default 2097152)\n");
        else if (strncmp(argv[i], "--block:site=", 13) == 0) {
            /* Attached here, read-only, so the image opens before serving. */
            if (uw_block_attach("site", argv[i] + 13, UW_BLOCK_READ_ONLY) != UW_OK) {
                fprintf(stderr, "site: %s: cannot attach (a file of a multiple of 512 bytes)\n", argv[i] + 13);
                return 1;
            }
            continue;
        }
        argv[n++] = argv[i];
    }
    argv[n] = NULL;
    argc = n;
    int help = 0;
    for (int i = 1; i < argc; i++) help |= strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--version") == 0;
    if (!help) {
        int r = file ? uw_image_open_file(&site.image, file, &cfg) : uw_image_open_device(&site.image, "site", &cfg);
        if (r != UW_OK) {
            fprintf(stderr, "site: %s: %s\n", file ? file : "block device site", uw_image_open_error());
            return 1;
        }
    }
    int r = uw_main(argc, argv, &(uw_app){ UW_ROUTES(routes), UW_MIDDLEWARES(mws), .name = "site" });
    uw_image_close(site.image);
    return r;
}
