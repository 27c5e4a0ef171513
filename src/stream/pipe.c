#include <uweb/stream.h>
#include <string.h>

void uw_pipe_init(uw_pipe *p, void *storage, size_t cap)
{
    memset(p, 0, sizeof *p);
    p->buf = storage;
    p->cap = cap;
}

int uw_pipe_write(uw_pipe *p, const void *data, size_t n, int64_t deadline)
{
    const unsigned char *src = data;
    while (n > 0) {
        if (p->read_closed || p->write_closed) return UW_ECLOSED;
        if (p->len == p->cap) {
            int r = uw_wait(&p->writers, deadline);
            if (r != UW_OK) return r;
            continue;
        }
        size_t tail = (p->head + p->len) % p->cap;
        size_t room = p->cap - p->len;
        size_t run = p->cap - tail;
        size_t k = n < room ? n : room;
        if (k > run) k = run;
        memcpy(p->buf + tail, src, k);
        p->len += k;
        src += k;
        n -= k;
        uw_wake_one(&p->readers);
    }
    return UW_OK;
}

ssize_t uw_pipe_peek(uw_pipe *p, const void **data, int64_t deadline)
{
    while (p->len == 0) {
        if (p->write_closed) return p->error;
        if (p->read_closed) return UW_ECLOSED;
        int r = uw_wait(&p->readers, deadline);
        if (r != UW_OK) return r;
    }
    size_t run = p->cap - p->head;
    *data = p->buf + p->head;
    return (ssize_t)(p->len < run ? p->len : run);
}

void uw_pipe_consume(uw_pipe *p, size_t n)
{
    if (n > p->len) n = p->len;
    p->head = (p->head + n) % p->cap;
    p->len -= n;
    if (p->len == 0) p->head = 0;
    uw_wake_one(&p->writers);
}

ssize_t uw_pipe_read(uw_pipe *p, void *out, size_t n, int64_t deadline)
{
    const void *d;
    ssize_t k = uw_pipe_peek(p, &d, deadline);
    if (k <= 0) return k;
    if ((size_t)k > n) k = (ssize_t)n;
    memcpy(out, d, (size_t)k);
    uw_pipe_consume(p, (size_t)k);
    return k;
}

void uw_pipe_close_write(uw_pipe *p, int status)
{
    p->write_closed = true;
    p->error = status;
    uw_wake_all(&p->readers);
    uw_wake_all(&p->writers);
}

void uw_pipe_close_read(uw_pipe *p)
{
    p->read_closed = true;
    uw_wake_all(&p->writers);
    uw_wake_all(&p->readers);
}
