/*
 * A test server for the framework's features beyond routing, driven by
 * tests/integration/web_*.py with curl and python: JSON, forms, cookies,
 * compression on the fly, redirects, error pages, request ids, files
 * from a directory.
 */
#include <uweb/web.h>
#include <uweb/json.h>
#include <uweb/form.h>
#include <uweb/cookie.h>
#include <uweb/compress.h>
#include <uweb/files.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

/* POST /json: {"got": <the body>, "type": "<its JSON type>"} */
static void json_echo(uw_req *req, uw_res *res)
{
    json_t *in;
    if (uw_req_json(req, &(uw_json_limits){ .max_bytes = 64 * 1024, .max_depth = 16 }, &in) != UW_OK) return;
    static const char *const names[] = { "object", "array", "string", "integer", "real", "true", "false", "null" };
    uw_res_json_new(res, 200, json_pack("{s:o,s:s}", "got", in, "type", names[json_typeof(in)]));
}

/* POST /form: name (required), age (int 0..150), note, files[] (streamed:
 * their names, sizes and CRC-32s are answered). */
typedef struct files { char list[2048]; size_t len; uint64_t size; uLong crc; } files;
static int f_begin(void *arg, const char *field, const char *filename, const char *ct)
{
    files *f = arg;
    (void)field; (void)ct;
    f->size = 0;
    f->crc = crc32(0, NULL, 0);
    int n = snprintf(f->list + f->len, sizeof f->list - f->len, " %s", filename);
    if (n > 0 && (size_t)n < sizeof f->list - f->len) f->len += (size_t)n;
    return 0;
}
static int f_data(void *arg, const void *d, size_t n)
{
    files *f = arg;
    f->size += n;
    f->crc = crc32(f->crc, d, (uInt)n);
    return 0;
}
static int f_end(void *arg)
{
    files *f = arg;
    int n = snprintf(f->list + f->len, sizeof f->list - f->len, ":%llu:%08lx", (unsigned long long)f->size, f->crc);
    if (n > 0 && (size_t)n < sizeof f->list - f->len) f->len += (size_t)n;
    return 0;
}
static const uw_form_file_cb file_cb = { f_begin, f_data, f_end };
static const uw_form_field fields[] = {
    { "name", UW_FIELD_TEXT, .required = true, .max_bytes = 64 },
    { "age", UW_FIELD_INT, .min = 0, .max = 150 },
    { "note", UW_FIELD_TEXT, .max_bytes = 1000 },
    { "files[]", UW_FIELD_FILE, .multiple = true, .on_data = &file_cb, .max_bytes = 8 << 20 },
};
static void form(uw_req *req, uw_res *res)
{
    files f = { .len = 0 };
    uw_form_value v[UW_COUNT(fields)];
    if (uw_req_form_fields(req, fields, UW_COUNT(fields), v, &(uw_form_options){ .arg = &f }) != UW_OK) return;
    uw_res_textf(res, 200, "name=%s age=%s note=%s files=%zu%s\n", v[0].text, v[1].present ? v[1].text : "-",
                 v[2].present ? v[2].text : "-", v[3].count, f.list);
}

/* Cookies: /cookie/set sets a plain, a signed and a sealed one; /cookie/get reads them. */
static void cookie_set(uw_req *req, uw_res *res)
{
    const char *who = uw_req_query(req, "who");
    if (!who) who = "ann";
    uw_res_cookie(res, &(uw_cookie){ .name = "theme", .value = "dark", .max_age = 3600, .path = "/",
                                     .same_site = UW_SAMESITE_LAX });
    uw_res_cookie_signed(res, &(uw_cookie){ .name = "user", .value = who, .path = "/", .http_only = true });
    uw_res_cookie_sealed(res, &(uw_cookie){ .name = "__Host-session", .value = who, .path = "/", .secure = true,
                                            .http_only = true, .same_site = UW_SAMESITE_STRICT, .max_age = 600 });
    int bad = uw_res_cookie(res, &(uw_cookie){ .name = "__Host-bad", .value = "1", .path = "/" });
    uw_res_textf(res, 200, "set (a __Host- cookie without Secure: %s)\n", bad == UW_EINVAL ? "refused" : "sent");
}
static void cookie_get(uw_req *req, uw_res *res)
{
    const char *t = uw_req_cookie(req, "theme"), *u = uw_req_cookie_signed(req, "user"),
               *s = uw_req_cookie_sealed(req, "__Host-session");
    uw_res_textf(res, 200, "theme=%s user=%s session=%s\n", t ? t : "-", u ? u : "-", s ? s : "-");
}
static void cookie_clear(uw_req *req, uw_res *res)
{
    (void)req;
    uw_res_cookie(res, &(uw_cookie){ .name = "theme", .value = "", .max_age = UW_COOKIE_DELETE, .path = "/" });
    uw_res_text(res, 200, "cleared\n");
}

/* Compression: GET /text?n=BYTES (whole), /stream?n=BYTES (written in
 * 1000-byte pieces), /png?n=BYTES (not compressible). */
static char *corpus;
static size_t corpus_len;
static size_t param_n(uw_req *req)
{
    const char *s = uw_req_query(req, "n");
    size_t n = s ? strtoul(s, NULL, 10) : 10000;
    return n > corpus_len ? corpus_len : n;
}
static void text(uw_req *req, uw_res *res) { uw_res_send(res, 200, "text/plain; charset=utf-8", corpus, param_n(req)); }
static void png(uw_req *req, uw_res *res) { uw_res_send(res, 200, "image/png", corpus, param_n(req)); }
static void stream(uw_req *req, uw_res *res)
{
    size_t n = param_n(req);
    uw_res_header(res, "Content-Type", "application/json");
    uw_res_begin(res);
    for (size_t i = 0; i < n; i += 1000)
        if (uw_res_write(res, corpus + i, n - i < 1000 ? n - i : 1000) != UW_OK) return;
    uw_res_end(res);
}

/* Files: /files/... from $WEBFEAT_ROOT (symlinks refused), /linked/...
 * from the same with symlinks inside it allowed, /one: uw_res_file. */
static uw_static_dir_conf files_conf, linked_conf;
static void one(uw_req *req, uw_res *res)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/a.txt", files_conf.root);
    uw_res_file(req, res, path, "text/plain; charset=utf-8");
}

/* GET /pid: the worker's process id (--workers). */
static void pid(uw_req *req, uw_res *res) { (void)req; uw_res_textf(res, 200, "%d\n", (int)getpid()); }

static void go(uw_req *req, uw_res *res) { (void)req; uw_res_redirect(res, 303, "/cookie/get"); }

static const uw_route routes[] = {
    { UW_POST, "/json", json_echo },
    { UW_POST, "/form", form, .max_body = 64 << 20 },
    { UW_GET, "/cookie/set", cookie_set },
    { UW_GET, "/cookie/get", cookie_get },
    { UW_GET, "/cookie/clear", cookie_clear },
    { UW_GET, "/text", text },
    { UW_GET, "/stream", stream },
    { UW_GET, "/png", png },
    { UW_GET, "/go", go },
    { UW_GET, "/files/<rest:path>", uw_static_dir, .arg = &files_conf },
    { UW_GET, "/linked/<rest:path>", uw_static_dir, .arg = &linked_conf },
    { UW_GET, "/one", one },
    { UW_GET, "/pid", pid },
};
/* The app's error pages (after compression in the list: they see the answer first). */
static const char page404[] = "<!doctype html><title>Not here</title><h1>Nothing at this address</h1>\n";
static const uw_error_page pages[] = { { 404, NULL, page404, sizeof page404 - 1 } };
static const uw_error_pages error_pages = { pages, UW_COUNT(pages) };
static uw_compress_options compress_opts;     /* WEBFEAT_GZIP_LEVEL (bench/compress.sh) */
static const uw_middleware mws[] = { { uw_mw_compress, &compress_opts }, { uw_mw_error_pages, (void *)&error_pages } };

int main(int argc, char **argv)
{
    corpus_len = 8 << 20;
    corpus = malloc(corpus_len);
    if (!corpus) return 1;
    /* text that compresses like prose: words from a small vocabulary */
    static const char *const words[] = { "uweb ", "serves ", "the ", "files ", "of ", "a ", "unikernel ", "quickly ",
                                         "and ", "compresses ", "them\n", "while ", "streaming " };
    uint32_t x = 12345;
    for (size_t i = 0; i < corpus_len;) {
        x = x * 1103515245 + 12345;
        const char *w = words[(x >> 16) % 13];
        for (; *w && i < corpus_len; w++) corpus[i++] = *w;
    }
    const char *level = getenv("WEBFEAT_GZIP_LEVEL");
    if (level) compress_opts.gzip_level = atoi(level);
    const char *root = getenv("WEBFEAT_ROOT");
    files_conf = (uw_static_dir_conf){ .root = root ? root : "." };
    linked_conf = (uw_static_dir_conf){ .root = files_conf.root, .follow_symlinks = true };
    int r = uw_main(argc, argv, &(uw_app){ UW_ROUTES(routes), UW_MIDDLEWARES(mws), .name = "webfeat" });
    free(corpus);
    return r;
}
