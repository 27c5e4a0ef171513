/*
 * The router: matches a method and a path against a route table in order.
 * Patterns are parsed as they are matched (they are short), so a route
 * table is plain constant data.
 */
#include "web_internal.h"
#include "../util/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum seg_kind { SEG_LITERAL, SEG_INT, SEG_ONE, SEG_REST, SEG_BAD };

typedef struct seg {
    enum seg_kind kind;
    const char *text;    /* literal text, or the capture's name */
    size_t len;
} seg;

/* Parses the pattern segment at *p (after a '/'); advances *p. */
static seg next_pattern_seg(const char **p)
{
    const char *s = *p, *e = strchr(s, '/');
    if (!e) e = s + strlen(s);
    *p = e;
    size_t n = (size_t)(e - s);
    if (n >= 2 && s[0] == '<' && s[n - 1] == '>') {
        const char *colon = memchr(s, ':', n);
        if (!colon) return (seg){ SEG_ONE, s + 1, n - 2 };
        size_t kl = (size_t)(colon - s - 1);
        const char *name = colon + 1;
        size_t nl = (size_t)(s + n - 1 - name);
        if (nl == 0) return (seg){ SEG_BAD, s, n };
        if (kl == 3 && memcmp(s + 1, "int", 3) == 0) return (seg){ SEG_INT, name, nl };
        if (kl == 3 && memcmp(s + 1, "seg", 3) == 0) return (seg){ SEG_ONE, name, nl };
        if (kl == 4 && memcmp(s + 1, "rest", 4) == 0) return (seg){ SEG_REST, name, nl };
        return (seg){ SEG_BAD, s, n };
    }
    if (memchr(s, '<', n) || memchr(s, '>', n)) return (seg){ SEG_BAD, s, n };
    return (seg){ SEG_LITERAL, s, n };
}

/* Percent-decodes s[0..n) into the arena; NULL on a bad escape or a NUL
 * byte (which no capture may contain). plus_space: '+' means ' '. */
char *uw__decode(uw_arena *a, const char *s, size_t n, bool plus_space, size_t *out_len)
{
    char *d = uw_arena_alloc(a, n + 1);
    if (!d) return NULL;
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '%') {
            int h, l;
            if (i + 2 >= n || (h = uw__hexval((unsigned char)s[i + 1])) < 0 || (l = uw__hexval((unsigned char)s[i + 2])) < 0)
                return NULL;
            c = (char)(h * 16 + l);
            if (c == 0) return NULL;
            i += 2;
        } else if (c == '+' && plus_space) {
            c = ' ';
        }
        d[j++] = c;
    }
    d[j] = 0;
    if (out_len) *out_len = j;
    return d;
}

static bool int_ok(const char *s, size_t n)
{
    size_t i = 0;
    if (n && s[0] == '-') i = 1;
    if (i == n || n - i > 19) return false;
    for (; i < n; i++)
        if (s[i] < '0' || s[i] > '9') return false;
    return true;
}

/* Matches one pattern against a path; fills caps when arena is given. */
static bool match_pattern(const char *pattern, const char *path, size_t path_len,
                          uw_arena *arena, uw_capture *caps, size_t *ncaps)
{
    const char *p = pattern, *s = path, *end = path + path_len;
    size_t nc = 0;
    if (!strchr(pattern, '<')) {          /* literal route: one comparison */
        if (ncaps) *ncaps = 0;
        return strlen(pattern) == path_len && memcmp(pattern, path, path_len) == 0;
    }
    if (*p != '/' || path_len == 0 || *s != '/') return false;
    for (;;) {
        /* both at a '/' (or pattern at its end) */
        if (*p == 0) {
            if (s != end) return false;
            break;
        }
        if (s == end) return false;
        p++;
        s++;
        seg g = next_pattern_seg(&p);
        const char *se = memchr(s, '/', (size_t)(end - s));
        if (!se) se = end;
        size_t sl = (size_t)(se - s);
        switch (g.kind) {
        case SEG_LITERAL:
            if (sl != g.len || memcmp(s, g.text, sl) != 0) return false;
            break;
        case SEG_INT:
            if (!int_ok(s, sl)) return false;
            break;
        case SEG_ONE:
            if (sl == 0) return false;
            break;
        case SEG_REST:
            se = end;
            sl = (size_t)(end - s);
            break;
        case SEG_BAD:
            return false;
        }
        if (g.kind != SEG_LITERAL) {
            if (nc == UW_MAX_CAPTURES) return false;
            if (arena && caps) {
                size_t vl;
                char *v = uw__decode(arena, s, sl, false, &vl);
                if (!v) return false;
                if (g.kind != SEG_REST && memchr(v, '/', vl)) return false;
                caps[nc] = (uw_capture){ g.text, g.len, v, vl };
            }
            nc++;
        }
        s = se;
        if (g.kind == SEG_REST) {
            if (*p != 0) return false;
            break;
        }
    }
    if (ncaps) *ncaps = nc;
    return true;
}

int uw_route_match(const uw_app *app, unsigned method, const char *path, size_t path_len,
                   uw_arena *arena, uw_capture *caps, size_t *ncaps,
                   unsigned *allowed, const char **redirect)
{
    unsigned want = method == UW_HEAD ? (UW_HEAD | UW_GET) : method;
    unsigned allow = 0;
    int redirect_to = -1;
    /* The same path with the trailing slash removed or added (not for
     * paths long enough to strain a task's stack). */
    size_t tl = path_len <= 2048 ? path_len : 0;
    char toggled_path[tl + 2];
    if (tl) {
        memcpy(toggled_path, path, path_len);
        if (path_len > 1 && path[path_len - 1] == '/') tl--;
        else toggled_path[tl++] = '/';
        toggled_path[tl] = 0;
    }
    for (size_t i = 0; i < app->nroutes; i++) {
        const uw_route *r = &app->routes[i];
        bool hit = match_pattern(r->pattern, path, path_len, NULL, NULL, NULL);
        bool toggled = false;
        if (!hit && tl && r->slash != UW_SLASH_EXACT &&
            match_pattern(r->pattern, toggled_path, tl, NULL, NULL, NULL)) {
            hit = toggled = true;
            if (r->slash == UW_SLASH_REDIRECT) {
                if ((r->methods & want) && redirect_to < 0 && redirect) {
                    char *d = arena ? uw_arena_strndup(arena, toggled_path, tl) : NULL;
                    if (d) { *redirect = d; redirect_to = (int)i; }
                }
                continue;
            }
        }
        if (!hit) continue;
        if (!(r->methods & want)) {
            allow |= r->methods;
            continue;
        }
        /* Match again, now decoding the captures. */
        if (!match_pattern(r->pattern, toggled ? toggled_path : path, toggled ? tl : path_len, arena, caps, ncaps))
            return -400;   /* matched, but a capture does not decode */
        return (int)i;
    }
    if (redirect_to >= 0) return -308;
    if (allow) {
        if (allow & UW_GET) allow |= UW_HEAD;
        if (allowed) *allowed = allow;
        return -405;
    }
    return -404;
}

int uw_routes_check(const uw_route *routes, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const char *p = routes[i].pattern;
        if (!p || *p != '/' || !routes[i].handler || !routes[i].methods) {
            fprintf(stderr, "uweb: route %zu: a pattern starting with '/', a handler and methods are required\n", i);
            return UW_EINVAL;
        }
        size_t caps = 0;
        while (*p) {
            p++;
            seg g = next_pattern_seg(&p);
            if (g.kind == SEG_BAD) {
                fprintf(stderr, "uweb: route \"%s\": bad segment \"%.*s\" (use <int:NAME>, <seg:NAME>, <rest:NAME>)\n",
                        routes[i].pattern, (int)g.len, g.text);
                return UW_EINVAL;
            }
            if (g.kind != SEG_LITERAL && ++caps > UW_MAX_CAPTURES) {
                fprintf(stderr, "uweb: route \"%s\": more than %d captures\n", routes[i].pattern, UW_MAX_CAPTURES);
                return UW_EINVAL;
            }
            if (g.kind == SEG_REST && *p) {
                fprintf(stderr, "uweb: route \"%s\": <rest:...> must be the last segment\n", routes[i].pattern);
                return UW_EINVAL;
            }
        }
    }
    return UW_OK;
}
