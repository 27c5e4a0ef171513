/*
 * Request-target and Host syntax (RFC 9112 §3.2, RFC 3986 §3).  No I/O:
 * these take the bytes the parser framed and say whether they are well
 * formed, so the HTTP/1 engine answers 400 to anything else.
 *
 *   origin-form    = absolute-path [ "?" query ]        any method
 *   absolute-form  = "http" / "https" "://" authority path-abempty [ "?" query ]
 *   authority-form = uri-host ":" port                  CONNECT only
 *   asterisk-form  = "*"                                OPTIONS only
 *
 * One leniency, on purpose: browsers send some bytes of a path or query
 * raw that RFC 3986 wants percent-encoded (WHATWG URL: [ ] \ ^ ` { | }
 * and non-ASCII), and llhttp lets them through; they carry no meaning for
 * the router, so they are accepted.  Controls and spaces never reach here
 * (llhttp refuses them); '"', '<', '>', '#' and a '%' not followed by two
 * hex digits are refused.
 */
#include "http_internal.h"

#include <string.h>
#include <strings.h>

static bool is_alpha(unsigned char c) { return (c | 0x20) >= 'a' && (c | 0x20) <= 'z'; }
static bool is_digit(unsigned char c) { return c >= '0' && c <= '9'; }
static bool is_hex(unsigned char c) { return is_digit(c) || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f'); }

static bool unreserved(unsigned char c)
{
    return is_alpha(c) || is_digit(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

static bool sub_delim(unsigned char c)
{
    return c && strchr("!$&'()*+,;=", c) != NULL;
}

/* pchar without pct-encoded (checked by the caller), plus the bytes
 * browsers send raw (see the top of this file). */
static bool path_byte(unsigned char c)
{
    return unreserved(c) || sub_delim(c) || c == ':' || c == '@' || c >= 0x80 ||
           (c && strchr("[]\\^`{|}", c) != NULL);
}

/* Checks s[0..n) as *( pchar / "/" ) (and "?" in a query). */
static bool path_ok(const char *s, size_t n, bool query)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '%') {
            if (i + 2 >= n) return false;
            if (!is_hex((unsigned char)s[i + 1]) || !is_hex((unsigned char)s[i + 2])) return false;
            i += 2;
        } else if (!(c == '/' || (query && c == '?') || path_byte(c))) {
            return false;
        }
    }
    return true;
}

/* IP-literal = "[" ( IPv6address / IPvFuture ) "]", checked for its
 * alphabet (hex digits, ':' and '.', or "v" HEX "." and the IPvFuture
 * bytes), not for the shape of every IPv6 abbreviation. */
static bool ip_literal_ok(const char *s, size_t n)
{
    if (n < 3 || s[0] != '[' || s[n - 1] != ']') return false;
    s++, n -= 2;
    if (s[0] == 'v' || s[0] == 'V') {
        size_t i = 1;
        while (i < n && is_hex((unsigned char)s[i])) i++;
        if (i == 1 || i >= n - 1 || s[i] != '.') return false;
        for (i++; i < n; i++)
            if (!(unreserved((unsigned char)s[i]) || sub_delim((unsigned char)s[i]) || s[i] == ':')) return false;
        return true;
    }
    bool colon = false;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == ':') colon = true;
        else if (!(is_hex((unsigned char)s[i]) || s[i] == '.')) return false;
    }
    return colon;
}

/* uri-host [ ":" port ] in s[0..n).  need_host: the host may not be
 * empty; need_port: the ":" port part is required (authority-form).  A
 * userinfo ("user@") is refused: RFC 9110 §4.2.4 deprecates it and a
 * recipient should treat it as an error. */
static bool authority_ok(const char *s, size_t n, bool need_host, bool need_port)
{
    size_t host_end;
    if (n && s[0] == '[') {
        const char *close = memchr(s, ']', n);
        if (!close) return false;
        host_end = (size_t)(close - s) + 1;
        if (!ip_literal_ok(s, host_end)) return false;
    } else {
        host_end = 0;
        while (host_end < n && s[host_end] != ':') {
            unsigned char c = (unsigned char)s[host_end];
            if (c == '%') {
                if (host_end + 2 >= n || !is_hex((unsigned char)s[host_end + 1]) ||
                    !is_hex((unsigned char)s[host_end + 2]))
                    return false;
                host_end += 3;
                continue;
            }
            if (!unreserved(c) && !sub_delim(c)) return false;   /* '@', ' ', '/', ... */
            host_end++;
        }
    }
    if (need_host && host_end == 0) return false;
    if (host_end == n) return !need_port;
    if (s[host_end] != ':') return false;
    size_t digits = n - host_end - 1;
    if (digits > 5 || (need_port && digits == 0)) return false;
    for (size_t i = host_end + 1; i < n; i++)
        if (!is_digit((unsigned char)s[i])) return false;
    return true;
}

bool uw__http_host_ok(const char *value, size_t len)
{
    return authority_ok(value, len, false, false);
}

/* Splits an origin-form part ("/a/b?q") at its '?', NUL-terminating the
 * path.  from points at the '/'. */
static const char *split_path(char *from, char *end, uw_target *t)
{
    char *q = memchr(from, '?', (size_t)(end - from));
    char *path_end = q ? q : end;
    if (!path_ok(from, (size_t)(path_end - from), false)) return "malformed request target";
    if (q && !path_ok(q + 1, (size_t)(end - q - 1), true)) return "malformed query in the request target";
    if (q) *q = 0;
    t->path = from;
    t->path_len = (size_t)(path_end - from);
    t->query = q ? q + 1 : "";
    return NULL;
}

const char *uw__http_parse_target(char *target, size_t len, unsigned method, bool connect, uw_target *t)
{
    char *end = target + len;
    memset(t, 0, sizeof *t);
    if (len == 0) return "empty request target";
    if (memchr(target, '#', len)) return "a fragment (#) in the request target";
    if (connect) {
        /* authority-form, and only it, for CONNECT */
        if (!authority_ok(target, len, true, true)) return "CONNECT needs a host:port target";
        t->form = UW_TARGET_AUTHORITY;
        t->path = target;
        t->path_len = len;
        t->query = "";
        return NULL;
    }
    if (target[0] == '/') {
        t->form = UW_TARGET_ORIGIN;
        return split_path(target, end, t);
    }
    if (len == 1 && target[0] == '*') {
        if (method != UW_OPTIONS) return "an asterisk target is for OPTIONS only";
        t->form = UW_TARGET_ASTERISK;
        t->path = target;
        t->path_len = 1;
        t->query = "";
        return NULL;
    }
    /* absolute-form: scheme ":" "//" authority path-abempty [ "?" query ] */
    size_t sl = 0;
    while (sl < len && target[sl] != ':') sl++;
    if (sl == len || !is_alpha((unsigned char)target[0])) return "request target is not a path";
    bool http = (sl == 4 && strncasecmp(target, "http", 4) == 0) ||
                (sl == 5 && strncasecmp(target, "https", 5) == 0);
    if (!http) return "absolute-form target with a scheme other than http or https";
    char *auth = target + sl + 1;
    if (end - auth < 2 || auth[0] != '/' || auth[1] != '/') return "absolute-form target without an authority";
    auth += 2;
    char *auth_end = auth;
    while (auth_end < end && *auth_end != '/' && *auth_end != '?') auth_end++;
    if (!authority_ok(auth, (size_t)(auth_end - auth), true, false))
        return "absolute-form target with a malformed or empty host";
    t->form = UW_TARGET_ABSOLUTE;
    if (auth_end < end && *auth_end == '/') return split_path(auth_end, end, t);
    /* path-abempty is empty: the path is "/" */
    if (auth_end < end && !path_ok(auth_end + 1, (size_t)(end - auth_end - 1), true))
        return "malformed query in the request target";
    t->path = (char *)"/";
    t->path_len = 1;
    t->query = auth_end < end ? auth_end + 1 : "";
    return NULL;
}
