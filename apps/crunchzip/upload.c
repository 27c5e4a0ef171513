/*
 * POST /upload: every file part of a multipart/form-data body becomes one
 * entry of a ZIP archive that streams back while the upload still arrives.
 *
 * The body is read in the server's buffers (uw_req_read_chunk), parsed by
 * the multipart parser, and each file part's bytes go through the ZIP
 * writer, whose sink writes the chunked response.  Nothing holds a whole
 * file: memory per upload is the writer (about 470 KiB with zlib), the
 * parser (about 20 KiB) and the server's own buffers, all from the
 * request's arena.
 *
 * A part is a file when it has a filename; one with an empty or no
 * filename but data that is not a plain text field (a browser's empty file
 * input sends filename="" and no data) gets a random name.  Plain form
 * fields are ignored.
 *
 * Errors before the first byte of the archive is sent answer 400
 * "Invalid multipart/form-data request: <reason>" (413 for the parser's
 * limits; 422 for a form without any file, not an empty archive); once the archive has started, the connection is closed, so the
 * client sees a truncated archive instead of a wrong one.
 */
#include <uweb/multipart.h>
#include <uweb/web.h>
#include <uweb/zip.h>

#include <stdio.h>
#include <string.h>
#include <strings.h>

void crunchzip_upload(uw_req *req, uw_res *res);

typedef struct upload {
    uw_req *req;
    uw_res *res;
    uw_zip *zip;
    uw_arena *arena;
    uint64_t size_hint;
    int64_t mtime;
    uint64_t rng;
    int in_entry;           /* an entry is open for the current part */
    unsigned entries;       /* files in the archive so far */
    int deferred;           /* the current part gets a random name at its first data */
    int write_failed;       /* the response could not be written */
    uw_zip_error zip_error; /* a writer error seen in a callback */
} upload;

/* ------------------------------------------------------------ the sink */

/* The first bytes of the archive start the response. */
static int sink(void *ctx, const void *buf, size_t len)
{
    upload *u = ctx;
    if (!uw_res_started(u->res)) {
        uw_res_status(u->res, 200);
        if (uw_res_header(u->res, "Content-Type", "application/zip") != UW_OK ||
            uw_res_header(u->res, "Content-Disposition", "attachment; filename=\"archive.zip\"") != UW_OK ||
            uw_res_begin(u->res) != UW_OK) {
            u->write_failed = 1;
            return -1;
        }
    }
    if (uw_res_write(u->res, buf, len) != UW_OK) {
        u->write_failed = 1;
        return -1;
    }
    return 0;
}

static void *arena_alloc(void *ctx, size_t size) { return uw_arena_alloc(ctx, size); }
static void arena_free(void *ctx, void *ptr) { (void)ctx; (void)ptr; /* freed with the request */ }

/* ------------------------------------------------------------ names */

static uint64_t next_random(upload *u)
{
    /* splitmix64: names need to differ, not to be secret */
    uint64_t z = (u->rng += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static const char *extension_for(const char *content_type)
{
    static const struct { const char *type, *ext; } map[] = {
        { "text/plain", ".txt" }, { "text/html", ".html" }, { "text/csv", ".csv" },
        { "application/json", ".json" }, { "application/pdf", ".pdf" },
        { "application/zip", ".zip" }, { "image/png", ".png" }, { "image/jpeg", ".jpg" },
        { "image/gif", ".gif" }, { "image/webp", ".webp" }, { "video/mp4", ".mp4" },
        { "audio/mpeg", ".mp3" },
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (content_type && !strcmp(content_type, map[i].type))
            return map[i].ext;
    return ".bin";
}

/* ------------------------------------------------------------ multipart */

static int fail_zip(upload *u, uw_zip_error e)
{
    u->zip_error = e;
    return -1;
}

static int begin_entry(upload *u, const char *name, size_t len)
{
    uw_zip_error e = uw_zip_entry_begin(u->zip, name, len, u->mtime, u->size_hint);
    if (e != UW_ZIP_OK)
        return fail_zip(u, e);
    u->in_entry = 1;
    u->entries++;
    return 0;
}

static int part_begin(void *user, const uw_mp_part *p)
{
    upload *u = user;
    u->in_entry = u->deferred = 0;
    if (p->is_multipart)
        return 0;
    if (p->filename && p->filename[0])
        return begin_entry(u, p->filename, strlen(p->filename));
    /* no usable filename: a file only if it has data and is not a text field */
    u->deferred = p->filename != NULL || strcmp(p->content_type, "text/plain") != 0;
    return 0;
}

static int part_data(void *user, const uw_mp_part *p, const void *data, size_t len)
{
    upload *u = user;
    if (u->deferred && len) {
        char name[64];
        int n = snprintf(name, sizeof name, "upload-%016llx%s",
                         (unsigned long long)next_random(u), extension_for(p->content_type));
        u->deferred = 0;
        if (begin_entry(u, name, (size_t)n))
            return -1;
    }
    if (!u->in_entry)
        return 0;
    uw_zip_error e = uw_zip_entry_write(u->zip, data, len);
    return e == UW_ZIP_OK ? 0 : fail_zip(u, e);
}

static int part_end(void *user, const uw_mp_part *p)
{
    upload *u = user;
    (void)p;
    u->deferred = 0;
    if (!u->in_entry)
        return 0;
    u->in_entry = 0;
    uw_zip_error e = uw_zip_entry_end(u->zip);
    return e == UW_ZIP_OK ? 0 : fail_zip(u, e);
}

/* ------------------------------------------------------------ the handler */

/* Answers a failure: a status and reason while nothing was sent, else a
 * closed connection (a truncated archive is better than a wrong one). */
static void refuse(upload *u, int status, const char *why)
{
    if (uw_res_started(u->res)) {
        uw_res_close(u->res);
        return;
    }
    uw_res_close(u->res);   /* the rest of the body is not read */
    if (status == 400)
        uw_res_textf(u->res, 400, "Invalid multipart/form-data request: %s\n", why);
    else
        uw_res_error(u->res, status, why);
}

void crunchzip_upload(uw_req *req, uw_res *res)
{
    upload u = { .req = req, .res = res, .arena = uw_req_arena(req) };
    const char *ct = uw_req_header(req, "Content-Type");
    if (!ct || strncasecmp(ct, "multipart/form-data", 19) != 0 ||
        (ct[19] != ';' && ct[19] != ' ' && ct[19] != '\0')) {
        refuse(&u, 400, "Content-Type is not multipart/form-data");
        return;
    }
    int64_t length = uw_req_content_length(req);
    /* a part is smaller than the body: a body under 4 GiB needs no ZIP64 */
    u.size_hint = length >= 0 ? (uint64_t)length : UW_ZIP_SIZE_UNKNOWN;
    u.mtime = uw_wall_now() / 1000000000;
    u.rng = (uint64_t)uw_wall_now() ^ ((uint64_t)uw_now() << 17) ^ (uint64_t)(uintptr_t)&u;

    uw_mp_parser *mp = uw_arena_alloc(u.arena, sizeof *mp);
    uw_zip_allocator al = { arena_alloc, arena_free, u.arena };
    uw_zip_options o;
    uw_zip_options_default(&o);
    o.allocator = &al;
    o.max_entries = 10000;          /* the parser's part limit comes first */
    if (!mp || uw_zip_new(&u.zip, &o, sink, &u) != UW_ZIP_OK) {
        refuse(&u, 503, "out of memory");
        return;
    }
    uw_mp_callbacks cb = { part_begin, part_data, part_end };
    uw_mp_err e = uw_mp_init(mp, ct, strlen(ct), NULL, &cb, &u);

    for (;;) {
        if (e != UW_MP_OK)
            break;
        const void *data;
        ssize_t n = uw_req_read_chunk(req, &data);
        if (n == 0) {
            e = uw_mp_finish(mp);
            break;
        }
        if (n < 0) {
            /* a broken or too slow upload: the server answers or closes */
            if (n == UW_ELIMIT)
                refuse(&u, 413, "the upload is too large");
            else
                uw_res_close(res);
            uw_zip_free(u.zip);
            return;
        }
        e = uw_mp_feed(mp, data, (size_t)n);
    }

    if (e == UW_MP_E_ABORTED) {
        /* a writer error in a callback */
        if (u.write_failed || u.zip_error == UW_ZIP_ESINK)
            uw_res_close(res);
        else if (u.zip_error == UW_ZIP_ELIMIT)
            refuse(&u, 413, "too many files");
        else
            refuse(&u, 500, uw_zip_strerror(u.zip_error));
    } else if (e != UW_MP_OK) {
        refuse(&u, uw_mp_err_is_limit(e) ? 413 : 400, uw_mp_strerror(e));
    } else if (!u.entries && !uw_res_started(res)) {
        refuse(&u, 422, "no file in the upload: choose at least one file");
    } else if (uw_zip_finish(u.zip) != UW_ZIP_OK || uw_res_end(res) != UW_OK) {
        uw_res_close(res);
    }
    uw_zip_free(u.zip);
}
