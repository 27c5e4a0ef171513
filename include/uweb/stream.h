/*
 * stream.h — a bounded byte pipe between two tasks.
 *
 * A producer task writes, a consumer task reads; the pipe holds at most its
 * capacity (memory the caller provides), so a fast producer waits for a slow
 * consumer: backpressure.  The producer ends the stream with
 * uw_pipe_close_write(p, 0) or fails it with a negative status; a consumer
 * that gives up calls uw_pipe_close_read, after which writes fail with
 * UW_ECLOSED so the producer stops.
 *
 *     consumer                          producer
 *     uw_pipe_init(&p, buf, sizeof buf)
 *     spawn(producer, &p)               while (...) uw_pipe_write(&p, data, n, deadline);
 *     while ((n = uw_pipe_read(...)) > 0)  uw_pipe_close_write(&p, 0);
 */
#ifndef UWEB_STREAM_H
#define UWEB_STREAM_H

#include <uweb/runtime.h>
#include <sys/types.h>

typedef struct uw_pipe {
    unsigned char *buf;
    size_t cap, head, len;
    bool write_closed, read_closed;
    int error;                 /* producer's status when it closed */
    uw_waitq readers, writers;
} uw_pipe;

void uw_pipe_init(uw_pipe *p, void *storage, size_t cap);

/* Writes all n bytes, waiting for room.  UW_OK, UW_ECLOSED when the reader
 * closed, or a wait status (UW_ETIMEDOUT, UW_ECANCELED). */
int uw_pipe_write(uw_pipe *p, const void *data, size_t n, int64_t deadline);

/* Reads up to n bytes, waiting for at least one.  Returns the count, 0 at
 * the end of a stream closed with status 0, or a negative status (the
 * producer's error, or a wait status). */
ssize_t uw_pipe_read(uw_pipe *p, void *out, size_t n, int64_t deadline);

/* Zero-copy read: points *data at the next contiguous readable bytes and
 * returns their count (same results as uw_pipe_read); uw_pipe_consume then
 * releases n of them. */
ssize_t uw_pipe_peek(uw_pipe *p, const void **data, int64_t deadline);
void uw_pipe_consume(uw_pipe *p, size_t n);

void uw_pipe_close_write(uw_pipe *p, int status);
void uw_pipe_close_read(uw_pipe *p);

#endif
