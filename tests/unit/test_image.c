/* The image reader against images written by uweb-image's writer
 * (tools/image/writer.c, linked in): round trips, every byte of a small
 * image flipped in turn, truncation, the dictionary, determinism. */
#include "../check.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <unistd.h>

#include "../../tools/image/image_tool.h"
#include "uweb/image.h"

/* The writer's error hooks: a test failure instead of an exit. */
char *tool_tmp_path;
static jmp_buf die_jump;
void tool_die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("# writer: ");
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    longjmp(die_jump, 1);
}
void tool_warn(const char *fmt, ...) { (void)fmt; }

struct mem { uint8_t *p; size_t n; };

static int mem_read(void *arg, uint64_t off, void *buf, size_t n)
{
    struct mem *m = arg;
    if (off > m->n || n > m->n - off) return UW_EIO;
    memcpy(buf, m->p + off, n);
    return UW_OK;
}

static uint32_t rng = 12345;
static uint32_t next(void) { rng = rng * 1103515245 + 12345; return rng >> 8; }

static uint8_t *bytes_of(const char *s) { return (uint8_t *)strdup(s); }

/* Writes tree T as an image and reads it back into memory. */
static struct mem build_solid(struct tool_tree *t, int level, bool no_dict, uint32_t solid)
{
    char out[] = "/tmp/uweb-test-image-XXXXXX";
    int fd = mkstemp(out);
    close(fd);
    struct build_options o = { .src = "test", .out = out, .level = level, .solid_size = solid,
                               .chunk_size = 64u << 10, .no_dictionary = no_dict, .have_mtime = true, .mtime = 1700000000 };
    struct mem m = { NULL, 0 };
    if (setjmp(die_jump) == 0) tool_write_image(t, &o);
    FILE *f = fopen(out, "rb");
    if (f) {
        fseek(f, 0, SEEK_END);
        m.n = (size_t)ftell(f);
        fseek(f, 0, SEEK_SET);
        m.p = malloc(m.n);
        if (fread(m.p, 1, m.n, f) != m.n) m.n = 0;
        fclose(f);
    }
    unlink(out);
    return m;
}

static struct mem build(struct tool_tree *t, int level, bool no_dict)
{
    return build_solid(t, level, no_dict, 256u << 10);
}

static void free_tree(struct tool_tree *t)
{
    for (size_t i = 0; i < t->n; i++) { free(t->files[i].path); free(t->files[i].data); }
    free(t->files);
    memset(t, 0, sizeof *t);
}

/* A copy of the tree's files, kept to compare (the writer sorts them). */
struct expect { char path[256]; uint8_t *data; uint64_t size; };

static size_t snapshot(const struct tool_tree *t, struct expect *e)
{
    for (size_t i = 0; i < t->n; i++) {
        snprintf(e[i].path, sizeof e[i].path, "/%s", t->files[i].path);
        e[i].data = malloc(t->files[i].size + 1);
        memcpy(e[i].data, t->files[i].data, t->files[i].size);
        e[i].size = t->files[i].size;
    }
    return t->n;
}

static bool reads_back(uw_image *im, const struct expect *e)
{
    uw_image_file f;
    if (uw_image_lookup(im, e->path, strlen(e->path), &f) != UW_OK || f.size != e->size) return false;
    uint8_t *buf = malloc(e->size + 1);
    bool ok = uw_image_read(im, &f, 0, buf, e->size) == UW_OK && memcmp(buf, e->data, e->size) == 0;
    free(buf);
    return ok;
}

static const uint8_t *expected(const struct expect *e, size_t n, const char *path)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(e[i].path, path) == 0) return e[i].data;
    return NULL;
}

static void small_tree(struct tool_tree *t)
{
    tool_tree_add(t, "index.html", bytes_of("<h1>hello</h1>\n"), 15, 1);
    tool_tree_add(t, "copy.html", bytes_of("<h1>hello</h1>\n"), 15, 1);
    tool_tree_add(t, "empty", bytes_of(""), 0, 1);
    tool_tree_add(t, "a/b/c.css", bytes_of("body { color: red }\n"), 20, 1);
}

static void test_round_trip(void)
{
    struct tool_tree t = { 0 };
    small_tree(&t);
    tool_tree_add(&t, "d/e/f/g/h/i/j/k/deep.txt", bytes_of("deep\n"), 5, 1);
    tool_tree_add(&t, "\xc3\xbc" "n\xc3\xaf" "c\xc3\xb8" "d\xc3\xa9.txt", bytes_of("utf-8\n"), 6, 1);
    uint64_t big = (1u << 20) + 12345;
    uint8_t *b = malloc(big);
    for (uint64_t i = 0; i < big; i++) b[i] = (uint8_t)(i % 251 < 200 ? 'a' + i % 7 : next());
    tool_tree_add(&t, "big.bin", b, big, 1);
    for (int i = 0; i < 300; i++) {
        char p[64], *d = malloc(64);
        snprintf(p, sizeof p, "many/file%04d.txt", i);
        snprintf(d, 64, "file number %d\n", i * 7);
        tool_tree_add(&t, p, (uint8_t *)d, strlen(d), 1);
    }
    struct expect *e = calloc(t.n, sizeof *e);
    size_t n = snapshot(&t, e);
    struct mem m = build(&t, 3, false);
    CHECK(m.n > 0 && m.n % 4096 == 0);
    uw_image *im = NULL;
    CHECK_EQ_INT(uw_image_open(&im, mem_read, &m, m.n, &(uw_image_config){ .cache_bytes = 128u << 10 }), UW_OK);
    if (!im) return;
    for (size_t i = 0; i < n; i++)
        if (!reads_back(im, &e[i])) { CHECK(!"file reads back"); printf("# %s\n", e[i].path); }
    uw_image_info info;
    uw_image_get_info(im, &info);
    CHECK_EQ_INT(info.files, n);
    CHECK_EQ_INT(info.contents, n - 1);            /* copy.html is index.html */
    uw_image_file f, g;
    CHECK_EQ_INT(uw_image_lookup(im, "/index.html", 11, &f), UW_OK);
    CHECK_EQ_INT(uw_image_lookup(im, "copy.html", 9, &g), UW_OK);
    CHECK_EQ_STR(f.etag, g.etag);
    CHECK_EQ_STR(f.content_type, "text/html; charset=utf-8");
    CHECK_EQ_INT(f.mtime, 1700000000);
    CHECK_EQ_INT(uw_image_lookup(im, "/nope", 5, &f), UW_ENOENT);
    CHECK_EQ_INT(uw_image_lookup(im, "/a/b", 4, &f), UW_ENOENT);
    CHECK_EQ_INT(uw_image_lookup(im, "", 0, &f), UW_ENOENT);
    /* Random ranges of the chunked file, across chunk boundaries. */
    CHECK_EQ_INT(uw_image_lookup(im, "/big.bin", 8, &f), UW_OK);
    uint8_t *buf = malloc(big);
    int bad = 0;
    for (int k = 0; k < 2000; k++) {
        uint64_t off = next() % big, len = next() % (200u << 10);
        if (k % 10 == 0) off = (next() % 16 + 1) * (64u << 10) - next() % 100;  /* near a boundary */
        if (off >= big) off = big - 1;
        if (len > big - off) len = big - off;
        if (uw_image_read(im, &f, off, buf, len) != UW_OK || memcmp(buf, expected(e, n, "/big.bin") + off, len) != 0) bad++;
    }
    CHECK_EQ_INT(bad, 0);
    CHECK_EQ_INT(uw_image_read(im, &f, big - 1, buf, 2), UW_EINVAL);
    CHECK_EQ_INT(uw_image_verify(im, NULL, NULL), 0);
    free(buf);
    uw_image_close(im);
    for (size_t i = 0; i < n; i++) free(e[i].data);
    free(e);
    free(m.p);
    free_tree(&t);
}

static void count_line(void *arg, const char *line) { (void)line; ++*(int *)arg; }

/* Every byte of a small image flipped in turn: the image is refused at
 * open or verify finds a problem, and no read ever gives wrong bytes. */
static void test_every_byte_flipped(void)
{
    struct tool_tree t = { 0 };
    small_tree(&t);
    struct expect e[8];
    size_t n = snapshot(&t, e);
    struct mem good = build(&t, 3, true);
    CHECK(good.n >= 3 * 4096);
    struct mem m = { malloc(good.n), good.n };
    size_t refused = 0, found = 0, missed = 0, wrong = 0;
    for (size_t i = 0; i < good.n; i++) {
        memcpy(m.p, good.p, good.n);
        m.p[i] ^= 0x5a;
        uw_image *im;
        if (uw_image_open(&im, mem_read, &m, m.n, NULL) != UW_OK) { refused++; continue; }
        for (size_t k = 0; k < n; k++) {
            uw_image_file f;
            int r = uw_image_lookup(im, e[k].path, strlen(e[k].path), &f);
            if (r == UW_EIO) continue;
            if (r != UW_OK || f.size != e[k].size) { wrong++; continue; }
            uint8_t buf[64];
            r = uw_image_read(im, &f, 0, buf, f.size);
            if (r == UW_OK && memcmp(buf, e[k].data, f.size) != 0) wrong++;
        }
        int lines = 0;
        if (uw_image_verify(im, count_line, &lines) > 0 && lines > 0) found++;
        else { missed++; if (missed < 5) printf("# flip at %zu not found by verify\n", i); }
        uw_image_close(im);
    }
    printf("# %zu bytes: %zu refused at open, %zu found by verify\n", good.n, refused, found);
    CHECK_EQ_INT(missed, 0);
    CHECK_EQ_INT(wrong, 0);
    for (size_t i = 0; i < n; i++) free(e[i].data);
    free(m.p);
    free(good.p);
    free_tree(&t);
}

static void test_truncated(void)
{
    struct tool_tree t = { 0 };
    small_tree(&t);
    struct mem m = build(&t, 3, true);
    uw_image *im;
    CHECK_EQ_INT(uw_image_open(&im, mem_read, &m, m.n - 4096, NULL), UW_EIO);
    CHECK(strstr(uw_image_open_error(), "truncated image") != NULL);
    CHECK(strchr(uw_image_open_error(), '\n') == NULL);
    CHECK_EQ_INT(uw_image_open(&im, mem_read, &m, 100, NULL), UW_EIO);
    m.p[0] = 'x';
    CHECK_EQ_INT(uw_image_open(&im, mem_read, &m, m.n, NULL), UW_EIO);
    CHECK(strstr(uw_image_open_error(), "magic") != NULL);
    free(m.p);
    free_tree(&t);
}

/* Many similar small pages in small solid blocks: a dictionary pays,
 * and the image reads back; the same tree gives the same bytes. */
static void test_dictionary_and_determinism(void)
{
    struct tool_tree t = { 0 }, t2 = { 0 };
    for (int i = 0; i < 3000; i++) {
        char p[64], *d = malloc(1024);
        snprintf(p, sizeof p, "doc/page%05d.html", i);
        int len = snprintf(d, 1024, "<!doctype html><html><head><title>Page %d of the manual</title>"
                           "<link rel=stylesheet href=style.css></head><body><div class=nav><a href=index.html>Home</a>"
                           "<a href=page%05d.html>Next</a></div><p>Section %d explains option %x.</p></body></html>\n",
                           i, i + 1, i * 3, (unsigned)next());
        tool_tree_add(&t, p, (uint8_t *)d, (uint64_t)len, 1);
        tool_tree_add(&t2, p, (uint8_t *)strdup(d), (uint64_t)len, 1);
    }
    struct expect *e = calloc(t.n, sizeof *e);
    size_t n = snapshot(&t, e);
    struct mem m = build_solid(&t, 3, false, 4096), m2 = build_solid(&t2, 3, false, 4096);
    CHECK(m.n == m2.n && memcmp(m.p, m2.p, m.n) == 0);
    uw_image *im = NULL;
    CHECK_EQ_INT(uw_image_open(&im, mem_read, &m, m.n, &(uw_image_config){ .cache_bytes = 1 }), UW_OK);
    if (!im) return;
    uw_image_info info;
    uw_image_get_info(im, &info);
    CHECK(info.dictionary);
    size_t bad = 0;
    for (int k = 0; k < 3000; k++) {
        size_t i = next() % n;
        if (!reads_back(im, &e[i])) bad++;
    }
    CHECK_EQ_INT(bad, 0);
    CHECK_EQ_INT(uw_image_verify(im, NULL, NULL), 0);
    uw_image_close(im);
    for (size_t i = 0; i < n; i++) free(e[i].data);
    free(e);
    free(m.p);
    free(m2.p);
    free_tree(&t);
    free_tree(&t2);
}

int main(void)
{
    RUN(test_round_trip);
    RUN(test_every_byte_flipped);
    RUN(test_truncated);
    RUN(test_dictionary_and_determinism);
    return CHECK_DONE();
}
