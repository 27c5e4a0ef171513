/*
 * lockdown.c - the seccomp filter, the fault handlers and the jump into
 * the guest (contracts: tender.h).
 *
 * Why SECCOMP_RET_TRAP and a handler rather than SECCOMP_RET_KILL_PROCESS
 * under a supervising parent: the handler knows the system call number
 * (siginfo's si_syscall) and can say which call it was, costs no second
 * process at start, and the tender still exits with a status of its own
 * (159 = 128 + SIGSYS, what a shell shows for a SIGSYS kill).  The
 * handler runs on its own stack (a guest with a broken stack pointer is
 * still reported) and makes only two raw system calls, writev(2) and
 * exit_group, which the filter allows.  If the guest manages to make the
 * handler fault, the kernel kills the process with the signal: the exit
 * status is then 128 + N without the message, never a success.
 */
#include <elf.h>
#include <errno.h>
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>
#include "tender.h"
#include "uw_tender.h"

/* ---------------------------------------------------------------- raw calls */

static long raw3(long nr, long a, long b, long c)
{
    long ret;
    __asm__ __volatile__("syscall" : "=a"(ret) : "a"(nr), "D"(a), "S"(b), "d"(c)
                         : "rcx", "r11", "memory");
    return ret;
}

/* Appends S to BUF at *N (bounded by SIZE). */
static void put_str(char *buf, size_t size, size_t *n, const char *s)
{
    while (*s && *n < size)
        buf[(*n)++] = *s++;
}

static void put_num(char *buf, size_t size, size_t *n, unsigned long v, int base)
{
    char tmp[24];
    int k = 0;
    do {
        tmp[k++] = "0123456789abcdef"[v % (unsigned)base];
        v /= (unsigned)base;
    } while (v);
    if (base == 16)
        put_str(buf, size, n, "0x");
    while (k && *n < size)
        buf[(*n)++] = tmp[--k];
}

static void report_and_exit(const char *msg, size_t n, int status)
{
    struct iovec v = { (void *)msg, n };
    raw3(SYS_writev, 2, (long)&v, 1);
    for (;;)
        raw3(SYS_exit_group, status, 0, 0);
}

/* ---------------------------------------------------------------- handlers */

static void on_sigsys(int sig, siginfo_t *si, void *ctx)
{
    char msg[160];
    size_t n = 0;
    (void)sig;
    (void)ctx;
    put_str(msg, sizeof msg, &n, "uweb-spt: guest made a forbidden system call (nr ");
    put_num(msg, sizeof msg, &n, (unsigned long)(unsigned)si->si_syscall, 10);
    if (si->si_arch != AUDIT_ARCH_X86_64)
        put_str(msg, sizeof msg, &n, ", not the x86-64 system call ABI");
    put_str(msg, sizeof msg, &n, ")\n");
    report_and_exit(msg, n, SPT_EXIT_FORBIDDEN);
}

static void on_fault(int sig, siginfo_t *si, void *ctx)
{
    const ucontext_t *uc = ctx;
    char msg[200];
    size_t n = 0;
    const char *name = sig == SIGSEGV ? "SIGSEGV (bad memory access)"
                     : sig == SIGBUS ? "SIGBUS (bad memory access)"
                     : sig == SIGILL ? "SIGILL (illegal instruction)"
                     : sig == SIGFPE ? "SIGFPE (arithmetic fault)"
                     : "SIGTRAP (trap instruction)";
    put_str(msg, sizeof msg, &n, "uweb-spt: guest crashed: ");
    put_str(msg, sizeof msg, &n, name);
    put_str(msg, sizeof msg, &n, " at address ");
    put_num(msg, sizeof msg, &n, (unsigned long)si->si_addr, 16);
    put_str(msg, sizeof msg, &n, ", rip ");
    put_num(msg, sizeof msg, &n, (unsigned long)uc->uc_mcontext.gregs[REG_RIP], 16);
    put_str(msg, sizeof msg, &n, "\n");
    report_and_exit(msg, n, 128 + sig);
}

static char alt_stack[64 * 1024] __attribute__((aligned(16)));

static int install_handlers(void)
{
    stack_t ss = { .ss_sp = alt_stack, .ss_size = sizeof alt_stack, .ss_flags = 0 };
    if (sigaltstack(&ss, NULL) < 0)
        return -1;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigfillset(&sa.sa_mask);
    sa.sa_sigaction = on_sigsys;
    if (sigaction(SIGSYS, &sa, NULL) < 0)
        return -1;
    static const int faults[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP };
    sa.sa_sigaction = on_fault;
    for (size_t i = 0; i < sizeof faults / sizeof faults[0]; i++)
        if (sigaction(faults[i], &sa, NULL) < 0)
            return -1;
    /* A closed console makes writev fail with EPIPE instead of killing. */
    if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
        return -1;
    /* The guest cannot change the mask (no rt_sigprocmask); start clean. */
    sigset_t none;
    sigemptyset(&none);
    return sigprocmask(SIG_SETMASK, &none, NULL);
}

/* ---------------------------------------------------------------- filter */

static struct uw_tender_filter filter;

/* The calls the bindings make (platform/spt/bindings.c), nothing more. */
static int build_filter(const struct spt_fds *fds, struct uw_tender_error *err)
{
    int wfds[2 + UW_PLAT_MANIFEST_MAX];
    int nw = 0;
    wfds[nw++] = 1;   /* console */
    wfds[nw++] = 2;   /* tender messages (fault handlers, abort) */
    for (int i = 0; i < fds->nnet; i++)
        wfds[nw++] = fds->net[i];
    static const int clocks[] = { CLOCK_REALTIME, CLOCK_MONOTONIC };

    uw_tender_filter_begin(&filter, SECCOMP_RET_TRAP);
    uw_tender_filter_allow_arg_in(&filter, SYS_read, "read", 0, "fd", fds->net, fds->nnet,
                                  "tap devices");
    uw_tender_filter_allow_arg_in(&filter, SYS_writev, "writev", 0, "fd", wfds, nw,
                                  "console, messages, tap devices");
    uw_tender_filter_allow_block_io(&filter, fds->block, fds->block_capacity, fds->nblock);
    uw_tender_filter_allow_arg_in(&filter, SYS_clock_gettime, "clock_gettime", 0, "clock",
                                  clocks, 2, "CLOCK_REALTIME, CLOCK_MONOTONIC");
    uw_tender_filter_allow(&filter, SYS_exit_group, "exit_group");
    uw_tender_filter_allow_arg_zero(&filter, SYS_ppoll, "ppoll", 3, "signal mask");
    return uw_tender_filter_end(&filter, err);
}

int spt_print_filter(const struct spt_fds *fds)
{
    struct uw_tender_error err;
    if (build_filter(fds, &err) < 0) {
        spt_error("%s", err.msg);
        return -1;
    }
    uw_tender_filter_print(&filter, stdout);
    return 0;
}

/* ---------------------------------------------------------------- vDSO */

uint64_t spt_vdso_clock_gettime(void)
{
    uintptr_t base = (uintptr_t)getauxval(AT_SYSINFO_EHDR);
    if (!base)
        return 0;
    const Elf64_Ehdr *eh = (const Elf64_Ehdr *)base;
    if (memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 || eh->e_shentsize != sizeof(Elf64_Shdr))
        return 0;
    const Elf64_Phdr *ph = (const Elf64_Phdr *)(base + eh->e_phoff);
    uintptr_t load = 0;
    int found = 0;
    for (int i = 0; i < eh->e_phnum; i++)
        if (ph[i].p_type == PT_LOAD) {
            load = base + ph[i].p_offset - ph[i].p_vaddr;
            found = 1;
            break;
        }
    if (!found)
        return 0;
    const Elf64_Shdr *sh = (const Elf64_Shdr *)(base + eh->e_shoff);
    for (int i = 0; i < eh->e_shnum; i++) {
        if (sh[i].sh_type != SHT_DYNSYM || sh[i].sh_link >= eh->e_shnum)
            continue;
        const Elf64_Sym *sym = (const Elf64_Sym *)(base + sh[i].sh_offset);
        const char *str = (const char *)(base + sh[sh[i].sh_link].sh_offset);
        size_t n = sh[i].sh_size / sizeof(Elf64_Sym);
        for (size_t k = 0; k < n; k++)
            if (ELF64_ST_TYPE(sym[k].st_info) == STT_FUNC && sym[k].st_shndx != SHN_UNDEF
                && strcmp(str + sym[k].st_name, "__vdso_clock_gettime") == 0)
                return load + sym[k].st_value;
    }
    return 0;
}

/* ---------------------------------------------------------------- run */

static void __attribute__((noreturn)) enter(uint64_t entry, uint64_t stack_top, uint64_t boot)
{
    __asm__ __volatile__(
        "mov %%rsi, %%rsp\n\t"
        "xor %%ebp, %%ebp\n\t"
        "call *%%rax\n\t"
        "ud2"
        : : "S"(stack_top), "a"(entry), "D"(boot) : "memory");
    __builtin_unreachable();
}

int spt_run(const struct spt_fds *fds, uint64_t entry, uint64_t stack_top, uint64_t boot)
{
    struct uw_tender_error err;
    if (build_filter(fds, &err) < 0) {
        spt_error("%s", err.msg);
        return -1;
    }
    if (install_handlers() < 0) {
        spt_error("cannot install signal handlers: %s", strerror(errno));
        return -1;
    }
    fflush(stdout);
    fflush(stderr);
    if (uw_tender_filter_install(&filter, &err) < 0) {
        spt_error("%s", err.msg);
        return -1;
    }
    enter(entry, stack_top, boot);
}
