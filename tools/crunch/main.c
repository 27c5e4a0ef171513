/*
 * uweb-crunch — embeds files into a program as static assets.
 *
 * Reads files and directory trees, and writes one C source and one header
 * defining a `const uw_static_set` (include/uweb/static.h): every asset's
 * URL path, content type, strong ETag and its identity, gzip and brotli
 * representations as chunked string literals in read-only data.
 * See usage() for the command line.
 */
#include <brotli/encode.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "uweb/static.h"
#include "uweb/version.h"

static const char *usage_text =
"NAME\n"
"    uweb-crunch - embed files into a uweb program as static assets\n"
"\n"
"SYNOPSIS\n"
"    uweb-crunch -o OUT.c [-H OUT.h] [-n NAME] [OPTIONS] INPUT...\n"
"\n"
"DESCRIPTION\n"
"    Reads the INPUT files and directory trees and writes a C source OUT.c\n"
"    and a header OUT.h declaring\n"
"\n"
"        extern const uw_static_set NAME;\n"
"\n"
"    for the static asset handler of include/uweb/static.h.  For each asset\n"
"    it records the URL path, the content type (from the file extension,\n"
"    with charset=utf-8 for text), the size, a strong ETag derived from the\n"
"    content, and gzip (zlib level 9) and brotli representations, each kept\n"
"    only when smaller than the original.  The bytes are string literals in\n"
"    read-only data, split into chunks, so the server sends them without\n"
"    copying.  A file named index.html is also served at its directory path\n"
"    (\"/docs/index.html\" at \"/docs/\").\n"
"\n"
"    Types that are compressed already (PNG, JPEG, GIF, WebP, AVIF, audio,\n"
"    video, WOFF, archives, PDF) are kept as they are.\n"
"\n"
"    The output depends only on the inputs (names, bytes and, without\n"
"    --mtime or SOURCE_DATE_EPOCH, modification times) and the options,\n"
"    never on their order on the command line: running it twice gives\n"
"    byte-identical files.  Outputs are written to a temporary file and\n"
"    renamed, so a failed run leaves no partial output.\n"
"\n"
"INPUTS\n"
"    PATH        a file, served at /BASENAME, or a directory, whose tree is\n"
"                served under /.\n"
"    URL:PATH    a file served at URL, or a directory whose tree is served\n"
"                under the prefix URL (\"/static\" or \"/static/\").\n"
"\n"
"    URL paths may only contain letters, digits and -._~!$&'()*+,;=:@/, no\n"
"    empty, \".\" or \"..\" segment.  Directory walks skip names starting with\n"
"    a dot and visit names in byte order.\n"
"\n"
"OPTIONS\n"
"    -o, --output FILE       the C source to write (required)\n"
"    -H, --header FILE       the header to write (default: OUT with .h)\n"
"    -n, --name NAME         C name of the asset set (default: assets)\n"
"    -d, --depfile FILE      also write a Makefile rule listing every input\n"
"        --mtime SECONDS     Last-Modified of every asset; default: the\n"
"                            SOURCE_DATE_EPOCH environment variable, or\n"
"                            else the newest modification time of the inputs\n"
"        --chunk-size BYTES  bytes per literal chunk (default 1048576)\n"
"        --no-compress       keep only the original representations\n"
"        --brotli-quality Q  0..11; default 11 up to 1 MiB, 9 up to 16 MiB,\n"
"                            5 above (brotli at 11 is slow on large files)\n"
"    -h, --help              print this help\n"
"        --version           print the version of uweb and exit\n"
"\n"
"EXIT STATUS\n"
"    0 on success; 1 with a one-line reason on standard error for a missing\n"
"    or unreadable input, two assets with the same path, a path not valid\n"
"    in a URL, or a failure to write; 2 for bad usage.\n"
"\n"
"EXAMPLE\n"
"    uweb-crunch -o build/gen/site.c -n site_assets /:public/ /robots.txt:robots.txt\n";

/* ------------------------------------------------------------ errors */

static char *tmp_paths[3];

static void cleanup(void)
{
    for (int i = 0; i < 3; i++)
        if (tmp_paths[i]) { unlink(tmp_paths[i]); free(tmp_paths[i]); tmp_paths[i] = NULL; }
}

static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("uweb-crunch: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    cleanup();
    exit(1);
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) die("out of memory (%zu bytes)", n);
    return p;
}

static char *xstrdup(const char *s)
{
    char *p = xmalloc(strlen(s) + 1);
    return strcpy(p, s);
}

static char *join(const char *a, const char *sep, const char *b)
{
    size_t n = strlen(a) + strlen(sep) + strlen(b) + 1;
    char *p = xmalloc(n);
    snprintf(p, n, "%s%s%s", a, sep, b);
    return p;
}

/* ------------------------------------------------------------ inputs */

struct asset {
    char *url;          /* "/docs/index.html" */
    char *file;         /* path on disk */
    int64_t mtime;
};

static struct asset *assets;
static size_t nassets, cap_assets;
static int64_t newest_mtime;

static bool url_char_ok(unsigned char c)
{
    if (c >= '0' && c <= '9') return true;
    if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') return true;
    return c && strchr("-._~!$&'()*+,;=:@/", c) != NULL;
}

/* NULL when `url` is a valid asset path, else why not. */
static const char *url_problem(const char *url)
{
    if (url[0] != '/') return "does not start with '/'";
    if (strlen(url) > 1000) return "is longer than 1000 bytes";
    for (const unsigned char *p = (const unsigned char *)url; *p; p++)
        if (!url_char_ok(*p)) return "has a character not allowed in a URL path";
    const char *seg = url + 1;
    for (;;) {
        const char *end = strchr(seg, '/');
        size_t n = end ? (size_t)(end - seg) : strlen(seg);
        if (n == 0 && end) return "has an empty segment";
        if ((n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.'))
            return "has a '.' or '..' segment";
        if (!end) break;
        seg = end + 1;
    }
    return NULL;
}

static void add_asset(const char *url, const char *file, int64_t mtime)
{
    const char *why = url_problem(url);
    if (why) die("%s: the URL path \"%s\" %s", file, url, why);
    if (nassets == cap_assets) {
        cap_assets = cap_assets ? cap_assets * 2 : 64;
        assets = realloc(assets, cap_assets * sizeof *assets);
        if (!assets) die("out of memory");
    }
    assets[nassets++] = (struct asset){ xstrdup(url), xstrdup(file), mtime };
    if (mtime > newest_mtime) newest_mtime = mtime;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void walk(const char *dir, const char *prefix, int depth)
{
    if (depth > 64) die("%s: directories nested too deep (a symbolic link loop?)", dir);
    DIR *d = opendir(dir);
    if (!d) die("%s: %s", dir, strerror(errno));
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 32;
            names = realloc(names, cap * sizeof *names);
            if (!names) die("out of memory");
        }
        names[n++] = xstrdup(e->d_name);
    }
    closedir(d);
    if (n) qsort(names, n, sizeof *names, cmp_names);
    for (size_t i = 0; i < n; i++) {
        char *path = join(dir, "/", names[i]);
        char *url = join(prefix, "/", names[i]);
        struct stat st;
        if (stat(path, &st) != 0) die("%s: %s", path, strerror(errno));
        if (S_ISDIR(st.st_mode)) walk(path, url, depth + 1);
        else if (S_ISREG(st.st_mode)) add_asset(url, path, st.st_mtime);
        free(path);
        free(url);
        free(names[i]);
    }
    free(names);
}

static void add_input(const char *arg)
{
    const char *colon = strchr(arg, ':');
    char *url = NULL;
    const char *path = arg;
    if (colon) {
        size_t n = (size_t)(colon - arg);
        url = xmalloc(n + 2);
        if (n == 0 || arg[0] != '/') { url[0] = '/'; memcpy(url + 1, arg, n); url[n + 1] = 0; }
        else { memcpy(url, arg, n); url[n] = 0; }
        path = colon + 1;
    }
    if (!*path) die("%s: empty file name", arg);
    struct stat st;
    if (stat(path, &st) != 0) die("%s: %s", path, strerror(errno));
    if (S_ISDIR(st.st_mode)) {
        char *prefix = url ? url : xstrdup("/");
        size_t n = strlen(prefix);
        while (n > 0 && prefix[n - 1] == '/') prefix[--n] = 0;   /* "/static/" -> "/static", "/" -> "" */
        char *dir = xstrdup(path);
        size_t dn = strlen(dir);
        while (dn > 1 && dir[dn - 1] == '/') dir[--dn] = 0;
        if (n) {
            char *check = join(prefix, "/", "x");
            const char *why = url_problem(check);
            if (why) die("%s: the URL prefix \"%s\" %s", path, prefix, why);
            free(check);
        }
        walk(dir, prefix, 0);
        free(dir);
        free(prefix);
        return;
    }
    if (!S_ISREG(st.st_mode)) die("%s: not a regular file or directory", path);
    if (!url) {
        const char *slash = strrchr(path, '/');
        url = join("/", "", slash ? slash + 1 : path);
    }
    add_asset(url, path, st.st_mtime);
    free(url);
}

/* ------------------------------------------------------------ content */

static unsigned char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) die("%s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) != 0) die("%s: %s", path, strerror(errno));
    size_t cap = st.st_size > 0 ? (size_t)st.st_size : 4096, n = 0;
    unsigned char *buf = xmalloc(cap);
    for (;;) {
        if (n == cap) {
            cap *= 2;
            buf = realloc(buf, cap);
            if (!buf) die("%s: out of memory", path);
        }
        size_t r = fread(buf + n, 1, cap - n, f);
        n += r;
        if (r == 0) {
            if (ferror(f)) die("%s: %s", path, strerror(errno ? errno : EIO));
            break;
        }
    }
    fclose(f);
    *len = n;
    return buf;
}

static uint64_t fnv1a64(const unsigned char *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < n; i++) { h ^= p[i]; h *= 0x100000001b3ULL; }
    return h;
}

static unsigned char *gzip_compress(const unsigned char *in, size_t n, size_t *out_len)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) != Z_OK) die("zlib: deflateInit2 failed");
    size_t cap = deflateBound(&z, (uLong)n) + 64;
    unsigned char *out = xmalloc(cap);
    size_t in_off = 0;
    int rc = Z_OK;
    z.next_out = out;
    while (rc != Z_STREAM_END) {
        if (z.avail_in == 0 && in_off < n) {
            size_t piece = n - in_off > (1u << 30) ? (1u << 30) : n - in_off;
            z.next_in = (unsigned char *)in + in_off;
            z.avail_in = (uInt)piece;
            in_off += piece;
        }
        size_t left = cap - (size_t)(z.next_out - out);
        if (left == 0) die("zlib: output larger than deflateBound");
        z.avail_out = (uInt)(left > UINT_MAX ? UINT_MAX : left);
        rc = deflate(&z, in_off == n ? Z_FINISH : Z_NO_FLUSH);
        if (rc == Z_STREAM_ERROR) die("zlib: deflate failed");
    }
    if (rc != Z_STREAM_END) die("zlib: deflate did not finish");
    *out_len = (size_t)(z.next_out - out);
    deflateEnd(&z);
    return out;
}

static unsigned char *brotli_compress(const unsigned char *in, size_t n, int quality, BrotliEncoderMode mode,
                                      size_t *out_len)
{
    size_t cap = BrotliEncoderMaxCompressedSize(n);
    if (cap == 0) cap = n + 1024;
    unsigned char *out = xmalloc(cap);
    size_t len = cap;
    if (!BrotliEncoderCompress(quality, BROTLI_DEFAULT_WINDOW, mode, n, in, &len, out)) {
        free(out);
        return NULL;
    }
    *out_len = len;
    return out;
}

struct brotli_job {
    const unsigned char *in;
    size_t n;
    int quality;
    BrotliEncoderMode mode;
    unsigned char *out;         /* NULL when brotli failed */
    size_t len;
};

static void *brotli_thread(void *arg)
{
    struct brotli_job *j = arg;
    j->out = brotli_compress(j->in, j->n, j->quality, j->mode, &j->len);
    return NULL;
}

/* Types whose content is already compressed: no gzip or brotli attempt. */
static bool precompressed_type(const char *type)
{
    static const char *const types[] = {
        "image/png", "image/jpeg", "image/gif", "image/webp", "image/avif", "image/apng",
        "audio/", "video/", "font/woff", "application/zip", "application/gzip", "application/x-bzip2",
        "application/x-7z-compressed", "application/zstd", "application/epub+zip", "application/pdf",
    };
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (strncmp(type, types[i], strlen(types[i])) == 0) return true;
    return false;
}

/* ------------------------------------------------------------ output */

static FILE *out;

static void emit(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfprintf(out, fmt, ap);
    va_end(ap);
}

/* Writes bytes as a C string literal body, lines of about 4 KiB.  Octal
 * escapes are shortest unless an octal digit follows; '?' after '?' is
 * escaped so no trigraph appears. */
static void emit_literal(const unsigned char *p, size_t n)
{
    static char line[8192];
    size_t ln = 0;
    line[ln++] = '"';
    unsigned char prev = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = p[i];
        char *w = line + ln;
        if (c == '\\') { *w++ = '\\'; *w++ = '\\'; }
        else if (c == '"') { *w++ = '\\'; *w++ = '"'; }
        else if (c == '\n') { *w++ = '\\'; *w++ = 'n'; }
        else if (c == '\t') { *w++ = '\\'; *w++ = 't'; }
        else if (c == '\r') { *w++ = '\\'; *w++ = 'r'; }
        else if (c == '?' && prev == '?') { *w++ = '\\'; *w++ = '?'; }
        else if (c >= 0x20 && c < 0x7f) *w++ = (char)c;
        else {
            bool digit_next = i + 1 < n && p[i + 1] >= '0' && p[i + 1] <= '7';
            *w++ = '\\';
            if (digit_next || c >= 64) *w++ = (char)('0' + (c >> 6));
            if (digit_next || c >= 8) *w++ = (char)('0' + ((c >> 3) & 7));
            *w++ = (char)('0' + (c & 7));
        }
        ln = (size_t)(w - line);
        prev = c;
        if (ln >= 4096 && i + 1 < n) {
            line[ln++] = '"';
            line[ln++] = '\n';
            fwrite(line, 1, ln, out);
            ln = 0;
            line[ln++] = '"';
            prev = 0;
        }
    }
    line[ln++] = '"';
    fwrite(line, 1, ln, out);
}

/* Emits the chunks of one representation; returns how many. */
static size_t emit_variant(size_t idx, const char *tag, const unsigned char *p, size_t n, size_t chunk)
{
    size_t count = 0;
    for (size_t off = 0; off < n; off += chunk, count++) {
        size_t len = n - off < chunk ? n - off : chunk;
        emit("static const char a%zu_%s%zu[] =\n", idx, tag, count);
        emit_literal(p + off, len);
        emit(";\n");
    }
    if (count) {
        emit("static const uw_slice a%zu_%s[] = {\n", idx, tag);
        for (size_t k = 0; k < count; k++)
            emit("    { a%zu_%s%zu, sizeof a%zu_%s%zu - 1 },\n", idx, tag, k, idx, tag, k);
        emit("};\n");
    }
    return count;
}

struct variant_meta { size_t nchunks; uint64_t size; char etag[64]; bool present; };
struct asset_meta { const char *type; struct variant_meta v[UW_STATIC_ENCODINGS]; };

static const char *const variant_tag[UW_STATIC_ENCODINGS] = { "i", "g", "b" };
static const char *const etag_suffix[UW_STATIC_ENCODINGS] = { "", "-gz", "-br" };

static int cmp_assets(const void *a, const void *b)
{
    const struct asset *x = a, *y = b;
    return uw_static_path_cmp(x->url, strlen(x->url), y->url, strlen(y->url));
}

struct entry { const char *url; size_t asset; char *owned; };

static int cmp_entries(const void *a, const void *b)
{
    const struct entry *x = a, *y = b;
    return uw_static_path_cmp(x->url, strlen(x->url), y->url, strlen(y->url));
}

static FILE *open_tmp(const char *path, int slot)
{
    char *tmp = join(path, "", ".tmp");
    FILE *f = fopen(tmp, "wb");
    if (!f) { free(tmp); die("%s: %s", path, strerror(errno)); }
    tmp_paths[slot] = tmp;
    return f;
}

static void close_tmp(FILE *f, const char *path)
{
    if (fflush(f) != 0 || ferror(f) || fclose(f) != 0) die("%s: write failed: %s", path, strerror(errno));
}

static void commit_tmp(const char *path, int slot)
{
    if (rename(tmp_paths[slot], path) != 0) die("%s: %s", path, strerror(errno));
    free(tmp_paths[slot]);
    tmp_paths[slot] = NULL;
}

static bool c_identifier(const char *s)
{
    if (!*s || (*s >= '0' && *s <= '9')) return false;
    for (; *s; s++)
        if (!(*s == '_' || (*s >= '0' && *s <= '9') || ((*s | 0x20) >= 'a' && (*s | 0x20) <= 'z'))) return false;
    return true;
}

static void usage_error(const char *fmt, const char *arg)
{
    fputs("uweb-crunch: ", stderr);
    fprintf(stderr, fmt, arg);
    fputs(" (see uweb-crunch --help)\n", stderr);
    exit(2);
}

static long long parse_number(const char *opt, const char *v, long long min, long long max)
{
    char *end;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (errno || end == v || *end || n < min || n > max) usage_error("bad value for %s", opt);
    return n;
}

/* Whether `a` is the option: "-o", "--output" or "--output=VALUE". */
static bool is_opt(const char *a, const char *shortname, const char *longname, const char **val)
{
    size_t n = strlen(longname);
    if ((shortname && strcmp(a, shortname) == 0) || strcmp(a, longname) == 0) return true;
    if (strncmp(a, longname, n) == 0 && a[n] == '=') { *val = a + n + 1; return true; }
    return false;
}

int main(int argc, char **argv)
{
    const char *output = NULL, *header = NULL, *name = "assets", *depfile = NULL;
    long long mtime = -1, chunk = 1 << 20, brotli_q = -1;
    bool compress = true;
    char **inputs = xmalloc((size_t)argc * sizeof *inputs);
    int ninputs = 0;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *val = NULL;
#define OPT(shortname, longname) is_opt(a, shortname, longname, &val)
#define VALUE() (val ? val : (i + 1 < argc ? argv[++i] : (usage_error("%s needs a value", a), "")))
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) { fputs(usage_text, stdout); return 0; }
        else if (strcmp(a, "--version") == 0) { printf("uweb-crunch %s\n", uw_version()); return 0; }
        else if (OPT("-o", "--output")) output = VALUE();
        else if (OPT("-H", "--header")) header = VALUE();
        else if (OPT("-n", "--name")) name = VALUE();
        else if (OPT("-d", "--depfile")) depfile = VALUE();
        else if (OPT(NULL, "--mtime")) mtime = parse_number("--mtime", VALUE(), 0, 253402300799LL);
        else if (OPT(NULL, "--chunk-size")) chunk = parse_number("--chunk-size", VALUE(), 1, 1 << 30);
        else if (OPT(NULL, "--brotli-quality")) brotli_q = parse_number("--brotli-quality", VALUE(), 0, 11);
        else if (strcmp(a, "--no-compress") == 0) compress = false;
        else if (strcmp(a, "--") == 0) { while (++i < argc) inputs[ninputs++] = argv[i]; }
        else if (a[0] == '-' && a[1]) usage_error("unknown option %s", a);
        else inputs[ninputs++] = argv[i];
#undef OPT
#undef VALUE
    }
    if (!output) usage_error("%s", "missing -o OUT.c");
    if (ninputs == 0) usage_error("%s", "no input files");
    if (!c_identifier(name)) usage_error("--name %s is not a C identifier", name);
    char *header_alloc = NULL;
    if (!header) {
        size_t n = strlen(output);
        header_alloc = xmalloc(n + 3);
        memcpy(header_alloc, output, n + 1);
        if (n > 2 && strcmp(output + n - 2, ".c") == 0) header_alloc[n - 1] = 'h';
        else strcat(header_alloc, ".h");
        header = header_alloc;
    }
    if (strcmp(header, output) == 0) usage_error("%s", "the header and the source are the same file");
    if (mtime < 0) {
        const char *sde = getenv("SOURCE_DATE_EPOCH");
        if (sde && *sde) mtime = parse_number("SOURCE_DATE_EPOCH", sde, 0, 253402300799LL);
    }

    for (int i = 0; i < ninputs; i++) add_input(inputs[i]);
    if (nassets == 0) die("no files in the inputs");
    if (mtime < 0) mtime = newest_mtime;
    qsort(assets, nassets, sizeof *assets, cmp_assets);

    /* Entry table: every asset, plus directory paths for index.html. */
    struct entry *entries = xmalloc(2 * nassets * sizeof *entries);
    size_t nentries = 0;
    for (size_t i = 0; i < nassets; i++) {
        entries[nentries++] = (struct entry){ assets[i].url, i, NULL };
        size_t n = strlen(assets[i].url);
        if (n >= 11 && strcmp(assets[i].url + n - 11, "/index.html") == 0) {
            char *dir = xstrdup(assets[i].url);
            dir[n - 10] = 0;
            entries[nentries++] = (struct entry){ dir, i, dir };
        }
    }
    qsort(entries, nentries, sizeof *entries, cmp_entries);
    for (size_t i = 1; i < nentries; i++)
        if (strcmp(entries[i - 1].url, entries[i].url) == 0)
            die("%s: two assets with the same path (%s and %s)", entries[i].url,
                assets[entries[i - 1].asset].file, assets[entries[i].asset].file);

    out = open_tmp(output, 0);
    static char outbuf[1 << 20];
    setvbuf(out, outbuf, _IOFBF, sizeof outbuf);
    emit("/* Generated by uweb-crunch: static assets \"%s\" (%zu files). Do not edit. */\n", name, nassets);
    emit("#include \"uweb/static.h\"\n\n");

    struct asset_meta *meta = xmalloc(nassets * sizeof *meta);
    for (size_t i = 0; i < nassets; i++) {
        struct asset_meta *m = &meta[i];
        memset(m, 0, sizeof *m);
        m->type = uw_static_content_type(assets[i].url);
        size_t n;
        unsigned char *data = read_file(assets[i].file, &n);
        uint64_t h = fnv1a64(data, n);
        emit("/* %s */\n", assets[i].url);
        const unsigned char *rep[UW_STATIC_ENCODINGS] = { data, NULL, NULL };
        size_t replen[UW_STATIC_ENCODINGS] = { n, 0, 0 };
        unsigned char *gz = NULL, *br = NULL;
        if (compress && n > 0 && !precompressed_type(m->type)) {
            struct brotli_job job = {
                .in = data, .n = n,
                .quality = brotli_q >= 0 ? (int)brotli_q : n <= (1u << 20) ? 11 : n <= (16u << 20) ? 9 : 5,
                .mode = strncmp(m->type, "text/", 5) == 0 ? BROTLI_MODE_TEXT
                      : strncmp(m->type, "font/", 5) == 0 ? BROTLI_MODE_FONT : BROTLI_MODE_GENERIC,
            };
            /* Large assets: brotli in a second thread while gzip runs here. */
            pthread_t th;
            bool threaded = n >= (1u << 20) && pthread_create(&th, NULL, brotli_thread, &job) == 0;
            size_t gl;
            gz = gzip_compress(data, n, &gl);
            if (gl < n) { rep[UW_STATIC_GZIP] = gz; replen[UW_STATIC_GZIP] = gl; }
            if (threaded) pthread_join(th, NULL);
            else brotli_thread(&job);
            br = job.out;
            if (br && job.len < n) { rep[UW_STATIC_BR] = br; replen[UW_STATIC_BR] = job.len; }
        }
        for (int e = 0; e < UW_STATIC_ENCODINGS; e++) {
            if (!rep[e]) continue;
            m->v[e].present = true;
            m->v[e].size = replen[e];
            m->v[e].nchunks = emit_variant(i, variant_tag[e], rep[e], replen[e], (size_t)chunk);
            snprintf(m->v[e].etag, sizeof m->v[e].etag, "\\\"%016" PRIx64 "-%zx%s\\\"", h, n, etag_suffix[e]);
        }
        free(gz);
        free(br);
        free(data);
        if (ferror(out)) die("%s: write failed: %s", output, strerror(errno));
    }

    emit("\nstatic const uw_static_asset assets_table[%zu] = {\n", nassets);
    for (size_t i = 0; i < nassets; i++) {
        emit("    { \"%s\", \"%s\", %lld, {\n", assets[i].url, meta[i].type, mtime);
        for (int e = 0; e < UW_STATIC_ENCODINGS; e++) {
            const struct variant_meta *v = &meta[i].v[e];
            if (!v->present) emit("        { NULL, 0, 0, NULL },\n");
            else if (v->nchunks == 0) emit("        { NULL, 0, 0, \"%s\" },\n", v->etag);
            else emit("        { a%zu_%s, %zu, %" PRIu64 ", \"%s\" },\n", i, variant_tag[e], v->nchunks, v->size, v->etag);
        }
        emit("    } },\n");
    }
    emit("};\n\nstatic const uw_static_entry entries_table[%zu] = {\n", nentries);
    for (size_t i = 0; i < nentries; i++)
        emit("    { \"%s\", %zu, &assets_table[%zu] },\n", entries[i].url, strlen(entries[i].url), entries[i].asset);
    emit("};\n\nconst uw_static_set %s = { entries_table, %zu, assets_table, %zu };\n", name, nentries, nassets);
    close_tmp(out, output);

    FILE *h = open_tmp(header, 1);
    fprintf(h, "/* Generated by uweb-crunch: static assets \"%s\". Do not edit. */\n"
               "#ifndef UWEB_CRUNCH_%s_H\n#define UWEB_CRUNCH_%s_H\n\n#include \"uweb/static.h\"\n\n"
               "extern const uw_static_set %s;\n\n#endif\n", name, name, name, name);
    close_tmp(h, header);

    if (depfile) {
        FILE *d = open_tmp(depfile, 2);
        fprintf(d, "%s %s:", output, header);
        for (size_t i = 0; i < nassets; i++) fprintf(d, " \\\n  %s", assets[i].file);
        fprintf(d, "\n");
        for (size_t i = 0; i < nassets; i++) fprintf(d, "%s:\n", assets[i].file);
        close_tmp(d, depfile);
        commit_tmp(depfile, 2);
    }
    commit_tmp(header, 1);
    commit_tmp(output, 0);

    for (size_t i = 0; i < nentries; i++) free(entries[i].owned);
    for (size_t i = 0; i < nassets; i++) { free(assets[i].url); free(assets[i].file); }
    free(entries);
    free(assets);
    free(meta);
    free(inputs);
    free(header_alloc);
    return 0;
}
