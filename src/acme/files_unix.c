/* The ACME client's state as files under --acme-dir (unix): account.key,
 * cert.pem, cert.key; each written atomically (a temporary file, fsync,
 * rename), the keys readable by their owner only. */
#include "acme_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_FILE (1 << 20)

char *acme_file_read(const char *dir, const char *file, size_t *len)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n + 4096 + 1 > cap) {
            cap = cap ? cap * 2 : 8192;
            if (cap > MAX_FILE) break;
            char *nb = realloc(buf, cap);
            if (!nb) break;
            buf = nb;
        }
        size_t k = fread(buf + n, 1, cap - n - 1, f);
        n += k;
        if (k == 0) {
            fclose(f);
            buf[n] = 0;
            *len = n;
            return buf;
        }
    }
    fclose(f);
    free(buf);
    return NULL;
}

int acme_file_write(const char *dir, const char *file, const char *data, size_t len, bool secret, char *why,
                    size_t n)
{
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        snprintf(why, n, "cannot make %s: %s", dir, strerror(errno));
        return UW_EIO;
    }
    char path[4096], tmp[4200];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, secret ? 0600 : 0644);
    bool ok = fd >= 0;
    for (size_t off = 0; ok && off < len;) {
        ssize_t w = write(fd, data + off, len - off);
        if (w < 0 && errno == EINTR) continue;
        ok = w > 0;
        if (ok) off += (size_t)w;
    }
    if (fd >= 0) ok = fsync(fd) == 0 && ok, ok = close(fd) == 0 && ok;
    ok = ok && rename(tmp, path) == 0;
    if (!ok) {
        snprintf(why, n, "%s: %s", path, strerror(errno));
        unlink(tmp);
    }
    return ok ? UW_OK : UW_EIO;
}
