/*
 * seccomp.c - the seccomp filter builder both tenders lock down with
 * (contracts: uw_tender.h).
 *
 * Shape of the program: the architecture check, then the system call
 * number in the accumulator, then one section per allowed call.  A
 * section starts with "jeq NR" and a "ja" over its body when the number
 * is another, so the accumulator still holds the number for the next
 * section; inside, every path ends in a return.  Long skips use "ja"
 * (32-bit offset), conditional jumps stay short (8-bit offsets).
 */
#include <errno.h>
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "uw_tender.h"

#define fail uw_tender_fail

#define ARG_LO(i) ((uint32_t)(offsetof(struct seccomp_data, args) + 8 * (i)))
#define ARG_HI(i) (ARG_LO(i) + 4)

static void emit(struct uw_tender_filter *f, uint16_t code, uint32_t k, uint8_t jt, uint8_t jf)
{
    if (f->len == UW_TENDER_FILTER_MAX) {
        f->overflow = 1;
        return;
    }
    f->prog[f->len++] = (struct sock_filter){ .code = code, .jt = jt, .jf = jf, .k = k };
}

static void ld(struct uw_tender_filter *f, uint32_t off) { emit(f, BPF_LD | BPF_W | BPF_ABS, off, 0, 0); }
static void ret(struct uw_tender_filter *f, uint32_t v) { emit(f, BPF_RET | BPF_K, v, 0, 0); }
static void jeq(struct uw_tender_filter *f, uint32_t v, uint8_t jt, uint8_t jf)
{
    emit(f, BPF_JMP | BPF_JEQ | BPF_K, v, jt, jf);
}

static void say(struct uw_tender_filter *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(struct uw_tender_filter *f, const char *fmt, ...)
{
    va_list ap;
    size_t room = sizeof f->listing - f->listing_len;
    va_start(ap, fmt);
    int n = vsnprintf(f->listing + f->listing_len, room, fmt, ap);
    va_end(ap);
    if (n > 0)
        f->listing_len += (size_t)n < room ? (size_t)n : room - 1;
}

/* "jeq NR (then NR2)": enter the body, else "ja" over it.  Returns the
 * index of the ja, patched by section_end(). */
static size_t section_begin(struct uw_tender_filter *f, int nr, int nr2)
{
    f->syscalls += nr2 >= 0 ? 2 : 1;
    if (nr2 >= 0)
        jeq(f, (uint32_t)nr2, 2, 0);
    jeq(f, (uint32_t)nr, 1, 0);
    emit(f, BPF_JMP | BPF_JA, 0, 0, 0);
    return f->len - 1;
}

static void section_end(struct uw_tender_filter *f, size_t ja)
{
    if (!f->overflow)
        f->prog[ja].k = (uint32_t)(f->len - ja - 1);
}

void uw_tender_filter_begin(struct uw_tender_filter *f, uint32_t deny)
{
    f->deny = deny;
    f->len = 0;
    f->overflow = 0;
    f->syscalls = 0;
    f->listing_len = 0;
    f->listing[0] = 0;
    ld(f, offsetof(struct seccomp_data, arch));
    jeq(f, AUDIT_ARCH_X86_64, 1, 0);
    ret(f, deny);
    ld(f, offsetof(struct seccomp_data, nr));
}

void uw_tender_filter_allow(struct uw_tender_filter *f, int nr, const char *name)
{
    f->syscalls++;
    jeq(f, (uint32_t)nr, 0, 1);
    ret(f, SECCOMP_RET_ALLOW);
    say(f, "  %-14s any arguments\n", name);
}

void uw_tender_filter_allow_arg_in(struct uw_tender_filter *f, int nr, const char *name,
                                   int arg, const char *argname, const int *vals, int n,
                                   const char *what)
{
    if (n > 200) {
        f->overflow = 1;
        return;
    }
    size_t ja = section_begin(f, nr, -1);
    ld(f, ARG_LO(arg));
    for (int i = 0; i < n; i++)
        jeq(f, (uint32_t)vals[i], (uint8_t)(n - i), 0);
    ret(f, f->deny);
    ret(f, SECCOMP_RET_ALLOW);
    section_end(f, ja);
    say(f, "  %-14s %s in {", name, argname);
    for (int i = 0; i < n; i++)
        say(f, "%s%d", i ? ", " : "", vals[i]);
    say(f, "}  (%s)\n", what);
}

void uw_tender_filter_allow_arg_zero(struct uw_tender_filter *f, int nr, const char *name,
                                     int arg, const char *what)
{
    size_t ja = section_begin(f, nr, -1);
    ld(f, ARG_LO(arg));
    jeq(f, 0, 0, 2);
    ld(f, ARG_HI(arg));
    jeq(f, 0, 1, 0);
    ret(f, f->deny);
    ret(f, SECCOMP_RET_ALLOW);
    section_end(f, ja);
    say(f, "  %-14s %s NULL\n", name, what);
}

void uw_tender_filter_allow_block_io(struct uw_tender_filter *f, const int *fds,
                                     const uint64_t *caps, int n)
{
    if (n == 0) {
        say(f, "  %-14s none (no block devices)\n", "pread64, pwrite64");
        return;
    }
    size_t ja = section_begin(f, SYS_pread64, SYS_pwrite64);
    for (int i = 0; i < n; i++) {
        uint32_t hi = (uint32_t)(caps[i] >> 32), lo = (uint32_t)caps[i];
        /* 26 instructions; offsets relative to the next instruction. */
        ld(f, ARG_LO(0));                                   /*  0 */
        jeq(f, (uint32_t)fds[i], 1, 0);                     /*  1 */
        emit(f, BPF_JMP | BPF_JA, 23, 0, 0);                /*  2: next fd */
        ld(f, ARG_HI(2));                                   /*  3: count < 2^32 */
        jeq(f, 0, 1, 0);                                    /*  4 */
        ret(f, f->deny);                                    /*  5 */
        ld(f, ARG_HI(3));                                   /*  6: offset's high half */
        emit(f, BPF_JMP | BPF_JGT | BPF_K, hi, 17, 0);      /*  7: > capacity's: deny */
        emit(f, BPF_ST, 0, 0, 0);                           /*  8: M[0] = offset hi */
        ld(f, ARG_LO(2));                                   /*  9 */
        emit(f, BPF_MISC | BPF_TAX, 0, 0, 0);               /* 10: X = count lo */
        ld(f, ARG_LO(3));                                   /* 11 */
        emit(f, BPF_ALU | BPF_ADD | BPF_X, 0, 0, 0);        /* 12: A = low half of the sum */
        emit(f, BPF_ST, 1, 0, 0);                           /* 13: M[1] = A */
        emit(f, BPF_JMP | BPF_JGE | BPF_X, 0, 3, 0);        /* 14: A >= X: no carry */
        emit(f, BPF_LD | BPF_MEM, 0, 0, 0);                 /* 15: carry: hi + 1 */
        emit(f, BPF_ALU | BPF_ADD | BPF_K, 1, 0, 0);        /* 16 (hi <= 2^31: no wrap) */
        emit(f, BPF_JMP | BPF_JA, 1, 0, 0);                 /* 17 */
        emit(f, BPF_LD | BPF_MEM, 0, 0, 0);                 /* 18: no carry: hi */
        emit(f, BPF_JMP | BPF_JGT | BPF_K, hi, 5, 0);       /* 19: sum's hi > cap's: deny */
        jeq(f, hi, 1, 0);                                   /* 20 */
        ret(f, SECCOMP_RET_ALLOW);                          /* 21: sum's hi < cap's */
        emit(f, BPF_LD | BPF_MEM, 1, 0, 0);                 /* 22 */
        emit(f, BPF_JMP | BPF_JGT | BPF_K, lo, 1, 0);       /* 23: sum's lo > cap's: deny */
        ret(f, SECCOMP_RET_ALLOW);                          /* 24 */
        ret(f, f->deny);                                    /* 25 */
        say(f, "  %-14s fd %d, offset + count <= %llu  (block device)\n",
            "pread64, pwrite64", fds[i], (unsigned long long)caps[i]);
    }
    ret(f, f->deny);                                        /* another fd */
    section_end(f, ja);
}

void uw_tender_filter_allow_ioctl(struct uw_tender_filter *f, int fd, const uint32_t *reqs,
                                  int n, const char *what)
{
    if (n > 200) {
        f->overflow = 1;
        return;
    }
    size_t ja = section_begin(f, SYS_ioctl, -1);
    ld(f, ARG_LO(0));
    jeq(f, (uint32_t)fd, 1, 0);
    ret(f, f->deny);
    ld(f, ARG_LO(1));
    for (int i = 0; i < n; i++)
        jeq(f, reqs[i], (uint8_t)(n - i), 0);
    ret(f, f->deny);
    ret(f, SECCOMP_RET_ALLOW);
    section_end(f, ja);
    say(f, "  %-14s fd %d, request in {%s}\n", "ioctl", fd, what);
}

int uw_tender_filter_end(struct uw_tender_filter *f, struct uw_tender_error *err)
{
    ret(f, f->deny);
    if (f->overflow)
        return fail(err, "seccomp filter too long");
    return 0;
}

void uw_tender_filter_print(const struct uw_tender_filter *f, FILE *out)
{
    fprintf(out, "allowed system calls (%d):\n%s", f->syscalls, f->listing);
    fprintf(out, "BPF program: %zu instructions; anything else: %s\n", f->len,
            f->deny == SECCOMP_RET_TRAP ? "SIGSYS (trapped)" : "the process is killed (SIGSYS)");
}

int uw_tender_filter_install(const struct uw_tender_filter *f, struct uw_tender_error *err)
{
    struct sock_fprog prog = { .len = (unsigned short)f->len,
                               .filter = (struct sock_filter *)f->prog };
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        return fail(err, "cannot set no_new_privs: %s", strerror(errno));
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0)
        return fail(err, "cannot install the seccomp filter: %s", strerror(errno));
    return 0;
}
