/*
 * uweb-bench's parts: the latency histogram, SHA-256 for body checks, and
 * the load generator one worker process runs (its own runtime).
 */
#ifndef UWEB_BENCH_H
#define UWEB_BENCH_H

#include <uweb/net.h>
#include <uweb/tls.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A log-linear histogram of microseconds, 3 significant digits from 1 µs
 * to 1 minute (HdrHistogram's layout: 2048 sub-buckets, 16 buckets). */
#define HIST_SUB_HALF_MAG 10
#define HIST_SUB_HALF 1024
#define HIST_BUCKETS 16
#define HIST_LEN ((HIST_BUCKETS + 1) * HIST_SUB_HALF)
#define HIST_MAX_US 60000000ull

typedef struct hist {
    uint64_t counts[HIST_LEN];
    uint64_t total, min_us, max_us;
    double sum_us;
} hist;

void hist_init(hist *h);
void hist_record(hist *h, uint64_t us);
void hist_merge(hist *into, const hist *from);
/* The value at percentile p (0..100]: the highest value equivalent to the
 * bucket the p-th sample falls in, clamped to the largest recorded. */
uint64_t hist_percentile(const hist *h, double p);
/* Bucket i's lowest value and the width of values it holds. */
uint64_t hist_value_at(size_t i);
uint64_t hist_width_at(size_t i);
size_t hist_index(uint64_t us);

typedef struct sha256 {
    uint32_t h[8];
    uint64_t len;
    unsigned char buf[64];
    size_t n;
} sha256;
void sha256_init(sha256 *s);
void sha256_update(sha256 *s, const void *data, size_t n);
void sha256_hex(sha256 *s, char out[65]);

enum err_kind { ERR_CONNECT, ERR_TIMEOUT, ERR_RESET, ERR_PROTOCOL, ERR_STATUS, ERR_BODY, ERR_KINDS };
extern const char *const err_names[ERR_KINDS];

/* What a worker is told. */
typedef struct bench_cfg {
    const char *host;
    uint16_t port;
    bool tls;                  /* https:// */
    const char *cacert;        /* trusted CAs (PEM file); NULL: the system store */
    bool insecure;             /* no certificate verification */
    bool head;                 /* HEAD requests: no bodies in answers */
    char **reqs;               /* request bytes, one per path, cycled */
    size_t *req_lens, nreqs;
    int conns;
    int pipeline;
    uint64_t requests;         /* 0: run for duration */
    int64_t duration;          /* ns */
    double rate;               /* requests/s for this worker; 0: closed loop */
    int64_t timeout;           /* ns, per request */
    int expect_status;         /* 0: any 2xx or 3xx */
    const char *expect_sha256; /* lowercase hex or NULL */
    /* HTTP/2 (--h2): the parts of each request instead of its bytes */
    bool h2;
    int streams;               /* in flight per connection (-m) */
    const char *method, *authority;
    char **paths;              /* one per request of reqs */
    char **headers;            /* "Name: value" */
    int nheaders;
    const char *body;
    size_t body_len;
} bench_cfg;

/* What a worker reports, in memory shared with the parent. */
typedef struct bench_stats {
    volatile uint64_t done;    /* answered or failed, for the progress line */
    volatile uint64_t failed;
    uint64_t ok, bytes, connects;
    uint64_t status[600];
    uint64_t errors[ERR_KINDS];
    int64_t elapsed;           /* ns from the first send to the last answer */
    int finished;
    char tls_reason[160];      /* the first TLS failure, in words */
    hist h;
} bench_stats;

/* Runs the load in this process (its own runtime).  UW_OK or a status. */
int bench_run(const bench_cfg *cfg, bench_stats *st);

/* What worker.c and worker_h2.c share. */
typedef struct worker {
    const bench_cfg *cfg;
    bench_stats *st;
    uint64_t next_req;
    int64_t start, end, interval, last_answer;
    uw_tls_config *tls;  /* https:// */
    void *h2;                   /* worker_h2.c's per-worker state */
} worker;
void bench_fail(worker *w, enum err_kind kind, uint64_t n);
/* Opens a connection (TCP, then TLS for https://): UW_OK or a status. */
int bench_dial(worker *w, uw_conn **c);
/* One answer completed at `now` for a request sent at `from`. */
void bench_answer(worker *w, int status, const char *sha_hex, int64_t from, int64_t now);
/* How many more requests to send now (up to want): 0 when the run is over. */
uint64_t bench_take(worker *w, uint64_t want);
/* An HTTP/2 connection task (worker_h2.c); its arg is the worker. */
void bench_h2_conn_task(void *arg);
int bench_h2_init(worker *w);
void bench_h2_fini(worker *w);

#endif
