/*
 * fetch: the client as a command for the tests in this folder.  Fetches
 * each URL in turn with one uw_client (so keep-alive shows), and prints
 * per answer one line
 *     STATUS len=N sha256=HEX length=CL te=TE conn=X-CONN
 * or "error NAME" when the request failed, then a last line
 *     connections=N reused=N retried=N
 *
 *   --method M           request method
 *   --header 'K: V'      extra header (repeatable)
 *   --upload FILE        body streamed from FILE, chunked (unknown length)
 *   --upload-length FILE body streamed from FILE with Content-Length
 *   --max-redirects N    follow up to N redirects
 *   --io-timeout MS      each read/write
 *   --request-timeout MS the whole request
 *   --max-body N         cap on a body
 *   --out FILE           write the last body to FILE
 *   --cacert FILE        trusted CAs for https:// (default: the system store)
 *   --insecure           no certificate verification
 *   --h2                 offer HTTP/2 on https:// (the answer lines then say h2=1)
 *   --parallel N         the next URL fetched by N tasks at once (one
 *                        client: with --h2, streams of one connection)
 *   --sleep MS           wait MS milliseconds before the next URL
 *
 * A TLS failure prints "error NAME (REASON)".
 *
 * Client options (redirects, timeouts, caps) count only before the first URL.
 */
#include <uweb/client.h>

#include "../../tools/bench/bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct upload { FILE *f; };
static ssize_t from_file(void *arg, void *buf, size_t n)
{
    struct upload *u = arg;
    size_t k = fread(buf, 1, n > 5000 ? 5000 : n, u->f);      /* small pieces: many chunks */
    return ferror(u->f) ? UW_EIO : (ssize_t)k;
}

static int argc_;
static char **argv_;

/* One request of --parallel. */
typedef struct job {
    uw_client *cl;
    const char *url;
    uw_client_header *hs;
    size_t nh;
} job;

static void one(void *arg)
{
    job *j = arg;
    uw_client_req rq = { .url = j->url, .headers = j->hs, .nheaders = j->nh };
    uw_client_res *res;
    int r = uw_client_open(j->cl, &rq, &res);
    if (r != UW_OK) { printf("error %s\n", uw_client_strerror(r)); return; }
    char *body;
    size_t len;
    r = uw_client_res_read_all(res, &body, &len, 1 << 26);
    if (r != UW_OK) printf("error %s (reading the body)\n", uw_client_strerror(r));
    else {
        sha256 s;
        char hex[65];
        sha256_init(&s);
        sha256_update(&s, body, len);
        sha256_hex(&s, hex);
        printf("%d len=%zu sha256=%s h2=%d\n", uw_client_res_status(res), len, hex,
               uw_client_res_http_version(res) == 20);
        free(body);
    }
    uw_client_res_close(res);
}

static void run(void *arg)
{
    (void)arg;
    uw_client_config cfg;
    uw_client_config_default(&cfg);
    const char *method = NULL, *upload = NULL, *out = NULL;
    bool upload_length = false;
    uw_client_header hs[16];
    size_t nh = 0;
    static char hbuf[16][256];
    uw_client *cl = NULL;
    int parallel = 0;
    for (int i = 1; i < argc_; i++) {
        const char *a = argv_[i];
        if (!strcmp(a, "--method")) method = argv_[++i];
        else if (!strcmp(a, "--header") && nh < 16) {
            snprintf(hbuf[nh], sizeof hbuf[nh], "%s", argv_[++i]);
            char *c = strchr(hbuf[nh], ':');
            if (!c) continue;
            *c++ = 0;
            while (*c == ' ') c++;
            hs[nh] = (uw_client_header){ hbuf[nh], c };
            nh++;
        }
        else if (!strcmp(a, "--upload")) upload = argv_[++i];
        else if (!strcmp(a, "--upload-length")) { upload = argv_[++i]; upload_length = true; }
        else if (!strcmp(a, "--max-redirects")) cfg.max_redirects = atoi(argv_[++i]);
        else if (!strcmp(a, "--io-timeout")) cfg.io_timeout = UW_MS(atoll(argv_[++i]));
        else if (!strcmp(a, "--request-timeout")) cfg.request_timeout = UW_MS(atoll(argv_[++i]));
        else if (!strcmp(a, "--max-body")) cfg.max_body = strtoull(argv_[++i], NULL, 10);
        else if (!strcmp(a, "--out")) out = argv_[++i];
        else if (!strcmp(a, "--cacert")) cfg.ca_file = argv_[++i];
        else if (!strcmp(a, "--insecure")) cfg.insecure = true;
        else if (!strcmp(a, "--h2")) cfg.h2 = true;
        else if (!strcmp(a, "--parallel")) parallel = atoi(argv_[++i]);
        else if (!strcmp(a, "--sleep")) uw_sleep(UW_MS(atoll(argv_[++i])));
        else if (parallel > 0) {
            if (!cl && uw_client_new(&cl, &cfg) != UW_OK) return;
            job j = { cl, a, hs, nh };
            uw_task **ts = calloc((size_t)parallel, sizeof *ts);
            for (int k = 0; k < parallel; k++) ts[k] = uw_spawn(one, &j, 128 * 1024);
            for (int k = 0; k < parallel; k++) if (ts[k]) uw_join(ts[k]);
            free(ts);
            fflush(stdout);
            parallel = 0;
        }
        else {
            if (!cl && uw_client_new(&cl, &cfg) != UW_OK) return;
            uw_client_req rq = { .method = method, .url = a, .headers = hs, .nheaders = nh };
            struct upload up = { NULL };
            if (upload) {
                up.f = fopen(upload, "rb");
                if (!up.f) { printf("error cannot open %s\n", upload); continue; }
                rq.body_fn = from_file;
                rq.body_arg = &up;
                rq.body_length = -1;
                if (upload_length) { fseek(up.f, 0, SEEK_END); rq.body_length = ftell(up.f); rewind(up.f); }
            }
            uw_client_res *res;
            int r = uw_client_open(cl, &rq, &res);
            if (up.f) fclose(up.f);
            if (r == UW_CLIENT_ETLS || r == UW_CLIENT_EVERIFY) {
                printf("error %s (%s)\n", uw_client_strerror(r), uw_client_tls_reason(cl));
                fflush(stdout);
                continue;
            }
            if (r != UW_OK) { printf("error %s\n", uw_client_strerror(r)); fflush(stdout); continue; }
            sha256 s;
            sha256_init(&s);
            char buf[8192], hex[65];
            ssize_t n;
            uint64_t len = 0;
            FILE *o = out ? fopen(out, "wb") : NULL;
            while ((n = uw_client_res_read(res, buf, sizeof buf)) > 0) {
                sha256_update(&s, buf, (size_t)n);
                if (o) fwrite(buf, 1, (size_t)n, o);
                len += (uint64_t)n;
            }
            if (o) fclose(o);
            if (n < 0) printf("error %s (after %llu body bytes)\n", uw_client_strerror((int)n), (unsigned long long)len);
            else {
                sha256_hex(&s, hex);
                const char *te = uw_client_res_header(res, "Transfer-Encoding"), *xc = uw_client_res_header(res, "X-Conn");
                printf("%d len=%llu sha256=%s length=%lld te=%s conn=%s h2=%d\n", uw_client_res_status(res),
                       (unsigned long long)len, hex, (long long)uw_client_res_content_length(res), te ? te : "-",
                       xc ? xc : "-", uw_client_res_http_version(res) == 20);
            }
            fflush(stdout);
            uw_client_res_close(res);
        }
    }
    if (!cl) uw_client_new(&cl, &cfg);
    uw_client_stats st = uw_client_get_stats(cl);
    printf("connections=%llu reused=%llu retried=%llu\n", (unsigned long long)st.connections,
           (unsigned long long)st.reused, (unsigned long long)st.retried);
    uw_client_free(cl);
}

int main(int argc, char **argv)
{
    argc_ = argc;
    argv_ = argv;
    uw_rt_init();
    uw_rt_prepare_server();
    uw_task *t = uw_spawn(run, NULL, 256 * 1024);
    uw_detach(t);
    uw_rt_run();
    uw_rt_fini();
    return 0;
}
