/* Files from a directory (files.h) through an app over a socketpair: a
 * file, its range and 304, the index, and the paths out of the root
 * refused. */
#include "../check.h"
#include "exchange.h"
#include <uweb/files.h>

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static char top[64], root[96];
static uw_static_dir_conf conf;
static const uw_route routes[] = { { UW_GET, "/f/<rest:path>", uw_static_dir, .arg = &conf } };
static const uw_app app = { UW_ROUTES(routes) };

static int status_of(const char *path, const char *extra)
{
    char req[1024];
    snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: x\r\n%s\r\n", path, extra ? extra : "");
    const char *a = ex_run(&app, req);
    return strncmp(a, "HTTP/1.1 ", 9) == 0 ? atoi(a + 9) : -1;
}

static void put(const char *name, const char *text)
{
    char p[256];
    snprintf(p, sizeof p, "%s/%s", top, name);
    FILE *f = fopen(p, "w");
    if (f) { fputs(text, f); fclose(f); }
}

static void test_serves(void)
{
    CHECK_EQ_INT(status_of("/f/a.txt", NULL), 200);
    CHECK_EQ_STR(ex_body(ex_out), "hello world\n");
    CHECK_EQ_INT(status_of("/f/a.txt", "Range: bytes=0-4\r\n"), 206);
    CHECK_EQ_STR(ex_body(ex_out), "hello");
    const char *et = strstr(ex_out, "ETag: ");
    char inm[128] = "";
    if (et) snprintf(inm, sizeof inm, "If-None-Match: %.*s\r\n", (int)strcspn(et + 6, "\r"), et + 6);
    CHECK_EQ_INT(status_of("/f/a.txt", inm), 304);
    CHECK_EQ_INT(status_of("/f/d/", NULL), 200);
    CHECK_EQ_STR(ex_body(ex_out), "index\n");
    CHECK_EQ_INT(status_of("/f/d", NULL), 308);
    CHECK_EQ_INT(status_of("/f/missing", NULL), 404);
}

static void test_refuses(void)
{
    static const char *const paths[] = {
        "/f/../out.txt", "/f/%2e%2e/out.txt", "/f/d%2f..%2f..%2fout.txt", "/f/d%5c..%5cout.txt",
        "/f/a.txt%00x", "/f/.hidden", "/f/d/..", "/f/d//a.txt",
    };
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        int st = status_of(paths[i], NULL);
        if (st != 404 && st != 400) { printf("# %s: %d\n", paths[i], st); CHECK(!"refused"); }
    }
    CHECK_EQ_INT(status_of("/f/up", NULL), 403);        /* a symlink out of the root */
    CHECK_EQ_INT(status_of("/f/d/in", NULL), 403);      /* a symlink inside: not followed */
    conf.follow_symlinks = true;
    CHECK_EQ_INT(status_of("/f/d/in", NULL), 200);
    CHECK_EQ_INT(status_of("/f/up", NULL), 403);
    conf.follow_symlinks = false;
}

int main(void)
{
    snprintf(top, sizeof top, "/tmp/uweb-files-%d", (int)getpid());
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf %s && mkdir -p %s/www/d && echo secret > %s/out.txt", top, top, top);
    if (system(cmd) != 0) return 1;
    snprintf(root, sizeof root, "%s/www", top);
    put("www/a.txt", "hello world\n");
    put("www/.hidden", "x\n");
    put("www/d/index.html", "index\n");
    snprintf(cmd, sizeof cmd, "ln -s ../out.txt %s/up && ln -s ../a.txt %s/d/in", root, root);
    if (system(cmd) != 0) return 1;
    conf.root = root;
    uw_rt_init();
    RUN(test_serves);
    RUN(test_refuses);
    uw_rt_fini();
    snprintf(cmd, sizeof cmd, "rm -rf %s", top);
    if (system(cmd) != 0) return 1;
    return CHECK_DONE();
}
