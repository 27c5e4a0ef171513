/*
 * hiredis_guest.c - the reply objects of hiredis's reader on the
 * unikernels.  Only the I/O-free reader (read.c, sds.c, alloc.c) is built
 * for the guests; hiredis.c, which also holds the socket code, is not, so
 * the two functions callers of the reader use from it are here:
 * redisReaderCreate (reader with redisReply objects) and freeReplyObject.
 */
#include <hiredis/hiredis.h>

#include <stdlib.h>
#include <string.h>

void freeReplyObject(void *reply)
{
    redisReply *r = reply;
    if (!r) return;
    if (r->type == REDIS_REPLY_ARRAY && r->element) {
        for (size_t i = 0; i < r->elements; i++) freeReplyObject(r->element[i]);
        free(r->element);
    } else if (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS || r->type == REDIS_REPLY_ERROR) {
        free(r->str);
    }
    free(r);
}

/* A new reply of the task's type, placed in its parent array if any. */
static redisReply *reply_new(const redisReadTask *task)
{
    redisReply *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    r->type = task->type;
    if (task->parent) {
        redisReply *parent = task->parent->obj;
        parent->element[task->idx] = r;
    }
    return r;
}

static void *create_string(const redisReadTask *task, char *str, size_t len)
{
    char *buf = malloc(len + 1);
    if (!buf) return NULL;
    redisReply *r = reply_new(task);
    if (!r) {
        free(buf);
        return NULL;
    }
    memcpy(buf, str, len);
    buf[len] = 0;
    r->str = buf;
    r->len = len;
    return r;
}

static void *create_array(const redisReadTask *task, int elements)
{
    redisReply **el = NULL;
    if (elements > 0 && !(el = calloc((size_t)elements, sizeof *el))) return NULL;
    redisReply *r = reply_new(task);
    if (!r) {
        free(el);
        return NULL;
    }
    r->element = el;
    r->elements = elements > 0 ? (size_t)elements : 0;
    return r;
}

static void *create_integer(const redisReadTask *task, long long value)
{
    redisReply *r = reply_new(task);
    if (r) r->integer = value;
    return r;
}

static void *create_nil(const redisReadTask *task)
{
    return reply_new(task);
}

static redisReplyObjectFunctions reply_functions = {
    create_string, create_array, create_integer, create_nil, freeReplyObject,
};

redisReader *redisReaderCreate(void)
{
    return redisReaderCreateWithFunctions(&reply_functions);
}
