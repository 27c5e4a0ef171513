/*
 * The part of the TLS engine both backends share: the ciphertext buffers
 * the caller fills and drains, the state and error of an engine, status
 * names, certificate name matching and ALPN choice.
 */
#include "tls_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *uw_tls_strerror(int status)
{
    switch (status) {
    case UW_TLS_OK: return "ok";
    case UW_TLS_WANT_INPUT: return "needs input";
    case UW_TLS_WANT_OUTPUT: return "needs output sent";
    case UW_TLS_EOF: return "closed by the peer (close_notify)";
    case UW_TLS_EPROTO: return "TLS protocol error";
    case UW_TLS_EHANDSHAKE: return "TLS handshake failed: nothing in common";
    case UW_TLS_ETRUNCATED: return "TLS stream truncated";
    case UW_TLS_ELIMIT: return "TLS handshake too large";
    case UW_TLS_ENOMEM: return "out of memory";
    case UW_TLS_EINVAL: return "invalid argument";
    case UW_TLS_ECLOSED: return "TLS connection closed";
    case UW_TLS_ETIMEDOUT: return "TLS handshake timed out";
    case UW_TLS_EVERIFY: return "TLS certificate verification failed";
    default: return uw_strerror(status);
    }
}

void uw_tls__core_init(struct uw_tls_core *c, size_t max_handshake)
{
    memset(c, 0, sizeof *c);
    c->max_hs = max_handshake ? max_handshake : UW_TLS_DEFAULT_MAX_HANDSHAKE;
    c->state = UW_TLS_HANDSHAKING;
}

void uw_tls__core_fini(struct uw_tls_core *c)
{
    free(c->in);
    free(c->out);
    c->in = c->out = NULL;
}

void uw_tls__core_shrink(struct uw_tls_core *c)
{
    if (c->in && c->in_pos == c->in_len) {
        free(c->in);
        c->in = NULL;
        c->in_pos = c->in_len = 0;
    }
    if (c->out && c->out_pos == c->out_len) {
        free(c->out);
        c->out = NULL;
        c->out_pos = c->out_len = c->out_cap = 0;
    }
}

int uw_tls__fail(struct uw_tls_core *c, int status, const char *fmt, ...)
{
    if (c->state == UW_TLS_FAILED) return c->error;
    c->state = UW_TLS_FAILED;
    c->error = status;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->reason, sizeof c->reason, fmt, ap);
    va_end(ap);
    return status;
}

size_t uw_tls__in_take(struct uw_tls_core *c, void *dst, size_t n)
{
    size_t k = c->in_len - c->in_pos;
    if (k > n) k = n;
    if (k && c->state == UW_TLS_HANDSHAKING) {
        /* Only what the handshake itself reads counts: application data
         * the client sent right behind its Finished does not. */
        if (c->hs_bytes + k > c->max_hs) {
            uw_tls__fail(c, UW_TLS_ELIMIT, "handshake larger than %zu bytes", c->max_hs);
            return 0;
        }
        c->hs_bytes += k;
    }
    if (k) {
        memcpy(dst, c->in + c->in_pos, k);
        c->in_pos += k;
        if (c->in_pos == c->in_len) c->in_pos = c->in_len = 0;
    }
    return k;
}

bool uw_tls__out_put(struct uw_tls_core *c, const void *src, size_t n)
{
    if (c->out_pos == c->out_len) c->out_pos = c->out_len = 0;
    if (c->out_len + n > c->out_cap) {
        if (c->out_pos > 0) {
            memmove(c->out, c->out + c->out_pos, c->out_len - c->out_pos);
            c->out_len -= c->out_pos;
            c->out_pos = 0;
        }
        if (c->out_len + n > c->out_cap) {
            size_t cap = c->out_cap ? c->out_cap : 4096;
            while (cap < c->out_len + n) cap *= 2;
            unsigned char *p = realloc(c->out, cap);
            if (!p) return false;
            c->out = p;
            c->out_cap = cap;
        }
    }
    memcpy(c->out + c->out_len, src, n);
    c->out_len += n;
    return true;
}

/* ------------------------------------------------------------ engine buffers */

void *uw_tls_recv_buf(uw_tls *t, size_t *room)
{
    struct uw_tls_core *c = (struct uw_tls_core *)t;
    *room = 0;
    if (c->state == UW_TLS_FAILED || c->state == UW_TLS_CLOSED || c->eof) return NULL;
    if (!c->in) {
        c->in = malloc(UW_TLS_IN_CAP);
        if (!c->in) return NULL;
        c->in_pos = c->in_len = 0;
    }
    if (c->in_pos == c->in_len) {
        c->in_pos = c->in_len = 0;
    } else if (c->in_len == UW_TLS_IN_CAP && c->in_pos > 0) {
        memmove(c->in, c->in + c->in_pos, c->in_len - c->in_pos);
        c->in_len -= c->in_pos;
        c->in_pos = 0;
    }
    if (c->in_len == UW_TLS_IN_CAP) return NULL;
    *room = UW_TLS_IN_CAP - c->in_len;
    return c->in + c->in_len;
}

int uw_tls_recv_done(uw_tls *t, size_t n)
{
    struct uw_tls_core *c = (struct uw_tls_core *)t;
    if (c->state == UW_TLS_FAILED) return c->error;
    if (!c->in || n > UW_TLS_IN_CAP - c->in_len) return UW_TLS_EINVAL;
    c->in_len += n;
    return UW_TLS_OK;
}

const void *uw_tls_send_buf(uw_tls *t, size_t *len)
{
    struct uw_tls_core *c = (struct uw_tls_core *)t;
    *len = c->out_len - c->out_pos;
    return *len ? c->out + c->out_pos : NULL;
}

void uw_tls_send_done(uw_tls *t, size_t n)
{
    struct uw_tls_core *c = (struct uw_tls_core *)t;
    if (n > c->out_len - c->out_pos) n = c->out_len - c->out_pos;
    c->out_pos += n;
    if (c->out_pos == c->out_len) c->out_pos = c->out_len = 0;
}

uw_tls_state uw_tls_get_state(const uw_tls *t) { return ((const struct uw_tls_core *)t)->state; }
int uw_tls_error(const uw_tls *t) { return ((const struct uw_tls_core *)t)->error; }
const char *uw_tls_reason(const uw_tls *t) { return ((const struct uw_tls_core *)t)->reason; }

/* ------------------------------------------------------------ names */

bool uw_tls__name_match(const char *pattern, const char *host)
{
    if (strcasecmp(pattern, host) == 0) return true;
    if (pattern[0] != '*' || pattern[1] != '.') return false;
    const char *dot = strchr(host, '.');
    if (!dot || dot == host) return false;
    return strcasecmp(pattern + 1, dot) == 0;
}

int uw_tls__alpn_wire(const char *const *names, unsigned char *out, size_t *out_len)
{
    size_t len = 0, count = 0;
    for (; names && *names; names++, count++) {
        size_t n = strlen(*names);
        if (n == 0 || n > 255 || count >= UW_TLS_MAX_ALPN) return UW_TLS_EINVAL;
        out[len++] = (unsigned char)n;
        memcpy(out + len, *names, n);
        len += n;
    }
    *out_len = len;
    return UW_TLS_OK;
}

bool uw_tls__alpn_choose(const unsigned char *ours, size_t ours_len, const unsigned char *theirs,
                         size_t theirs_len, const unsigned char **sel, unsigned char *sel_len)
{
    for (size_t i = 0; i < ours_len; i += 1 + (size_t)ours[i]) {
        size_t n = ours[i];
        for (size_t j = 0; j < theirs_len;) {
            size_t m = theirs[j];
            if (j + 1 + m > theirs_len) break;
            if (m == n && memcmp(ours + i + 1, theirs + j + 1, n) == 0) {
                *sel = ours + i + 1;
                *sel_len = (unsigned char)n;
                return true;
            }
            j += 1 + m;
        }
    }
    return false;
}

bool uw_tls__alpn_only_acme(const unsigned char *theirs, size_t theirs_len)
{
    static const char acme[] = UW_TLS_ALPN_ACME;
    return theirs_len == sizeof acme && theirs[0] == sizeof acme - 1
        && memcmp(theirs + 1, acme, sizeof acme - 1) == 0;
}

/* ------------------------------------------------------------ certificate names */

static char *lower_dup(const unsigned char *p, size_t n)
{
    char *s = malloc(n + 1);
    if (!s) return NULL;
    for (size_t i = 0; i < n; i++) s[i] = (char)(p[i] >= 'A' && p[i] <= 'Z' ? p[i] + 32 : p[i]);
    s[n] = 0;
    return s;
}

bool uw_tls__names_add_dns(uw_tls_names *s, const unsigned char *p, size_t n)
{
    if (s->n >= UW_TLS_MAX_NAMES || n == 0 || n >= 256 || memchr(p, 0, n)) return false;
    char *name = lower_dup(p, n);
    if (!name) return false;
    s->name[s->n++] = name;
    return true;
}

void uw_tls__ip_text(const unsigned char *p, size_t n, char *out, size_t cap)
{
    if (n == 4) {
        snprintf(out, cap, "%u.%u.%u.%u", p[0], p[1], p[2], p[3]);
        return;
    }
    unsigned w[8];
    for (int i = 0; i < 8; i++) w[i] = (unsigned)p[2 * i] << 8 | p[2 * i + 1];
    int best = -1, best_len = 1;        /* the longest run of zero words, at least 2 */
    for (int i = 0; i < 8;) {
        int j = i;
        while (j < 8 && w[j] == 0) j++;
        if (j - i > best_len) { best = i; best_len = j - i; }
        i = j > i ? j : i + 1;
    }
    size_t len = 0;
    out[0] = 0;
    for (int i = 0; i < 8 && len < cap; i++) {
        if (i == best) {
            len += (size_t)snprintf(out + len, cap - len, "::");
            i += best_len - 1;
            continue;
        }
        len += (size_t)snprintf(out + len, cap - len, "%s%x", len && out[len - 1] != ':' ? ":" : "", w[i]);
    }
}

bool uw_tls__names_add_ip(uw_tls_names *s, const unsigned char *p, size_t n)
{
    if (n != 4 && n != 16) return false;
    char ip[48];
    uw_tls__ip_text(p, n, ip, sizeof ip);
    return uw_tls__names_add_dns(s, (const unsigned char *)ip, strlen(ip));
}

bool uw_tls__names_serve(const uw_tls_names *s, const char *host)
{
    for (size_t i = 0; i < s->n; i++)
        if (uw_tls__name_match(s->name[i], host)) return true;
    return false;
}

void uw_tls__names_clear(uw_tls_names *s)
{
    for (size_t i = 0; i < s->n; i++) free(s->name[i]);
    s->n = 0;
}

uw_tls_slot *uw_tls__pick_slot(uw_tls_slot *slots, size_t n, const char *host, bool acme, bool acme_strict)
{
    uw_tls_slot *first = NULL;
    for (size_t i = 0; i < n; i++) {
        uw_tls_slot *sl = &slots[i];
        if (!sl->used) continue;
        if (sl->kind == UW_TLS_CERT_ACME) {
            if (acme && host && uw_tls__names_serve(&sl->names, host)) return sl;
            continue;
        }
        if (!first) first = sl;
        if (host && !acme && uw_tls__names_serve(&sl->names, host)) return sl;
    }
    return acme && acme_strict ? NULL : first;
}

bool uw_tls__sni_host(const unsigned char *p, size_t n, char *buf, size_t cap)
{
    if (!p || n == 0 || n >= cap || memchr(p, 0, n)) return false;
    for (size_t i = 0; i < n; i++) buf[i] = (char)(p[i] >= 'A' && p[i] <= 'Z' ? p[i] + 32 : p[i]);
    buf[n] = 0;
    if (n > 1 && buf[n - 1] == '.') buf[n - 1] = 0;
    return true;
}

/* ------------------------------------------------------------ writes */

ssize_t uw_tls__writev_records(uw_tls *t, const uw_slice *v, size_t n, unsigned char *gather, size_t rec,
                               int (*put)(uw_tls *t, const unsigned char *p, size_t len))
{
    struct uw_tls_core *c = (struct uw_tls_core *)t;
    size_t taken = 0, i = 0, off = 0;
    while (i < n) {
        if (off == v[i].len) { i++; off = 0; continue; }
        if (uw_tls__out_queued(c) >= UW_TLS_OUT_MAX) break;
        const unsigned char *p;
        size_t len;
        size_t rest = v[i].len - off;
        if (rest >= rec || i + 1 == n) {
            /* a big slice or the last one: encrypt from it directly */
            p = (const unsigned char *)v[i].ptr + off;
            len = rest < rec ? rest : rec;
            off += len;
        } else {
            /* small slices: gather up to one full record */
            len = 0;
            while (i < n && len < rec) {
                size_t k = v[i].len - off;
                if (k > rec - len) k = rec - len;
                if (k) memcpy(gather + len, (const unsigned char *)v[i].ptr + off, k);
                len += k;
                off += k;
                if (off == v[i].len) { i++; off = 0; }
            }
            p = gather;
        }
        int r = put(t, p, len);
        if (r != UW_TLS_OK) return taken ? (ssize_t)taken : r;
        taken += len;
    }
    if (taken == 0 && i < n) return UW_TLS_WANT_OUTPUT;
    return (ssize_t)taken;
}

/* ------------------------------------------------------------ client CAs */

char *uw_tls__ca_pem(const uw_tls_client_options *opt, size_t *len, char *err, size_t errlen)
{
    if (opt && opt->ca_pem) {
        char *s = malloc(opt->ca_len + 1);
        if (!s) { if (err && errlen) snprintf(err, errlen, "out of memory"); return NULL; }
        memcpy(s, opt->ca_pem, opt->ca_len);
        s[opt->ca_len] = 0;
        *len = opt->ca_len;
        return s;
    }
    return uw_tls__ca_read(opt ? opt->ca_file : NULL, len, err, errlen);
}
