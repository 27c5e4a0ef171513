/*
 * block_unix.c — block devices on unix (block.h): each a file attached
 * by name (--block:NAME=FILE, or uw_block_attach), read and written with
 * pread/pwrite at block-aligned offsets, flushed with fdatasync.
 *
 * The registry holds the attached names and files; every uw_block_open
 * opens the file again, so handles are independent (their own fd).
 */
#include "block_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/fs.h>
#include <uweb/runtime.h>

#define MAX_DEVICES 16
#define NAME_MAX_LEN 31     /* as a unikernel's device name */

static struct attached {
    char name[NAME_MAX_LEN + 1];
    char *file;
    int flags;
} attached[MAX_DEVICES];
static int nattached;

struct uw_block {
    int fd;
    struct uw_block_info info;
};

/* Opens FILE as the flags say; the size in *size.  An fd or a UW_E*. */
static int open_file(const char *file, int flags, uint64_t *size)
{
    int fd = open(file, ((flags & UW_BLOCK_READ_ONLY) ? O_RDONLY : O_RDWR) | O_CLOEXEC);
    if (fd < 0) return UW_EIO;
    struct stat st;
    uint64_t n = 0;
    if (fstat(fd, &st) < 0) goto io;
    if (S_ISREG(st.st_mode)) n = (uint64_t)st.st_size;
    else if (!S_ISBLK(st.st_mode) || ioctl(fd, BLKGETSIZE64, &n) < 0) goto io;
    if (n == 0 || n % UW_BLOCK_SIZE) {
        close(fd);
        return UW_EINVAL;
    }
    *size = n;
    return fd;
io:
    close(fd);
    return UW_EIO;
}

int uw_block_attach(const char *name, const char *file, int flags)
{
    size_t len = name ? strlen(name) : 0;
    if (len == 0 || len > NAME_MAX_LEN || !file || !*file) return UW_EINVAL;
    uint64_t size;
    int fd = open_file(file, flags, &size);
    if (fd < 0) return fd;
    close(fd);
    struct attached *a = NULL;
    for (int i = 0; i < nattached; i++)
        if (strcmp(attached[i].name, name) == 0) a = &attached[i];
    if (!a) {
        if (nattached == MAX_DEVICES) return UW_ELIMIT;
        a = &attached[nattached];
    }
    char *copy = strdup(file);
    if (!copy) return UW_ENOMEM;
    if (a == &attached[nattached]) nattached++;
    free(a->file);
    memcpy(a->name, name, len + 1);
    a->file = copy;
    a->flags = flags;
    return UW_OK;
}

int uw_block_open(const char *name, uw_block **out)
{
    const struct attached *a = NULL;
    for (int i = 0; name && i < nattached; i++)
        if (strcmp(attached[i].name, name) == 0) a = &attached[i];
    if (!a) return UW_EINVAL;
    uint64_t size;
    int fd = open_file(a->file, a->flags, &size);
    if (fd < 0) return fd;
    uw_block *b = malloc(sizeof *b);
    if (!b) {
        close(fd);
        return UW_ENOMEM;
    }
    b->fd = fd;
    b->info = (struct uw_block_info){ .size = size, .block_size = UW_BLOCK_SIZE,
                                      .read_only = (a->flags & UW_BLOCK_READ_ONLY) != 0 };
    *out = b;
    return UW_OK;
}

void uw_block_info(const uw_block *b, struct uw_block_info *info)
{
    *info = b->info;
}

int uw_block_read(uw_block *b, uint64_t offset, void *buf, size_t n)
{
    int r = uw__block_check(&b->info, offset, n);
    if (r != UW_OK) return r;
    for (size_t done = 0; done < n;) {
        ssize_t k = pread(b->fd, (char *)buf + done, n - done, (off_t)(offset + done));
        if (k < 0 && errno == EINTR) continue;
        if (k < 0) return UW_EIO;
        if (k == 0) {                       /* the file shrank under us */
            memset((char *)buf + done, 0, n - done);
            break;
        }
        done += (size_t)k;
    }
    return UW_OK;
}

int uw_block_write(uw_block *b, uint64_t offset, const void *buf, size_t n)
{
    if (b->info.read_only) return UW_EINVAL;
    int r = uw__block_check(&b->info, offset, n);
    if (r != UW_OK) return r;
    for (size_t done = 0; done < n;) {
        ssize_t k = pwrite(b->fd, (const char *)buf + done, n - done, (off_t)(offset + done));
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) return UW_EIO;
        done += (size_t)k;
    }
    return UW_OK;
}

int uw_block_flush(uw_block *b)
{
    if (b->info.read_only) return UW_OK;
    return fdatasync(b->fd) == 0 ? UW_OK : UW_EIO;
}

void uw_block_close(uw_block *b)
{
    if (!b) return;
    close(b->fd);
    free(b);
}
