/*
 * spt_block_escape: a hostile spt guest tries to reach past its block
 * device with raw pread64/pwrite64 calls on the device's host fd,
 * bypassing the bindings' checks.  The tender's seccomp filter pins
 * offset + count <= capacity, so each act below must end with 159
 * ("forbidden system call (nr 17|18)") and the backing file must keep its
 * size (the runner checks):
 *   past-end    pwrite64 of 512 bytes at the capacity
 *   far         pwrite64 at 1 GiB
 *   straddle    pwrite64 of 1024 bytes at capacity - 512
 *   carry       pwrite64 of 1024 bytes at 0xfffffe00 (the low halves of
 *               offset and count overflow 32 bits)
 *   wrap        pwrite64 of 1024 bytes at 2^64 - 512 (the sum wraps 64 bits)
 *   huge-offset pwrite64 of 512 bytes at 2^63 - 512
 *   huge-count  pwrite64 of 2^32 + 512 bytes at 0
 *   read-past   pread64 of 512 bytes at the capacity
 * and these must work (SUCCESS):
 *   last        pwrite64 + pread64 of the last block
 *   cross-4g    (a device larger than 4 GiB) pwrite64 and pread64 of
 *               1024 bytes at 0xfffffe00, across the 4 GiB line
 * spt only: raw Linux system calls.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "uw_platform.h"
#include "guest.h"

UW_PLAT_MANIFEST(UW_PLAT_BLOCK("storage"));

static long sys4(long nr, long a, long b, long c, long d)
{
    long ret;
    register long r10 __asm__("r10") = d;
    __asm__ __volatile__("syscall" : "=a"(ret) : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10)
                         : "rcx", "r11", "memory");
    return ret;
}

static uint8_t buf[2048];

int main(int argc, char **argv)
{
    const char *what = argc > 1 ? argv[1] : "";
    uw_plat_handle_t h;
    struct uw_plat_block_info info;
    if (uw_plat_block_acquire("storage", &h, &info) != UW_PLAT_OK) {
        puts("cannot acquire the block device");
        return 2;
    }
    long fd = (long)uw_guest_manifest()->devices[h].hostfd;
    long cap = (long)info.capacity;
    long r = 0;
    memset(buf, 'x', sizeof buf);
    printf("trying: %s (capacity %ld)\n", what, cap);
    fflush(stdout);
    if (strcmp(what, "past-end") == 0)
        r = sys4(18, fd, (long)buf, 512, cap);
    else if (strcmp(what, "far") == 0)
        r = sys4(18, fd, (long)buf, 512, 1l << 30);
    else if (strcmp(what, "straddle") == 0)
        r = sys4(18, fd, (long)buf, 1024, cap - 512);
    else if (strcmp(what, "carry") == 0)
        r = sys4(18, fd, (long)buf, 1024, 0xfffffe00l);
    else if (strcmp(what, "wrap") == 0)
        r = sys4(18, fd, (long)buf, 1024, -512l);
    else if (strcmp(what, "huge-offset") == 0)
        r = sys4(18, fd, (long)buf, 512, 0x7ffffffffffffe00l);
    else if (strcmp(what, "huge-count") == 0)
        r = sys4(18, fd, (long)buf, (1l << 32) + 512, 0);
    else if (strcmp(what, "read-past") == 0)
        r = sys4(17, fd, (long)buf, 512, cap);
    else if (strcmp(what, "last") == 0 || strcmp(what, "cross-4g") == 0) {
        long off = what[0] == 'l' ? cap - 512 : 0xfffffe00l;
        long len = what[0] == 'l' ? 512 : 1024;
        if (sys4(18, fd, (long)buf, len, off) != len || sys4(17, fd, (long)buf, len, off) != len) {
            puts("the allowed write or read failed");
            return 1;
        }
        puts("SUCCESS");
        return 0;
    } else {
        printf("unknown act '%s'\n", what);
        return 2;
    }
    printf("SUCCESS (the call was allowed: %ld)\n", r);
    return 0;
}
