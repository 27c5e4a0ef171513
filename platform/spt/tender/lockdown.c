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
 * still reported) and makes only two raw system calls, write(2) and
 * exit_group, which the filter allows.  If the guest manages to make the
 * handler fault, the kernel kills the process with the signal: the exit
 * status is then 128 + N without the message, never a success.
 */
#include <elf.h>
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>
#include "tender.h"

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
    raw3(SYS_write, 2, (long)msg, (long)n);
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
    /* A closed console makes write fail with EPIPE instead of killing. */
    if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
        return -1;
    /* The guest cannot change the mask (no rt_sigprocmask); start clean. */
    sigset_t none;
    sigemptyset(&none);
    return sigprocmask(SIG_SETMASK, &none, NULL);
}

/* ---------------------------------------------------------------- filter */

#define MAX_FILTER 512
static struct sock_filter filter[MAX_FILTER];
static size_t filter_len;
static int filter_syscalls;   /* system calls the program allows */

static void emit(struct sock_filter ins)
{
    if (filter_len < MAX_FILTER)
        filter[filter_len++] = ins;
}

#define LD_ABS(off) ((struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, (off)))
#define ARG_LO(i) (offsetof(struct seccomp_data, args) + 8 * (i))
#define ARG_HI(i) (ARG_LO(i) + 4)
#define RET(v) ((struct sock_filter)BPF_STMT(BPF_RET | BPF_K, (v)))
#define ALLOW SECCOMP_RET_ALLOW
#define DENY SECCOMP_RET_TRAP

/*
 * One section: "if nr == NR: load argument ARG (low 32 bits) and allow
 * only the values in VALS[0..N)" (ARG < 0: allow any arguments).
 * Layout: jeq nr (else skip the section), ld arg, jeq v... -> allow,
 * ret deny, ret allow.  A skipped section leaves nr in the accumulator.
 */
static void section(int nr, int arg, const int *vals, int n)
{
    unsigned body = arg < 0 ? 1 : (unsigned)(1 + n + 2);
    filter_syscalls++;
    emit((struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)nr, 0, body));
    if (arg < 0) {
        emit(RET(ALLOW));
        return;
    }
    emit(LD_ABS(ARG_LO(arg)));
    for (int i = 0; i < n; i++)
        emit((struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)vals[i],
                                          (unsigned char)(n - i), 0));
    emit(RET(DENY));
    emit(RET(ALLOW));
}

static int build_filter(const struct spt_fds *fds)
{
    int wfds[2 + UW_PLAT_MANIFEST_MAX];
    int nw = 0;
    wfds[nw++] = 1;   /* console */
    wfds[nw++] = 2;   /* tender messages (fault handlers, abort) */
    for (int i = 0; i < fds->nnet; i++)
        wfds[nw++] = fds->net[i];
    static const int clocks[] = { CLOCK_REALTIME, CLOCK_MONOTONIC };

    filter_len = 0;
    filter_syscalls = 0;
    emit(LD_ABS(offsetof(struct seccomp_data, arch)));
    emit((struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0));
    emit(RET(DENY));
    emit(LD_ABS(offsetof(struct seccomp_data, nr)));
    section(SYS_read, 0, fds->net, fds->nnet);
    section(SYS_write, 0, wfds, nw);
    section(SYS_pread64, 0, fds->block, fds->nblock);
    section(SYS_pwrite64, 0, fds->block, fds->nblock);
    section(SYS_clock_gettime, 0, clocks, 2);
    section(SYS_exit_group, -1, NULL, 0);
    /* ppoll: no signal mask (argument 3 must be NULL). */
    filter_syscalls++;
    emit((struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_ppoll, 0, 6));
    emit(LD_ABS(ARG_LO(3)));
    emit((struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 2));
    emit(LD_ABS(ARG_HI(3)));
    emit((struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 1, 0));
    emit(RET(DENY));
    emit(RET(ALLOW));
    emit(RET(DENY));
    return filter_len < MAX_FILTER ? 0 : -1;
}

void spt_print_filter(const struct spt_fds *fds)
{
    if (build_filter(fds) < 0)
        return;
    printf("allowed system calls (%d):\n", filter_syscalls);
    printf("  read       fd in {");
    for (int i = 0; i < fds->nnet; i++)
        printf("%s%d", i ? ", " : "", fds->net[i]);
    printf("}  (tap devices)\n  write      fd in {1, 2");
    for (int i = 0; i < fds->nnet; i++)
        printf(", %d", fds->net[i]);
    printf("}  (console, messages, tap devices)\n  pread64, pwrite64  fd in {");
    for (int i = 0; i < fds->nblock; i++)
        printf("%s%d", i ? ", " : "", fds->block[i]);
    printf("}  (block devices)\n");
    printf("  ppoll      signal mask NULL\n");
    printf("  clock_gettime  clock in {CLOCK_REALTIME, CLOCK_MONOTONIC}\n");
    printf("  exit_group\n");
    printf("BPF program: %zu instructions; anything else: SIGSYS, exit %d\n",
           filter_len, SPT_EXIT_FORBIDDEN);
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
    if (build_filter(fds) < 0) {
        spt_error("seccomp filter too long");
        return -1;
    }
    if (install_handlers() < 0) {
        spt_error("cannot install signal handlers: %s", strerror(errno));
        return -1;
    }
    fflush(stdout);
    fflush(stderr);
    struct sock_fprog prog = { .len = (unsigned short)filter_len, .filter = filter };
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0
        || syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0) {
        spt_error("cannot install the seccomp filter: %s", strerror(errno));
        return -1;
    }
    enter(entry, stack_top, boot);
}
