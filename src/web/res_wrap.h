/*
 * res_wrap.h — response wrappers (compression on the fly, error pages):
 * a table of operations of their own between the uw_res_* calls and the
 * protocol's.  A wrapper's state starts with a uw_res_wrap; res->ops
 * points at its table, so an operation finds its state from res, and
 * calls the table it wraps through UW_WRAP_CALL, which points res->ops
 * there for the call (a wrapper below finds its own state the same way).
 * Not a public interface.
 */
#ifndef UWEB_RES_WRAP_H
#define UWEB_RES_WRAP_H

#include "../http/http_internal.h"

typedef struct uw_res_wrap {
    uw_http_ops ops;           /* first: res->ops points here */
    const uw_http_ops *inner;
} uw_res_wrap;

#define UW_WRAP_CALL(w, res, op, ...) ({                        \
        const uw_http_ops *saved_ = (res)->ops;                 \
        (res)->ops = (w)->inner;                                \
        __typeof__((w)->inner->op(res, ##__VA_ARGS__)) r_ = (w)->inner->op(res, ##__VA_ARGS__); \
        (res)->ops = saved_;                                    \
        r_;                                                     \
    })

/* Puts w's table in front of res's: a copy of the current one with the
 * response operations of mine (every other operation stays the
 * protocol's). */
static inline void uw__res_wrap(uw_res *res, uw_res_wrap *w, const uw_http_ops *mine)
{
    w->inner = res->ops;
    w->ops = *res->ops;
    w->ops.send_head = mine->send_head;
    w->ops.send_body = mine->send_body;
    w->ops.write_body = mine->write_body;
    w->ops.flush = mine->flush;
    w->ops.end = mine->end;
    w->ops.abort = mine->abort;
    w->ops.send_file = mine->send_file;   /* NULL: file bodies through its write_body */
    res->ops = &w->ops;
}

/* A file body passed through to the table w wraps (a wrapper that leaves
 * the body alone): as uw_http_ops.send_file, 1 when that one cannot. */
static inline int uw__res_wrap_send_file(uw_res_wrap *w, uw_res *res, int fd, uint64_t off, uint64_t len)
{
    if (!w->inner->send_file) return 1;
    return UW_WRAP_CALL(w, res, send_file, fd, off, len);
}

static inline void uw__res_wrap_abort(uw_res_wrap *w, uw_res *res)
{
    res->ops = w->inner;
    w->inner->abort(res);
    res->ops = &w->ops;
}

#endif
