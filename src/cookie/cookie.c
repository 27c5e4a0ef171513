/* Cookies (cookie.h): the Cookie field read, Set-Cookie written and
 * checked, and the signed and sealed forms over aead.h. */
#include <uweb/cookie.h>
#include <uweb/aead.h>
#include <uweb/random.h>
#include "../http/http_internal.h"
#include "../util/util.h"
#include "../web/web_internal.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* RFC 6265 cookie-octet. */
static bool octet_ok(unsigned char c)
{
    return c == 0x21 || (c >= 0x23 && c <= 0x2b) || (c >= 0x2d && c <= 0x3a) ||
           (c >= 0x3c && c <= 0x5b) || (c >= 0x5d && c <= 0x7e);
}

static bool name_ok(const char *s)
{
    if (!s || !*s) return false;
    for (; *s; s++)
        if (!uw__tchar((unsigned char)*s)) return false;
    return true;
}

static bool value_ok(const char *s)
{
    for (; *s; s++)
        if (!octet_ok((unsigned char)*s)) return false;
    return true;
}

static bool attr_ok(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f || *s == ';') return false;
    return true;
}

/* ------------------------------------------------------------ reading */

/* Finds name in one Cookie field value; the value in the arena or NULL. */
static const char *find(uw_arena *a, const char *h, const char *name)
{
    size_t nl = strlen(name);
    while (*h) {
        while (*h == ' ' || *h == '\t' || *h == ';') h++;
        const char *eq = strchr(h, '='), *semi = strchr(h, ';');
        if (!semi) semi = h + strlen(h);
        if (eq && eq < semi) {
            const char *ne = eq;
            while (ne > h && (ne[-1] == ' ' || ne[-1] == '\t')) ne--;
            if ((size_t)(ne - h) == nl && memcmp(h, name, nl) == 0) {
                const char *v = eq + 1, *e = semi;
                while (*v == ' ' || *v == '\t') v++;
                while (e > v && (e[-1] == ' ' || e[-1] == '\t')) e--;
                if (e - v >= 2 && *v == '"' && e[-1] == '"') v++, e--;
                return uw_arena_strndup(a, v, (size_t)(e - v));
            }
        }
        h = semi;
    }
    return NULL;
}

const char *uw_req_cookie(uw_req *req, const char *name)
{
    for (size_t i = 0; i < req->nheaders; i++)
        if (strcasecmp(req->headers[i].name, "Cookie") == 0) {
            const char *v = find(req->arena, req->headers[i].value, name);
            if (v) return v;
        }
    return NULL;
}

/* ------------------------------------------------------------ setting */

int uw_cookie_format(const uw_cookie *c, int64_t now, char *out, size_t cap)
{
    if (!name_ok(c->name) || !c->value || !value_ok(c->value)) return UW_EINVAL;
    if ((c->path && !attr_ok(c->path)) || (c->domain && !attr_ok(c->domain))) return UW_EINVAL;
    bool host = strncmp(c->name, "__Host-", 7) == 0, secure_prefix = strncmp(c->name, "__Secure-", 9) == 0;
    if ((host || secure_prefix) && !c->secure) return UW_EINVAL;
    if (host && (c->domain || !c->path || strcmp(c->path, "/") != 0)) return UW_EINVAL;
    if (c->same_site == UW_SAMESITE_NONE && !c->secure) return UW_EINVAL;
    if (c->same_site < UW_SAMESITE_UNSET || c->same_site > UW_SAMESITE_NONE) return UW_EINVAL;
    char date[30];
    size_t n = 0;
    int k = snprintf(out, cap, "%s=%s", c->name, c->value);
    if (k < 0 || (size_t)k >= cap) return UW_ELIMIT;
    n = (size_t)k;
#define ADD(...) do {                                   \
        k = snprintf(out + n, cap - n, __VA_ARGS__);    \
        if (k < 0 || (size_t)k >= cap - n)              \
            return UW_ELIMIT;                           \
        n += (size_t)k;                                 \
    } while (0)
    int64_t expires = c->expires;
    if (c->max_age == UW_COOKIE_DELETE) {
        ADD("; Max-Age=0");
        expires = 1;
    } else if (c->max_age > 0) {
        ADD("; Max-Age=%lld", (long long)c->max_age);
        if (!expires) expires = now + c->max_age;     /* for clients without Max-Age */
    }
    if (expires) {
        uw__http_date(expires, date);
        ADD("; Expires=%s", date);
    }
    if (c->path) ADD("; Path=%s", c->path);
    if (c->domain) ADD("; Domain=%s", c->domain);
    if (c->secure) ADD("; Secure");
    if (c->http_only) ADD("; HttpOnly");
    if (c->same_site) ADD("; SameSite=%s", c->same_site == UW_SAMESITE_LAX ? "Lax" : c->same_site == UW_SAMESITE_STRICT ? "Strict" : "None");
#undef ADD
    return (int)n;
}

static int64_t wall_sec(void) { return uw_wall_now() / 1000000000; }

int uw_res_cookie(uw_res *res, const uw_cookie *c)
{
    char buf[4096 + 512];
    int n = uw_cookie_format(c, wall_sec(), buf, sizeof buf);
    if (n < 0) return n;
    return uw_res_header(res, "Set-Cookie", buf);
}

/* ------------------------------------------------------------ key */

int uw_cookie_set_key(const void *key, size_t len)
{
    if (len != UW_AEAD_KEY_BYTES) return UW_EINVAL;
    memcpy(uw__cookie_key, key, len);
    uw__cookie_key_given = true;
    uw__cookie_key_made = false;
    return UW_OK;
}

int uw_cookie_key_parse(const void *data, size_t len, uint8_t key[32])
{
    return uw__cookie_key_parse(data, len, key);
}

static const uint8_t *key(void)
{
    static bool warned;
    if (!uw__cookie_key_given && uw__cookie_key_make() != UW_OK) return NULL;
    if (uw__cookie_key_made && !warned) {
        warned = true;
        fprintf(stderr, "uweb: warning: no --cookie-key-file: signed and sealed cookies use a key made "
                        "for this run (they are refused after a restart)\n");
    }
    return uw__cookie_key;
}

/* ------------------------------------------------------------ sealed */

static ssize_t b64_decode(const char *s, size_t n, uint8_t *out, size_t cap)
{
    if (n % 4 == 1) return -1;
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        int v = uw__b64urlval((unsigned char)s[i]);
        if (v < 0) return -1;
        acc = acc << 6 | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o == cap) return -1;
            out[o++] = (uint8_t)(acc >> bits);
        }
    }
    if (acc & ((1u << bits) - 1)) return -1;    /* non-canonical padding bits */
    return (ssize_t)o;
}

#define MAX_VALUE 2048
#define OVERHEAD (UW_AEAD_NONCE_BYTES + UW_AEAD_TAG_BYTES + 8)

static void put64(uint8_t *p, int64_t v) { for (int i = 7; i >= 0; i--, v >>= 8) p[i] = (uint8_t)v; }
static int64_t get64(const uint8_t *p) { uint64_t v = 0; for (int i = 0; i < 8; i++) v = v << 8 | p[i]; return (int64_t)v; }

/* The authenticated data: name, NUL, expiry, and for signed cookies the
 * value. */
static size_t aad_of(uint8_t *aad, const char *name, int64_t exp, const char *value, size_t vl)
{
    size_t nl = strlen(name);
    memcpy(aad, name, nl);
    aad[nl] = 0;
    put64(aad + nl + 1, exp);
    if (vl) memcpy(aad + nl + 9, value, vl);
    return nl + 9 + vl;
}

int uw_cookie_seal(const char *name, const char *value, int64_t exp, bool encrypt, char *out, size_t cap)
{
    size_t vl = strlen(value), nl = strlen(name);
    if (vl > MAX_VALUE || nl > 256) return UW_ELIMIT;
    if (!encrypt && !value_ok(value)) return UW_EINVAL;
    const uint8_t *k = key();
    if (!k) return UW_EIO;
    uint8_t raw[OVERHEAD + MAX_VALUE], aad[256 + 9 + MAX_VALUE];
    /* raw: expiry(8) nonce(12) [ciphertext] tag(16) */
    put64(raw, exp);
    if (uw_random(raw + 8, UW_AEAD_NONCE_BYTES) != 0) return UW_EIO;
    size_t al = aad_of(aad, name, exp, value, encrypt ? 0 : vl);
    int r = uw_aead_seal(k, raw + 8, aad, al, value, encrypt ? vl : 0, raw + 20);
    if (r != UW_OK) return r;
    size_t rl = 20 + (encrypt ? vl : 0) + UW_AEAD_TAG_BYTES;
    size_t need = (encrypt ? 0 : vl + 1) + (rl + 2) / 3 * 4 + 1;
    if (need > cap) return UW_ELIMIT;
    size_t o = 0;
    if (!encrypt) {
        memcpy(out, value, vl);
        out[vl] = '.';
        o = vl + 1;
    }
    o += uw__b64_encode(raw, rl, out + o, cap - o, UW__B64_URL | UW__B64_NOPAD);
    return (int)o;
}

int uw_cookie_unseal(const char *name, const char *cookie, int64_t now, bool encrypt, char *out, size_t cap)
{
    const char *tag = cookie;
    size_t vl = 0;
    if (!encrypt) {
        const char *dot = strrchr(cookie, '.');
        if (!dot) return UW_EINVAL;
        vl = (size_t)(dot - cookie);
        tag = dot + 1;
    }
    size_t nl = strlen(name);
    if (vl > MAX_VALUE || nl > 256) return UW_EINVAL;
    uint8_t raw[OVERHEAD + MAX_VALUE + 3], aad[256 + 9 + MAX_VALUE];
    ssize_t rl = b64_decode(tag, strlen(tag), raw, sizeof raw);
    if (rl < OVERHEAD || (!encrypt && rl != OVERHEAD)) return UW_EINVAL;
    size_t pl = (size_t)rl - OVERHEAD;
    if ((encrypt ? pl : vl) + 1 > cap) return UW_ELIMIT;
    int64_t exp = get64(raw);
    const uint8_t *k = key();
    if (!k) return UW_EIO;
    size_t al = aad_of(aad, name, exp, cookie, vl);
    if (uw_aead_open(k, raw + 8, aad, al, raw + 20, pl + UW_AEAD_TAG_BYTES, (uint8_t *)out) != UW_OK) {
        memset(out, 0, pl + 1);
        return UW_EINVAL;
    }
    if (exp && now >= exp) {
        memset(out, 0, pl + 1);
        return UW_ETIMEDOUT;
    }
    if (!encrypt) {
        memcpy(out, cookie, vl);
        pl = vl;
    }
    out[pl] = 0;
    if (strlen(out) != pl) return UW_EINVAL;     /* a NUL inside: not a string value */
    return (int)pl;
}

static int64_t expiry(const uw_cookie *c, int64_t now)
{
    if (c->max_age > 0) return now + c->max_age;
    return c->expires > 0 ? c->expires : 0;
}

static int set_sealed(uw_res *res, const uw_cookie *c, bool encrypt)
{
    if (!name_ok(c->name) || !c->value) return UW_EINVAL;
    char *v = uw_arena_alloc(res->arena, 2 * MAX_VALUE + 128);
    if (!v) return UW_ENOMEM;
    int64_t now = wall_sec();
    int n = uw_cookie_seal(c->name, c->value, c->max_age == UW_COOKIE_DELETE ? 1 : expiry(c, now), encrypt, v, 2 * MAX_VALUE + 128);
    if (n < 0) return n;
    uw_cookie sc = *c;
    sc.value = v;
    return uw_res_cookie(res, &sc);
}

int uw_res_cookie_signed(uw_res *res, const uw_cookie *c) { return set_sealed(res, c, false); }
int uw_res_cookie_sealed(uw_res *res, const uw_cookie *c) { return set_sealed(res, c, true); }

static const char *get_sealed(uw_req *req, const char *name, bool encrypt)
{
    const char *v = uw_req_cookie(req, name);
    if (!v) return NULL;
    size_t cap = strlen(v) + 1;
    char *out = uw_arena_alloc(req->arena, cap);
    if (!out) return NULL;
    return uw_cookie_unseal(name, v, wall_sec(), encrypt, out, cap) >= 0 ? out : NULL;
}

const char *uw_req_cookie_signed(uw_req *req, const char *name) { return get_sealed(req, name, false); }
const char *uw_req_cookie_sealed(uw_req *req, const char *name) { return get_sealed(req, name, true); }
