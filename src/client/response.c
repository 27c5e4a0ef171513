/*
 * The client's response parser: llhttp in response mode, paused at the
 * end of each body span and of each message.  Header names and values are
 * copied into the caller's head buffer (strings from the bottom up, their
 * offsets from the top down), so the caller may reuse its read buffer at
 * once.  The head is reported when the first body span or the message's
 * end is reached, or when the input runs out after the head.
 */
#include <uweb/client.h>

#include <llhttp.h>
#include <string.h>
#include <strings.h>

_Static_assert(sizeof(llhttp_t) <= sizeof(((uw_client_parser *)0)->llhttp), "llhttp_t fits");

static llhttp_settings_t settings;
static bool settings_ready;

#define LL(p) ((llhttp_t *)(void *)(p)->llhttp)
#define CP(ll) ((uw_client_parser *)(ll)->data)

/* The offsets of header i: name, value. */
static uint32_t *field_slot(const uw_client_parser *p, size_t i)
{
    return (uint32_t *)(void *)(p->head + (p->head_cap & ~(size_t)3)) - 2 * (i + 1);
}

static size_t strings_room(const uw_client_parser *p)
{
    size_t top = (p->head_cap & ~(size_t)3) - 8 * p->nheaders;
    return top > p->head_len ? top - p->head_len : 0;
}

static int fail(uw_client_parser *p, int err)
{
    p->error = err;
    return HPE_USER;
}

/* Counts head bytes on the wire; stores them when keeping headers. */
static int add_bytes(uw_client_parser *p, const char *at, size_t len, bool keep)
{
    p->head_bytes += len;
    if (p->head_bytes > p->max_head_bytes) return fail(p, UW_ELIMIT);
    if (!keep || p->head_cap == 0) return 0;
    if (len + 1 > strings_room(p)) return fail(p, UW_ELIMIT);
    memcpy(p->head + p->head_len, at, len);
    p->head_len += len;
    return 0;
}

static int on_message_begin(llhttp_t *ll)
{
    uw_client_parser *p = CP(ll);
    p->nheaders = 0;
    p->head_len = 0;
    p->head_bytes = 0;
    p->head_done = p->in_field = false;
    p->started = true;
    return 0;
}

static int on_status(llhttp_t *ll, const char *at, size_t len)
{
    return add_bytes(CP(ll), at, len, false);
}

static int on_header_field(llhttp_t *ll, const char *at, size_t len)
{
    uw_client_parser *p = CP(ll);
    if (p->head_done) return add_bytes(p, at, len, false);   /* a trailer field: counted only */
    if (!p->in_field) {
        if (p->nheaders >= p->max_headers) return fail(p, UW_ELIMIT);
        if (p->head_cap) {
            if (strings_room(p) < 8 + len + 1) return fail(p, UW_ELIMIT);
            field_slot(p, p->nheaders)[0] = (uint32_t)p->head_len;
            field_slot(p, p->nheaders)[1] = (uint32_t)p->head_len;
        }
        p->nheaders++;
        p->in_field = true;
    }
    return add_bytes(p, at, len, true);
}

static int end_string(uw_client_parser *p)
{
    if (p->head_done || p->head_cap == 0) return 0;
    if (strings_room(p) < 1) return fail(p, UW_ELIMIT);
    p->head[p->head_len++] = 0;
    return 0;
}

static int on_header_field_complete(llhttp_t *ll)
{
    uw_client_parser *p = CP(ll);
    if (p->head_done) return 0;
    p->in_field = false;
    if (end_string(p)) return HPE_USER;
    if (p->head_cap) field_slot(p, p->nheaders - 1)[1] = (uint32_t)p->head_len;
    return 0;
}

static int on_header_value(llhttp_t *ll, const char *at, size_t len)
{
    uw_client_parser *p = CP(ll);
    return add_bytes(p, at, len, !p->head_done);
}

static int on_header_value_complete(llhttp_t *ll)
{
    return end_string(CP(ll));
}

static int on_headers_complete(llhttp_t *ll)
{
    uw_client_parser *p = CP(ll);
    p->head_done = true;
    p->status = ll->status_code;
    p->http_minor = ll->http_major == 1 ? ll->http_minor : 0;
    if (p->status < 100) return fail(p, UW_EPROTO);                    /* status codes have three digits */
    if (ll->upgrade || p->status == 101) return fail(p, UW_EPROTO);   /* no protocol switch was asked for */
    bool no_body = p->head_request || p->status / 100 == 1 || p->status == 204 || p->status == 304;
    if (no_body) p->content_length = 0;
    else if ((ll->flags & (F_CHUNKED | F_TRANSFER_ENCODING)) || !(ll->flags & F_CONTENT_LENGTH))
        p->content_length = -1;       /* chunked, or delimited by the connection's end */
    else p->content_length = (int64_t)ll->content_length;
    return no_body ? 1 : 0;
}

static int on_body(llhttp_t *ll, const char *at, size_t len)
{
    uw_client_parser *p = CP(ll);
    if (len == 0 || p->skip_body) return 0;   /* an open span flushed at the end of the input */
    p->body = at;
    p->body_len = len;
    p->event = UW_CP_BODY;
    return HPE_PAUSED;
}

static int on_message_complete(llhttp_t *ll)
{
    uw_client_parser *p = CP(ll);
    if (p->status / 100 == 1) {
        /* An interim answer (100 Continue, 103 Early Hints): skip it. */
        p->started = p->head_done = false;
        return 0;
    }
    p->keep_alive = llhttp_should_keep_alive(ll);
    p->event = UW_CP_DONE;
    return HPE_PAUSED;
}

void uw_client_parser_init(uw_client_parser *p, char *head, size_t head_cap,
                           size_t max_head_bytes, size_t max_headers, bool head_request)
{
    if (!settings_ready) {
        llhttp_settings_init(&settings);
        settings.on_message_begin = on_message_begin;
        settings.on_status = on_status;
        settings.on_header_field = on_header_field;
        settings.on_header_field_complete = on_header_field_complete;
        settings.on_header_value = on_header_value;
        settings.on_header_value_complete = on_header_value_complete;
        settings.on_headers_complete = on_headers_complete;
        settings.on_body = on_body;
        settings.on_message_complete = on_message_complete;
        settings_ready = true;
    }
    memset(p, 0, sizeof *p);
    p->head = head;
    p->head_cap = head ? head_cap : 0;
    p->max_head_bytes = max_head_bytes;
    p->max_headers = max_headers;
    p->head_request = head_request;
    p->content_length = -1;
    llhttp_init(LL(p), HTTP_RESPONSE, &settings);
    LL(p)->data = p;
}

void uw_client_parser_next(uw_client_parser *p, bool head_request)
{
    p->event = UW_CP_NONE;
    p->head_request = head_request;
    p->started = p->head_done = p->in_field = false;
    p->pending = UW_CP_NONE;
    p->status = 0;
    p->nheaders = 0;
    p->head_len = 0;
    p->content_length = -1;
    p->body = NULL;
    p->body_len = 0;
}

int uw_client_parser_feed(uw_client_parser *p, const char *data, size_t len, size_t *used)
{
    llhttp_t *ll = LL(p);
    *used = 0;
    p->event = UW_CP_NONE;
    if (p->error) return p->error;
    if (p->pending == UW_CP_DONE) {
        p->pending = UW_CP_NONE;
        p->event = UW_CP_DONE;
        return UW_OK;
    }
    if (p->pending == UW_CP_BODY) {
        /* The caller feeds again the bytes held back. */
        if (len < p->pending_len) return UW_EINVAL;
        p->pending = UW_CP_NONE;
        p->event = UW_CP_BODY;
        p->body = data;
        p->body_len = p->pending_len;
        *used = p->pending_len;
        return UW_OK;
    }
    /* Empty input still runs the parser: a message's end right after a
     * body span needs no further byte. */
    if (!data) data = "";
    bool head_was_done = p->head_done;
    if (llhttp_get_errno(ll) == HPE_PAUSED) llhttp_resume(ll);
    llhttp_errno_t e = llhttp_execute(ll, data, len);
    if (e == HPE_OK) {
        *used = len;
    } else if (e == HPE_PAUSED) {
        *used = (size_t)(llhttp_get_error_pos(ll) - data);
    } else {
        if (!p->error) p->error = UW_EPROTO;
        return p->error;
    }
    if (!head_was_done && (p->head_done || p->event == UW_CP_DONE)) {
        /* The head completed in this step: report it first, and hold
         * back what came with it. */
        if (p->event == UW_CP_BODY) {
            p->pending = UW_CP_BODY;
            p->pending_len = p->body_len;
            *used -= p->body_len;
        } else if (p->event == UW_CP_DONE) {
            p->pending = UW_CP_DONE;
        }
        p->event = UW_CP_HEAD;
    }
    return UW_OK;
}

int uw_client_parser_eof(uw_client_parser *p)
{
    llhttp_t *ll = LL(p);
    p->event = UW_CP_NONE;
    if (p->error) return p->error;
    if (p->pending) return UW_EINVAL;
    if (!p->started) return UW_ECLOSED;
    if (llhttp_get_errno(ll) == HPE_PAUSED) llhttp_resume(ll);
    bool head_was_done = p->head_done;
    llhttp_errno_t e = llhttp_finish(ll);
    if ((e == HPE_OK || e == HPE_PAUSED) && p->event == UW_CP_DONE) {
        if (!head_was_done) return UW_ECLOSED;
        return UW_OK;
    }
    return UW_ECLOSED;
}

static bool field_at(const uw_client_parser *p, size_t i, const char **name, const char **value)
{
    if (p->head_cap == 0 || i >= p->nheaders) return false;
    const uint32_t *s = field_slot(p, i);
    *name = p->head + s[0];
    *value = p->head + s[1];
    return true;
}

void uw_client_parser_header_at(const uw_client_parser *p, size_t i, const char **name, const char **value)
{
    if (!field_at(p, i, name, value)) *name = *value = NULL;
}

const char *uw_client_parser_header(const uw_client_parser *p, const char *name)
{
    const char *n, *v;
    for (size_t i = 0; field_at(p, i, &n, &v); i++)
        if (strcasecmp(n, name) == 0) return v;
    return NULL;
}

/* ------------------------------------------------------------ HTTP/2 heads */

void uw__client_parser_reset_head(uw_client_parser *p)
{
    p->nheaders = 0;
    p->head_len = 0;
    p->head_bytes = 0;
    p->started = true;
}

int uw__client_parser_add_header(uw_client_parser *p, const char *name, size_t nlen, const char *value, size_t vlen)
{
    p->head_bytes += nlen + vlen + 4;
    if (p->head_bytes > p->max_head_bytes || p->nheaders >= p->max_headers) return UW_ELIMIT;
    if (p->head_cap == 0) { p->nheaders++; return UW_OK; }
    if (strings_room(p) < 8 + nlen + vlen + 2) return UW_ELIMIT;
    field_slot(p, p->nheaders)[0] = (uint32_t)p->head_len;
    memcpy(p->head + p->head_len, name, nlen);
    p->head_len += nlen;
    p->head[p->head_len++] = 0;
    field_slot(p, p->nheaders)[1] = (uint32_t)p->head_len;
    memcpy(p->head + p->head_len, value, vlen);
    p->head_len += vlen;
    p->head[p->head_len++] = 0;
    p->nheaders++;
    return UW_OK;
}
