/*
 * spt_sandbox: what the spt tender's seccomp filter stops.  argv[1]
 * picks one forbidden act; each must end the guest with status 159 and
 * "forbidden system call (nr N)" (or, for "segv", 139 and "crashed"),
 * never SUCCESS:
 *   getpid      a system call outside the allowed seven (nr 39)
 *   write-fd    write on a file descriptor that is no device (fd 0)
 *   read-fd     read on the console
 *   clock       clock_gettime on a clock other than the two allowed
 *   ppoll-mask  ppoll with a signal mask
 *   segv        a write to unmapped memory
 *   exec-data   a jump into writable data (not executable)
 *   write-text  a write into the code (not writable)
 *   stack       unbounded recursion (hits the guard page below the stack)
 *   allowed     only allowed calls: must print SUCCESS
 * spt only: these are raw Linux system calls.
 */
#include <stdio.h>
#include <string.h>
#include "uw_platform.h"

UW_PLAT_MANIFEST();

static long sys4(long nr, long a, long b, long c, long d)
{
    long ret;
    register long r10 __asm__("r10") = d;
    __asm__ __volatile__("syscall" : "=a"(ret) : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10)
                         : "rcx", "r11", "memory");
    return ret;
}

struct iov { const void *base; unsigned long len; };

static volatile unsigned char data_code[16] = { 0xc3 };   /* ret */

static int __attribute__((noinline)) recurse(volatile char *prev, int depth)
{
    volatile char frame[512];
    frame[0] = (char)depth;
    frame[511] = prev ? prev[0] : 0;
    if (depth > (1 << 30))   /* never: the stack ends long before */
        return 0;
    return recurse(frame, depth + 1) + frame[511];
}

int main(int argc, char **argv)
{
    const char *what = argc > 1 ? argv[1] : "";
    long ts[2] = { 0, 0 };
    char c;
    unsigned long long mask = 0;
    printf("trying: %s\n", what);
    if (strcmp(what, "getpid") == 0)
        sys4(39, 0, 0, 0, 0);
    else if (strcmp(what, "write-fd") == 0)
        sys4(20, 0, (long)&(struct iov){ "x", 1 }, 1, 0);   /* writev on stdin */
    else if (strcmp(what, "plain-write") == 0)
        sys4(1, 1, (long)"x", 1, 0);              /* write: guests use writev */
    else if (strcmp(what, "read-fd") == 0)
        sys4(0, 1, (long)&c, 1, 0);
    else if (strcmp(what, "clock") == 0)
        sys4(228, 2 /* CLOCK_PROCESS_CPUTIME_ID */, (long)ts, 0, 0);
    else if (strcmp(what, "ppoll-mask") == 0)
        sys4(271, 0, 0, (long)ts, (long)&mask);
    else if (strcmp(what, "segv") == 0)
        *(volatile int *)(uintptr_t)0x20000 = 1;   /* below the image: unmapped */
    else if (strcmp(what, "exec-data") == 0)
        ((void (*)(void))(uintptr_t)data_code)();
    else if (strcmp(what, "write-text") == 0)
        *(volatile unsigned char *)(uintptr_t)main = 0xc3;
    else if (strcmp(what, "stack") == 0)
        printf("depth %d\n", recurse(NULL, 0));
    else if (strcmp(what, "allowed") == 0) {
        sys4(228, 1, (long)ts, 0, 0);             /* clock_gettime(MONOTONIC) */
        ts[0] = ts[1] = 0;
        sys4(271, 0, 0, (long)ts, 0);             /* ppoll, no fds, no wait, no mask */
        sys4(20, 1, (long)&(struct iov){ "write to the console\n", 21 }, 1, 0);   /* writev */
        puts("SUCCESS");
        return 0;
    } else {
        printf("unknown act '%s'\n", what);
        return 2;
    }
    puts("SUCCESS (the forbidden act was allowed)");
    return 0;
}
