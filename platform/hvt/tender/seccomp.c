/*
 * seccomp.c - locking the tender down before the guest's first instruction.
 *
 * Once the devices are open and the VM is built, uweb-hvt needs only a
 * handful of system calls to serve the guest: running the vCPU and reading
 * its registers (ioctl on the vCPU fd only), reading and writing the
 * device fds and the console, waiting (ppoll), the clocks, and exiting.
 * Anything else kills the tender (status 159: 128 + SIGSYS), so a guest
 * that found a bug in a hypercall handler still cannot open a file or a
 * socket on the host.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/kvm.h>
#include <linux/seccomp.h>

#include "hvt.h"

#define ARCH_NR AUDIT_ARCH_X86_64
#define X32_SYSCALL_BIT 0x40000000u

#define LOAD(field) \
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, field))
#define LOAD_ARG_LO(n) \
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[n]))
#define LOAD_ARG_HI(n) \
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, \
             offsetof(struct seccomp_data, args[n]) + 4)
#define ALLOW BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)
#define KILL BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS)
/* If the accumulator is `value`, allow; else fall through. */
#define ALLOW_IF(value) \
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (value), 0, 1), ALLOW

void hvt_seccomp_lock(struct hvt *h)
{
    struct sock_filter filter[] = {
        LOAD(arch),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ARCH_NR, 1, 0),
        KILL,
        LOAD(nr),
        BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, X32_SYSCALL_BIT, 0, 1),
        KILL,
        ALLOW_IF(SYS_read),
        ALLOW_IF(SYS_write),
        ALLOW_IF(SYS_pread64),
        ALLOW_IF(SYS_pwrite64),
        ALLOW_IF(SYS_ppoll),
        ALLOW_IF(SYS_clock_gettime),
        ALLOW_IF(SYS_exit_group),
        ALLOW_IF(SYS_exit),
        ALLOW_IF(SYS_rt_sigreturn),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_ioctl, 1, 0),
        KILL,
        /* ioctl: only on the vCPU fd, only these requests. */
        LOAD_ARG_HI(0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 1, 0),
        KILL,
        LOAD_ARG_LO(0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)h->vcpu_fd, 1, 0),
        KILL,
        LOAD_ARG_LO(1),
        ALLOW_IF(KVM_RUN),
        ALLOW_IF(KVM_GET_REGS),
        ALLOW_IF(KVM_GET_SREGS),
        KILL,
    };
    struct sock_fprog prog = {
        .len = (unsigned short)(sizeof(filter) / sizeof(filter[0])),
        .filter = filter,
    };
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        hvt_die("cannot set no_new_privs: %s", strerror(errno));
    if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0)
        hvt_die("cannot install the seccomp filter: %s", strerror(errno));
}
