/*
 * uweb-bench: an HTTP/1.1 load generator with a latency histogram that
 * fails on any error.  Options are parsed here; each -t worker is a
 * process of its own running its own runtime (worker.c) and reports in
 * shared memory; this process merges, prints, and picks the exit status.
 */
#include "bench.h"

#include <uweb/client.h>
#include <uweb/tls.h>
#include <uweb/version.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char usage_text[] =
"NAME\n"
"    uweb-bench - load an HTTP server, report a latency histogram, fail on any error\n"
"\n"
"SYNOPSIS\n"
"    uweb-bench URL [-c CONNS] [-t THREADS] [-d DURATION | -n REQUESTS] [--rate R]\n"
"               [-P PIPELINE] [--h2 [-m STREAMS]] [--method METHOD] [--body FILE] [-H 'K: V']... [--paths FILE]\n"
"               [--expect-status N] [--expect-body-sha256 HEX] [--timeout T]\n"
"               [--json] [--histogram] [--cacert FILE] [--insecure]\n"
"\n"
"DESCRIPTION\n"
"    Opens CONNS keep-alive connections to URL (http://HOST[:PORT]/PATH or\n"
"    https://...; HOST a name, an IPv4 or a bracketed IPv6 address) and sends\n"
"    requests on them.  https:// runs TLS 1.2 or 1.3 (ALPN http/1.1, SNI) and\n"
"    verifies the server's certificate against the system's CAs (or --cacert)\n"
"    and its name against HOST; a handshake that fails counts as a connect\n"
"    error and its reason is printed once on stderr.\n"
"\n"
"    Closed loop (default): each connection sends its next request (or batch of\n"
"    PIPELINE requests) when the answers to the previous ones arrived; latency\n"
"    is measured from the send.  Open loop (--rate R): requests are sent at R per\n"
"    second in all, spread evenly over the connections, and latency is measured\n"
"    from each request's intended send time, so a server that stalls is charged\n"
"    for every request it held back (coordinated omission corrected, as wrk2).\n"
"\n"
"    Latencies go into a log-linear histogram with 3 significant digits from\n"
"    1 us to 1 minute; the report gives percentiles 50, 90, 99, 99.9, 99.99 and\n"
"    the maximum, requests/s, bytes/s, the count per status code and the errors\n"
"    by kind: connect, timeout, reset (the connection closed or was reset before\n"
"    the answer was complete), protocol (a malformed answer), status (another\n"
"    status than expected) and body (a body whose SHA-256 differs).\n"
"\n"
"OPTIONS\n"
"    -c, --connections N    connections in all (default 10)\n"
"    -t, --threads N        worker processes, each with its own runtime, sharing\n"
"                           the connections, requests and rate (default 1)\n"
"    -d, --duration T       run for T: 10s, 500ms, 2m (default 10s)\n"
"    -n, --requests N       send exactly N requests in all instead\n"
"    --rate R               open loop at R requests/s in all\n"
"    -P, --pipeline N       requests in flight per connection, 1..64 (default 1;\n"
"                           closed loop only)\n"
"    --method M             request method (default GET; HEAD reads no bodies)\n"
"    --body FILE            request body, sent with Content-Length\n"
"    -H, --header 'K: V'    an extra request header (repeatable)\n"
"    --paths FILE           paths (one per line, starting with /) used in turn\n"
"                           instead of URL's path\n"
"    --expect-status N      only status N counts as success (default: 2xx, 3xx)\n"
"    --expect-body-sha256 H every answer's body must have this SHA-256 (hex)\n"
"    --timeout T            per request, from its send to its answer (default 10s)\n"
"    --json                 print one JSON document instead of the text report\n"
"    --histogram            add an ASCII histogram of latencies to the text report\n"
"    --cacert FILE          trust the CA certificates of FILE (PEM) for https://\n"
"                           instead of the system store (/etc/ssl/certs)\n"
"    --insecure             accept any TLS certificate and name (https://)\n"
"    --h2                   HTTP/2: h2 by ALPN for https:// (the run fails if the\n"
"                           server does not choose it), prior knowledge (h2c)\n"
"                           for http://; closed loop only\n"
"    -m, --max-streams N    with --h2, requests in flight per connection, 1..1000\n"
"                           (default 1; also bounded by the server's\n"
"                           SETTINGS_MAX_CONCURRENT_STREAMS)\n"
"    -h, --help             this text\n"
"        --version          the version of uweb\n"
"\n"
"    On a terminal, a progress line on stderr is updated once per second.\n"
"\n"
"EXIT STATUS\n"
"    0 when every request was answered as expected; 1 when any request failed or\n"
"    missed an --expect-* condition; 2 for bad arguments (one line on stderr).\n"
"\n"
"EXAMPLES\n"
"    uweb-bench http://127.0.0.1:8080/ -c 64 -d 10s --histogram\n"
"    uweb-bench http://127.0.0.1:8080/ -c 64 -P 16 -n 1000000\n"
"    uweb-bench http://127.0.0.1:8080/ -c 50 --rate 5000 -d 30s --json\n"
"    uweb-bench https://localhost:8443/ --cacert ca.pem --h2 -m 100 -c 4 -n 100000\n";

static void die(const char *fmt, const char *arg)
{
    fprintf(stderr, "uweb-bench: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, " (see --help)\n");
    exit(2);
}

static uint64_t parse_count(const char *opt, const char *s, uint64_t min, uint64_t max)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (!*s || *end || errno || s[0] == '-' || v < min || v > max) {
        char msg[128];
        snprintf(msg, sizeof msg, "%s needs a number from %llu to %llu, not \"%%s\"", opt,
                 (unsigned long long)min, (unsigned long long)max);
        die(msg, s);
    }
    return v;
}

/* "10", "10s", "500ms", "250us", "2m", "1h", fractions allowed. */
static int64_t parse_time(const char *opt, const char *s)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    double unit = 1e9;
    if (strcmp(end, "ms") == 0) unit = 1e6;
    else if (strcmp(end, "us") == 0) unit = 1e3;
    else if (strcmp(end, "m") == 0) unit = 60e9;
    else if (strcmp(end, "h") == 0) unit = 3600e9;
    else if (*end && strcmp(end, "s") != 0) end = NULL;
    if (end == s || !end || errno || !(v > 0) || v * unit > 1e18) {
        char msg[128];
        snprintf(msg, sizeof msg, "%s needs a positive time such as 10s or 500ms, not \"%%s\"", opt);
        die(msg, s);
    }
    return (int64_t)(v * unit);
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 4096, n = 0;
    char *b = malloc(cap + 1);
    size_t k;
    while (b && (k = fread(b + n, 1, cap - n, f)) > 0) {
        n += k;
        if (n == cap) { char *nb = realloc(b, cap * 2 + 1); if (!nb) { free(b); b = NULL; break; } b = nb; cap *= 2; }
    }
    bool err = ferror(f);
    fclose(f);
    if (err) { free(b); return NULL; }
    if (b) b[n] = 0;
    *len = n;
    return b;
}

typedef struct report {
    uint64_t ok, failed, bytes, connects;
    uint64_t status[600];
    uint64_t errors[ERR_KINDS];
    double seconds;
    hist *h;
} report;

static double ms(uint64_t us) { return (double)us / 1000.0; }

static const double PCTS[] = { 50, 90, 99, 99.9, 99.99 };
static const char *const PCT_NAMES[] = { "p50", "p90", "p99", "p99.9", "p99.99" };

static void ascii_histogram(const hist *h)
{
    /* Rows at 1-2-5 steps from 1 us to 1 min, those between min and max. */
    static const uint64_t steps[] = { 1, 2, 5 };
    uint64_t bounds[40];
    int nb = 0;
    for (uint64_t dec = 1; dec <= 10000000 && nb < 38; dec *= 10)
        for (int i = 0; i < 3; i++) bounds[nb++] = dec * steps[i];
    bounds[nb++] = HIST_MAX_US + 1;
    uint64_t rows[40] = { 0 }, most = 0;
    for (size_t i = 0; i < HIST_LEN; i++) {
        if (!h->counts[i]) continue;
        uint64_t v = hist_value_at(i);
        int r = 0;
        while (r < nb - 1 && v >= bounds[r + 1]) r++;
        rows[r] += h->counts[i];
    }
    int lo = 0, hi = nb - 1;
    while (lo < hi && !rows[lo]) lo++;
    while (hi > lo && !rows[hi]) hi--;
    for (int r = lo; r <= hi; r++) if (rows[r] > most) most = rows[r];
    printf("  histogram (ms, requests)\n");
    for (int r = lo; r <= hi; r++) {
        int bar = most ? (int)((rows[r] * 50 + most - 1) / most) : 0;
        printf("  %10.3f - %-10.3f %10llu |", ms(r ? bounds[r] : 0), ms(bounds[r + 1] - 1), (unsigned long long)rows[r]);
        for (int i = 0; i < bar; i++) putchar('#');
        putchar('\n');
    }
}

static void print_text(const char *url, const report *R, int conns, int threads, int pipeline, double rate,
                       bool histogram)
{
    uint64_t total = R->ok + R->failed;
    printf("uweb-bench %s\n", url);
    printf("  %d connection%s, %d thread%s, %s", conns, conns == 1 ? "" : "s", threads, threads == 1 ? "" : "s",
           rate > 0 ? "open loop" : "closed loop");
    if (rate > 0) printf(" at %.0f requests/s", rate);
    if (pipeline > 1) printf(", pipelined x%d", pipeline);
    printf("\n");
    printf("  requests     %llu in %.3f s: %.1f requests/s, %.0f bytes/s\n", (unsigned long long)total, R->seconds,
           R->seconds > 0 ? (double)total / R->seconds : 0.0, R->seconds > 0 ? (double)R->bytes / R->seconds : 0.0);
    const hist *h = R->h;
    printf("  latency ms  ");
    for (int i = 0; i < 5; i++) printf(" %s %.3f", PCT_NAMES[i], ms(hist_percentile(h, PCTS[i])));
    printf(" max %.3f\n", ms(h->max_us));
    printf("               min %.3f mean %.3f\n", ms(h->total ? h->min_us : 0),
           h->total ? h->sum_us / (double)h->total / 1000.0 : 0.0);
    printf("  status      ");
    bool any = false;
    for (int s = 0; s < 600; s++)
        if (R->status[s]) { printf(" %d: %llu", s, (unsigned long long)R->status[s]); any = true; }
    printf("%s\n", any ? "" : " none");
    printf("  errors       %llu", (unsigned long long)R->failed);
    for (int k = 0; k < ERR_KINDS; k++) printf(", %s %llu", err_names[k], (unsigned long long)R->errors[k]);
    printf("\n");
    printf("  connections  %llu opened\n", (unsigned long long)R->connects);
    if (histogram) ascii_histogram(h);
}

static void json_str(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') printf("\\%c", *s);
        else if ((unsigned char)*s < 0x20) printf("\\u%04x", *s);
        else putchar(*s);
    }
    putchar('"');
}

static void print_json(const char *url, const report *R, int conns, int threads, int pipeline, double rate)
{
    uint64_t total = R->ok + R->failed;
    const hist *h = R->h;
    printf("{\"url\":");
    json_str(url);
    printf(",\"connections\":%d,\"threads\":%d,\"pipeline\":%d,\"mode\":\"%s\",\"rate\":%.3f,", conns, threads,
           pipeline, rate > 0 ? "open" : "closed", rate);
    printf("\"seconds\":%.6f,\"requests\":%llu,\"ok\":%llu,\"failed\":%llu,\"bytes\":%llu,\"connects\":%llu,",
           R->seconds, (unsigned long long)total, (unsigned long long)R->ok, (unsigned long long)R->failed,
           (unsigned long long)R->bytes, (unsigned long long)R->connects);
    printf("\"requests_per_sec\":%.3f,\"bytes_per_sec\":%.3f,", R->seconds > 0 ? (double)total / R->seconds : 0.0,
           R->seconds > 0 ? (double)R->bytes / R->seconds : 0.0);
    printf("\"latency_ms\":{\"min\":%.3f,\"mean\":%.3f", ms(h->total ? h->min_us : 0),
           h->total ? h->sum_us / (double)h->total / 1000.0 : 0.0);
    for (int i = 0; i < 5; i++) printf(",\"%s\":%.3f", PCT_NAMES[i], ms(hist_percentile(h, PCTS[i])));
    printf(",\"max\":%.3f},\"status\":{", ms(h->max_us));
    bool first = true;
    for (int s = 0; s < 600; s++)
        if (R->status[s]) { printf("%s\"%d\":%llu", first ? "" : ",", s, (unsigned long long)R->status[s]); first = false; }
    printf("},\"errors\":{");
    for (int k = 0; k < ERR_KINDS; k++) printf("%s\"%s\":%llu", k ? "," : "", err_names[k], (unsigned long long)R->errors[k]);
    printf("},\"histogram_us\":[");
    first = true;
    for (size_t i = 0; i < HIST_LEN; i++) {
        if (!h->counts[i]) continue;
        printf("%s[%llu,%llu,%llu]", first ? "" : ",", (unsigned long long)hist_value_at(i),
               (unsigned long long)(hist_value_at(i) + hist_width_at(i) - 1), (unsigned long long)h->counts[i]);
        first = false;
    }
    printf("],\"success\":%s}\n", R->failed ? "false" : "true");
}

/* Adds "Host", the user's headers and the body to one request's bytes. */
static char *build_request(const char *method, const char *target, const char *host_hdr, char **headers,
                           int nheaders, const char *body, size_t body_len, size_t *len)
{
    size_t n = strlen(method) + strlen(target) + strlen(host_hdr) + body_len + 128;
    bool has_host = false, has_ua = false;
    for (int i = 0; i < nheaders; i++) {
        n += strlen(headers[i]) + 2;
        if (strncasecmp(headers[i], "Host:", 5) == 0) has_host = true;
        if (strncasecmp(headers[i], "User-Agent:", 11) == 0) has_ua = true;
    }
    char *r = malloc(n);
    if (!r) return NULL;
    size_t k = (size_t)snprintf(r, n, "%s %s HTTP/1.1\r\n", method, target);
    if (!has_host) k += (size_t)snprintf(r + k, n - k, "Host: %s\r\n", host_hdr);
    if (!has_ua) k += (size_t)snprintf(r + k, n - k, "User-Agent: uweb-bench\r\n");
    for (int i = 0; i < nheaders; i++) k += (size_t)snprintf(r + k, n - k, "%s\r\n", headers[i]);
    if (body) k += (size_t)snprintf(r + k, n - k, "Content-Length: %zu\r\n", body_len);
    k += (size_t)snprintf(r + k, n - k, "\r\n");
    if (body) { memcpy(r + k, body, body_len); k += body_len; }
    *len = k;
    return r;
}

static bool valid_header(const char *h)
{
    const char *colon = strchr(h, ':');
    if (!colon || colon == h) return false;
    for (const char *p = h; *p; p++)
        if (*p == '\r' || *p == '\n' || (p < colon && (unsigned char)*p <= ' ')) return false;
    return true;
}

int main(int argc, char **argv)
{
    const char *url = NULL, *method = "GET", *body_file = NULL, *paths_file = NULL, *sha = NULL;
    int conns = 10, threads = 1, pipeline = 1, expect_status = 0, nheaders = 0;
    uint64_t requests = 0;
    int64_t duration = UW_SEC(10), timeout = UW_SEC(10);
    double rate = 0;
    bool json = false, histogram = false, duration_given = false, insecure = false, h2 = false;
    int streams = 1;
    const char *cacert = NULL;
    char **headers = calloc((size_t)argc, sizeof *headers);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = NULL;
        /* Options take their value as the next argument or after '='. */
        char name[64];
        const char *eq = strncmp(a, "--", 2) == 0 ? strchr(a, '=') : NULL;
        if (eq && (size_t)(eq - a) < sizeof name) {
            memcpy(name, a, (size_t)(eq - a));
            name[eq - a] = 0;
            v = eq + 1;
            a = name;
        }
#define VALUE() (v ? v : (i + 1 < argc ? argv[++i] : (die("%s needs a value", a), "")))
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { fputs(usage_text, stdout); return 0; }
        else if (!strcmp(a, "--version")) { printf("uweb-bench %s\n", uw_version()); return 0; }
        else if (!strcmp(a, "-c") || !strcmp(a, "--connections")) conns = (int)parse_count(a, VALUE(), 1, 100000);
        else if (!strcmp(a, "-t") || !strcmp(a, "--threads")) threads = (int)parse_count(a, VALUE(), 1, 256);
        else if (!strcmp(a, "-d") || !strcmp(a, "--duration")) { duration = parse_time(a, VALUE()); duration_given = true; }
        else if (!strcmp(a, "-n") || !strcmp(a, "--requests")) requests = parse_count(a, VALUE(), 1, UINT64_MAX / 2);
        else if (!strcmp(a, "--rate")) {
            const char *s = VALUE();
            char *end;
            rate = strtod(s, &end);
            if (end == s || *end || !(rate > 0) || rate > 1e8) die("--rate needs a positive number of requests/s, not \"%s\"", s);
        }
        else if (!strcmp(a, "-P") || !strcmp(a, "--pipeline")) pipeline = (int)parse_count(a, VALUE(), 1, 64);
        else if (!strcmp(a, "--method")) {
            method = VALUE();
            if (!*method || strspn(method, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_") != strlen(method))
                die("--method needs a method name such as GET, not \"%s\"", method);
        }
        else if (!strcmp(a, "--body")) body_file = VALUE();
        else if (!strcmp(a, "-H") || !strcmp(a, "--header")) {
            const char *h = VALUE();
            if (!valid_header(h)) die("-H needs 'Name: value', not \"%s\"", h);
            headers[nheaders++] = (char *)h;
        }
        else if (!strcmp(a, "--paths")) paths_file = VALUE();
        else if (!strcmp(a, "--expect-status")) expect_status = (int)parse_count(a, VALUE(), 100, 599);
        else if (!strcmp(a, "--expect-body-sha256")) {
            sha = VALUE();
            if (strlen(sha) != 64 || strspn(sha, "0123456789abcdefABCDEF") != 64)
                die("--expect-body-sha256 needs 64 hex digits, not \"%s\"", sha);
            char *low = strdup(sha);
            for (char *p = low; *p; p++) if (*p >= 'A' && *p <= 'F') *p = (char)(*p - 'A' + 'a');
            sha = low;
        }
        else if (!strcmp(a, "--timeout")) timeout = parse_time(a, VALUE());
        else if (!strcmp(a, "--json")) json = true;
        else if (!strcmp(a, "--histogram")) histogram = true;
        else if (!strcmp(a, "--insecure")) insecure = true;
        else if (!strcmp(a, "--cacert")) cacert = VALUE();
        else if (!strcmp(a, "--h2")) h2 = true;
        else if (!strcmp(a, "-m") || !strcmp(a, "--max-streams")) streams = (int)parse_count(a, VALUE(), 1, 1000);
        else if (a[0] == '-' && a[1]) die("unknown option %s", a);
        else if (url) die("one URL only; \"%s\" is a second", a);
        else url = a;
#undef VALUE
    }
    if (!url) die("%s", "a URL is needed");
    if (requests && duration_given) die("%s", "-n and -d exclude each other");
    if (rate > 0 && pipeline > 1) die("%s", "--rate and -P exclude each other (open loop sends one request at a time)");
    if (h2 && (rate > 0 || pipeline > 1)) die("%s", "--h2 excludes --rate and -P (use -m for requests in flight)");
    if (streams > 1 && !h2) die("%s", "-m needs --h2");
    if (threads > conns) die("%s", "-t needs at least one connection per thread (-c >= -t)");
    uw_client_url u;
    int r = uw_client_url_parse(&u, url);
    if (r != UW_OK) die("not an http:// or https:// URL: \"%s\"", url);
    if (u.tls) {
        /* The CAs are read once here so that a bad --cacert is one line. */
        uw_tls_config *check;
        char why[200] = "";
        uw_tls_client_options o = { .ca_file = cacert, .insecure = insecure };
        if (uw_tls_client_config_new(&check, &o, why, sizeof why) != UW_TLS_OK) die("%s", why);
        uw_tls_config_free(check);
    }
    char host_hdr[300];
    bool v6 = strchr(u.host, ':') != NULL;
    snprintf(host_hdr, sizeof host_hdr, "%s%s%s", v6 ? "[" : "", u.host, v6 ? "]" : "");
    if (u.port != (u.tls ? 443 : 80)) snprintf(host_hdr + strlen(host_hdr), sizeof host_hdr - strlen(host_hdr), ":%u", (unsigned)u.port);

    char *body = NULL;
    size_t body_len = 0;
    if (body_file && !(body = read_file(body_file, &body_len))) die("cannot read --body %s", body_file);

    /* The requests: URL's target, or each line of --paths. */
    size_t nreqs = 0, cap = 16;
    char **reqs = malloc(cap * sizeof *reqs);
    size_t *lens = malloc(cap * sizeof *lens);
    char **targets = malloc(cap * sizeof *targets);
    if (paths_file) {
        size_t plen;
        char *paths = read_file(paths_file, &plen);
        if (!paths) die("cannot read --paths %s", paths_file);
        for (char *line = strtok(paths, "\r\n"); line; line = strtok(NULL, "\r\n")) {
            if (!*line) continue;
            if (line[0] != '/' || strpbrk(line, " \t")) die("--paths: not a path: \"%s\"", line);
            if (nreqs == cap) {
                cap *= 2;
                reqs = realloc(reqs, cap * sizeof *reqs);
                lens = realloc(lens, cap * sizeof *lens);
                targets = realloc(targets, cap * sizeof *targets);
                if (!reqs || !lens || !targets) { fprintf(stderr, "uweb-bench: out of memory\n"); return 2; }
            }
            reqs[nreqs] = build_request(method, line, host_hdr, headers, nheaders, body, body_len, &lens[nreqs]);
            targets[nreqs] = strdup(line);
            nreqs++;
        }
        free(paths);
        if (nreqs == 0) die("--paths %s holds no path", paths_file);
    } else {
        reqs[0] = build_request(method, u.target, host_hdr, headers, nheaders, body, body_len, &lens[0]);
        targets[0] = strdup(u.target);
        nreqs = 1;
    }
    for (size_t i = 0; i < nreqs; i++)
        if (!reqs[i]) { fprintf(stderr, "uweb-bench: out of memory\n"); return 2; }

    /* Workers share the connections, requests and rate. */
    size_t st_size = ((sizeof(bench_stats) + 4095) / 4096) * 4096;
    bench_stats *all = mmap(NULL, st_size * (size_t)threads, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (all == MAP_FAILED) { fprintf(stderr, "uweb-bench: out of memory\n"); return 2; }
#define ST(i) ((bench_stats *)((char *)all + st_size * (size_t)(i)))
    pid_t *pids = calloc((size_t)threads, sizeof *pids);
    fflush(stdout);
    int64_t t0 = uw_now();
    for (int i = 0; i < threads; i++) {
        bench_cfg cfg = {
            .host = u.host, .port = u.port, .head = strcasecmp(method, "HEAD") == 0,
            .tls = u.tls, .cacert = cacert, .insecure = insecure,
            .h2 = h2, .streams = streams, .method = method, .authority = host_hdr, .paths = targets,
            .headers = headers, .nheaders = nheaders, .body = body, .body_len = body_len,
            .reqs = reqs, .req_lens = lens, .nreqs = nreqs,
            .conns = conns / threads + (i < conns % threads),
            .pipeline = pipeline,
            .requests = requests ? requests / (uint64_t)threads + ((uint64_t)i < requests % (uint64_t)threads) : 0,
            .duration = duration, .timeout = timeout,
            .expect_status = expect_status, .expect_sha256 = sha,
        };
        cfg.rate = rate > 0 ? rate * cfg.conns / conns : 0;
        if (requests && cfg.requests == 0) { ST(i)->finished = 1; continue; }
        pids[i] = fork();
        if (pids[i] < 0) { fprintf(stderr, "uweb-bench: cannot start a worker: %s\n", strerror(errno)); return 2; }
        if (pids[i] == 0) { int br = bench_run(&cfg, ST(i)); _exit(br == UW_OK ? 0 : 100 - br); }
    }
    /* Progress once per second on a terminal, until every worker ended. */
    bool tty = isatty(2) && !json;
    int left = 0;
    for (int i = 0; i < threads; i++) left += pids[i] > 0;
    int64_t next_tick = t0 + UW_SEC(1);
    int worker_failed = 0;
    while (left > 0) {
        int status;
        pid_t p = waitpid(-1, &status, WNOHANG);
        if (p > 0) {
            left--;
            if (WIFSIGNALED(status)) worker_failed = WTERMSIG(status) + 1000;
            else if (WEXITSTATUS(status) != 0) worker_failed = WEXITSTATUS(status);
            continue;
        }
        if (p < 0 && errno != EINTR) break;
        struct timespec ts = { 0, 20 * 1000 * 1000 };
        nanosleep(&ts, NULL);
        if (tty && uw_now() >= next_tick) {
            uint64_t done = 0, failed = 0;
            for (int i = 0; i < threads; i++) { done += ST(i)->done; failed += ST(i)->failed; }
            double secs = (double)(uw_now() - t0) / 1e9;
            fprintf(stderr, "\r  %5.0f s  %12llu requests  %10.0f/s  %llu errors   ", secs, (unsigned long long)done,
                    (double)done / secs, (unsigned long long)failed);
            next_tick += UW_SEC(1);
        }
    }
    if (tty) fprintf(stderr, "\r%*s\r", 70, "");
    if (worker_failed >= 1000) {
        fprintf(stderr, "uweb-bench: a worker ended by signal %d\n", worker_failed - 1000);
        return 1;
    }
    if (worker_failed) { fprintf(stderr, "uweb-bench: a worker could not run (%s)\n", uw_strerror(-(worker_failed - 100))); return 1; }

    report R = { 0 };
    R.h = malloc(sizeof *R.h);
    hist_init(R.h);
    int64_t elapsed = 0;
    for (int i = 0; i < threads; i++) {
        bench_stats *s = ST(i);
        R.ok += s->ok;
        R.failed += s->failed;
        R.bytes += s->bytes;
        R.connects += s->connects;
        for (int k = 0; k < 600; k++) R.status[k] += s->status[k];
        for (int k = 0; k < ERR_KINDS; k++) R.errors[k] += s->errors[k];
        if (s->h.total) hist_merge(R.h, &s->h);
        if (s->elapsed > elapsed) elapsed = s->elapsed;
    }
    R.seconds = (double)elapsed / 1e9;
    if (json) print_json(url, &R, conns, threads, pipeline, rate);
    else print_text(url, &R, conns, threads, pipeline, rate, histogram);
    fflush(stdout);
    for (int i = 0; i < threads; i++)
        if (ST(i)->tls_reason[0]) { fprintf(stderr, "uweb-bench: TLS: %s\n", ST(i)->tls_reason); break; }
    int status = 0;
    if (R.failed) {
        fprintf(stderr, "uweb-bench: %llu of %llu requests failed\n", (unsigned long long)R.failed,
                (unsigned long long)(R.ok + R.failed));
        status = 1;
    } else if (R.ok == 0) {
        fprintf(stderr, "uweb-bench: no request was answered\n");
        status = 1;
    }
    for (size_t i = 0; i < nreqs; i++) { free(reqs[i]); free(targets[i]); }
    free(targets);
    free(reqs);
    free(lens);
    free(body);
    free(headers);
    free(pids);
    free(R.h);
    if (sha) free((char *)sha);
    munmap(all, st_size * (size_t)threads);
    return status;
}
