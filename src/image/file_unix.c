/* Images in files on unix: uw_image_open_file reads with pread. */
#include "uweb/image.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image_internal.h"

static int file_read(void *arg, uint64_t off, void *buf, size_t n)
{
    int fd = (int)(intptr_t)arg;
    while (n) {
        ssize_t k = pread(fd, buf, n, (off_t)off);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) return UW_EIO;
        buf = (char *)buf + k;
        n -= (size_t)k;
        off += (uint64_t)k;
    }
    return UW_OK;
}

static void file_close(void *arg) { close((int)(intptr_t)arg); }

int uw_image_open_file(uw_image **out, const char *path, const uw_image_config *cfg)
{
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        uw__image_set_open_error(strerror(errno));
        if (fd >= 0) close(fd);
        return UW_EIO;
    }
    int r = uw_image_open(out, file_read, (void *)(intptr_t)fd, (uint64_t)st.st_size, cfg);
    if (r != UW_OK) { close(fd); return r; }
    uw__image_on_close(*out, file_close, (void *)(intptr_t)fd);
    return UW_OK;
}
