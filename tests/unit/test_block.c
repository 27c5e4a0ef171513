/* Block devices on unix (include/uweb/block.h): attach, alignment rules,
 * read back what was written, flush, read-only, slurp of a padded file. */
#include "../check.h"
#include <uweb/block.h>
#include <uweb/runtime.h>
#include <stdlib.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/stat.h>

static char dir[] = "/tmp/uweb-test-block-XXXXXX";

/* A file of SIZE bytes under dir holding DATA (LEN bytes) then NULs. */
static const char *make_file(const char *name, size_t size, const void *data, size_t len)
{
    static char path[8][128];
    static int next;
    char *p = path[next++ % 8];
    snprintf(p, sizeof path[0], "%s/%s", dir, name);
    FILE *f = fopen(p, "wb");
    if (!f) return p;
    if (len) fwrite(data, 1, len, f);
    for (size_t i = len; i < size; i++) fputc(0, f);
    fclose(f);
    return p;
}

static void test_attach_refuses(void)
{
    CHECK_EQ_INT(uw_block_attach("x", "/nonexistent/uweb-block", 0), UW_EIO);
    CHECK_EQ_INT(uw_block_attach("x", make_file("odd", 1000, NULL, 0), 0), UW_EINVAL);
    CHECK_EQ_INT(uw_block_attach("x", make_file("empty", 0, NULL, 0), 0), UW_EINVAL);
    CHECK_EQ_INT(uw_block_attach("", make_file("ok", 512, NULL, 0), 0), UW_EINVAL);
    CHECK_EQ_INT(uw_block_attach("a_name_longer_than_thirty_one_bytes", make_file("ok", 512, NULL, 0), 0), UW_EINVAL);
    uw_block *b = NULL;
    CHECK_EQ_INT(uw_block_open("x", &b), UW_EINVAL);
    CHECK_EQ_INT(uw_block_open("never_attached", &b), UW_EINVAL);
}

static void test_read_write(void)
{
    CHECK_EQ_INT(uw_block_attach("disk", make_file("disk", 8192, NULL, 0), 0), UW_OK);
    uw_block *b = NULL, *b2 = NULL;
    CHECK_EQ_INT(uw_block_open("disk", &b), UW_OK);
    CHECK_EQ_INT(uw_block_open("disk", &b2), UW_OK);
    if (!b || !b2) return;
    struct uw_block_info info;
    uw_block_info(b, &info);
    CHECK_EQ_INT(info.size, 8192);
    CHECK_EQ_INT(info.block_size, 512);
    CHECK_EQ_INT(info.read_only, 0);
    char w[1024], r[1024];
    for (size_t i = 0; i < sizeof w; i++) w[i] = (char)(i * 7 + 3);
    CHECK_EQ_INT(uw_block_write(b, 512, w, sizeof w), UW_OK);
    CHECK_EQ_INT(uw_block_flush(b), UW_OK);
    CHECK_EQ_INT(uw_block_read(b2, 512, r, sizeof r), UW_OK);   /* the other handle sees it */
    CHECK_EQ_MEM(r, sizeof r, w, sizeof w);
    CHECK_EQ_INT(uw_block_read(b, 7680, r, 512), UW_OK);         /* the last block */
    CHECK_EQ_INT(uw_block_read(b, 0, r, 0), UW_OK);
    /* Misaligned, partial or beyond the end: refused, nothing moves. */
    memset(r, 'z', sizeof r);
    CHECK_EQ_INT(uw_block_read(b, 1, r, 512), UW_EINVAL);
    CHECK_EQ_INT(uw_block_read(b, 0, r, 100), UW_EINVAL);
    CHECK_EQ_INT(uw_block_read(b, 7680, r, 1024), UW_EINVAL);
    CHECK_EQ_INT(uw_block_read(b, 8192, r, 512), UW_EINVAL);
    CHECK_EQ_INT(uw_block_read(b, UINT64_MAX - 511, r, 512), UW_EINVAL);
    CHECK_EQ_INT(uw_block_write(b, 8192, w, 512), UW_EINVAL);
    CHECK(r[0] == 'z' && r[1023] == 'z');
    uw_block_close(b);
    uw_block_close(b2);
}

static void test_read_only(void)
{
    const char *p = make_file("ro", 1024, "abc", 3);
    CHECK_EQ_INT(uw_block_attach("ro", p, UW_BLOCK_READ_ONLY), UW_OK);
    uw_block *b = NULL;
    CHECK_EQ_INT(uw_block_open("ro", &b), UW_OK);
    if (!b) return;
    struct uw_block_info info;
    uw_block_info(b, &info);
    CHECK_EQ_INT(info.read_only, 1);
    char buf[512] = "xyz";
    CHECK_EQ_INT(uw_block_write(b, 0, buf, 512), UW_EINVAL);
    CHECK_EQ_INT(uw_block_flush(b), UW_OK);
    CHECK_EQ_INT(uw_block_read(b, 0, buf, 512), UW_OK);
    CHECK(memcmp(buf, "abc", 4) == 0);
    uw_block_close(b);
    /* Attaching the name again replaces the file. */
    CHECK_EQ_INT(uw_block_attach("ro", make_file("ro2", 512, "def", 3), UW_BLOCK_READ_ONLY), UW_OK);
    CHECK_EQ_INT(uw_block_open("ro", &b), UW_OK);
    if (!b) return;
    CHECK_EQ_INT(uw_block_read(b, 0, buf, 512), UW_OK);
    CHECK(memcmp(buf, "def", 4) == 0);
    uw_block_close(b);
}

static void test_slurp(void)
{
    static const char pem[] = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
    size_t len = 0;
    int st = 1;
    CHECK_EQ_INT(uw_block_attach("tls", make_file("tls.img", 1024, pem, sizeof pem - 1), 0), UW_OK);
    char *s = uw_block_slurp("tls", 4096, &len, &st);
    CHECK_EQ_INT(st, UW_OK);
    CHECK(s != NULL);
    if (s) {
        CHECK_EQ_MEM(s, len, pem, sizeof pem - 1);
        CHECK(s[len] == '\0');
    }
    free(s);
    /* Exactly MAX bytes of data fit; one more does not. */
    s = uw_block_slurp("tls", sizeof pem - 1, &len, &st);
    CHECK(s != NULL && st == UW_OK);
    free(s);
    CHECK(uw_block_slurp("tls", sizeof pem - 2, &len, &st) == NULL);
    CHECK_EQ_INT(st, UW_ELIMIT);
    /* A small file on a large image: the padding past MAX is no data ... */
    CHECK_EQ_INT(uw_block_attach("big", make_file("big.img", 1 << 20, pem, sizeof pem - 1), 0), UW_OK);
    s = uw_block_slurp("big", 4096, &len, &st);
    CHECK(s != NULL && st == UW_OK && len == sizeof pem - 1);
    free(s);
    /* ... but a byte far past it is. */
    int fd = open(make_file("big2.img", 1 << 20, pem, sizeof pem - 1), O_WRONLY);
    CHECK(fd >= 0 && pwrite(fd, "x", 1, 900000) == 1);
    close(fd);
    CHECK_EQ_INT(uw_block_attach("dir", dir, 0), UW_EIO);          /* not a file */
    char p2[128];
    snprintf(p2, sizeof p2, "%s/big2.img", dir);
    CHECK_EQ_INT(uw_block_attach("big2", p2, 0), UW_OK);
    CHECK(uw_block_slurp("big2", 4096, &len, &st) == NULL);
    CHECK_EQ_INT(st, UW_ELIMIT);
    CHECK(uw_block_slurp("nothing", 4096, &len, &st) == NULL);
    CHECK_EQ_INT(st, UW_EINVAL);
    /* An all-NUL device reads back empty. */
    CHECK_EQ_INT(uw_block_attach("zero", make_file("zero.img", 512, NULL, 0), 0), UW_OK);
    s = uw_block_slurp("zero", 16, &len, &st);
    CHECK(s != NULL && len == 0 && s[0] == '\0');
    free(s);
}

int main(void)
{
    if (!mkdtemp(dir)) {
        printf("not ok - mkdtemp\n");
        return 1;
    }
    RUN(test_attach_refuses);
    RUN(test_read_write);
    RUN(test_read_only);
    RUN(test_slurp);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) printf("# could not remove %s\n", dir);
    return CHECK_DONE();
}
