/* Request ids and the access log of uw_app_dispatch (web.h): an id per
 * request (X-Request-Id, kept from the request when it is a sane token),
 * and one line per answered request, in the common log format, the
 * combined one with the id, or JSON lines. */
#include "web_internal.h"
#include "../http/http_internal.h"
#include "../util/util.h"
#include <uweb/random.h>

#include <stdio.h>
#include <string.h>
#include <time.h>

static FILE *log_file;
static int log_format;
static uint32_t id_prefix;
static uint64_t id_counter;

void uw__access_log_set(FILE *f, int format)
{
    log_file = f;
    log_format = format;
}

static bool id_ok(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++) {
        char c = s[n];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' || c == '_' || c == '.'))
            return false;
    }
    return n > 0 && n <= 64;
}

void uw__access_begin(uw_req *req, uw_res *res)
{
    uw_web_state *st = uw__web_state(req);
    if (!st) return;
    st->started = uw_now();
    const char *in = uw_req_header(req, "X-Request-Id");
    if (in && id_ok(in)) {
        st->request_id = in;
    } else {
        if (!id_prefix && uw_random(&id_prefix, sizeof id_prefix) != 0) id_prefix = 1;
        /* 32 bits of this process's random prefix, then the low 32 of a
         * counter, in hex: by hand, as this runs for every request. */
        char *id = uw_arena_alloc(req->arena, 17);
        if (id) {
            static const char hex[] = "0123456789abcdef";
            uint64_t v = (uint64_t)id_prefix << 32 | (uint32_t)++id_counter;
            for (int i = 15; i >= 0; i--, v >>= 4) id[i] = hex[v & 15];
            id[16] = 0;
        }
        st->request_id = id;
    }
    if (st->request_id) uw_res_header(res, "X-Request-Id", st->request_id);
}

const char *uw_req_id(const uw_req *req)
{
    const uw_web_state *st = uw__web_state_peek(req);
    return st && st->request_id ? st->request_id : "-";
}

/* A request field for a quoted log item: printable ASCII, '"' and '\'
 * escaped, the rest as \xHH. */
static void quoted(FILE *f, const char *s, bool json)
{
    if (!s) { fputs(json ? "null" : "\"-\"", f); return; }
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') fprintf(f, "\\%c", c);
        else if (c < 0x20 || c >= 0x7f) fprintf(f, json ? "\\u%04x" : "\\x%02x", c);
        else fputc(c, f);
    }
    fputc('"', f);
}

void uw__access_end(uw_req *req, uw_res *res)
{
    if (!log_file) return;
    uw__http_exchange_finish(req, res);          /* the answer the handler left, so its status is known */
    const uw_web_state *st = uw__web_state_peek(req);
    int64_t wall = uw_wall_now() / 1000000000;
    /* Microseconds, printed as milliseconds with 3 decimals in integers:
     * hvt guests have no floating point, guest printf has no %f. */
    long long us = st && st->started ? (long long)((uw_now() - st->started) / 1000) : 0;
    const char *user = uw_req_value(req, UW_AUTH_USER);
    const char *q = req->query;
    char target[8192];
    snprintf(target, sizeof target, "%s%s%s", req->path ? req->path : "", *q ? "?" : "", q);
    char peer[64];
    uw_req_peer(req, peer, sizeof peer);
    if (log_format == UW_ACCESS_JSON) {
        char date[30];
        uw__http_date(wall, date);
        fprintf(log_file, "{\"time\":\"%s\",\"client\":\"%s\",\"id\":", date, peer);
        quoted(log_file, uw_req_id(req), true);
        fprintf(log_file, ",\"method\":\"%s\",\"target\":", req->method_name ? req->method_name : "-");
        quoted(log_file, target, true);
        fprintf(log_file, ",\"proto\":\"HTTP/1.%d\",\"status\":%d,\"bytes\":%llu,\"ms\":%lld.%03lld,\"user\":",
                req->minor, res->status, (unsigned long long)res->body_sent, us / 1000, us % 1000);
        quoted(log_file, user, true);
        fputs(",\"referer\":", log_file);
        quoted(log_file, uw_req_header(req, "Referer"), true);
        fputs(",\"agent\":", log_file);
        quoted(log_file, uw_req_header(req, "User-Agent"), true);
        fputs("}\n", log_file);
    } else {
        time_t t = (time_t)wall;
        struct tm tm;
        gmtime_r(&t, &tm);
        fprintf(log_file, "%s - %s [%02d/%s/%04d:%02d:%02d:%02d +0000] \"%s ", peer, user && id_ok(user) ? user : "-",
                tm.tm_mday, uw__month_names[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec,
                req->method_name ? req->method_name : "-");
        for (const char *p = target; *p; p++) {
            unsigned char c = (unsigned char)*p;
            if (c == '"' || c == '\\' || c < 0x20 || c >= 0x7f) fprintf(log_file, "\\x%02x", c);
            else fputc(c, log_file);
        }
        fprintf(log_file, " HTTP/1.%d\" %d %llu", req->minor, res->status, (unsigned long long)res->body_sent);
        if (log_format == UW_ACCESS_COMBINED) {
            fputc(' ', log_file);
            quoted(log_file, uw_req_header(req, "Referer"), false);
            fputc(' ', log_file);
            quoted(log_file, uw_req_header(req, "User-Agent"), false);
            fprintf(log_file, " %s %lld.%03lldms", uw_req_id(req), us / 1000, us % 1000);
        }
        fputc('\n', log_file);
    }
    fflush(log_file);
}
