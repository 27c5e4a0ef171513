/*
 * seccomp.c - locking the tender down before the guest's first instruction.
 *
 * Once the devices are open and the VM is built, uweb-hvt needs only a
 * handful of system calls to serve the guest, each pinned to the
 * descriptors it is for: read on the tap devices; write on the console,
 * stderr and the tap devices; pread64/pwrite64 on the block devices inside
 * their capacity (the hypercall handler checks that too); ioctl on the
 * vCPU fd with the three requests the run loop makes; ppoll without a
 * signal mask; the two clocks; exit.  Nothing may touch /dev/kvm or the VM
 * fd.  Anything else kills the tender (status 159: 128 + SIGSYS), so a
 * guest that found a bug in a hypercall handler still cannot open a file
 * or a socket on the host, nor reach another descriptor.  The filter is
 * built with the tenders' shared builder (platform/tender/seccomp.c);
 * `uweb-hvt --show-filter` prints it.
 */
#include <linux/kvm.h>
#include <linux/seccomp.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "hvt.h"

void hvt_seccomp_build(const struct hvt *h, struct uw_tender_filter *f)
{
    int net[UW_PLAT_MANIFEST_MAX], wfds[2 + UW_PLAT_MANIFEST_MAX], block[UW_PLAT_MANIFEST_MAX];
    uint64_t caps[UW_PLAT_MANIFEST_MAX];
    int nnet = 0, nw = 0, nblock = 0;
    wfds[nw++] = STDOUT_FILENO;   /* the guest's console */
    wfds[nw++] = STDERR_FILENO;   /* the tender's messages */
    for (int i = 0; i < h->ndev; i++) {
        if (h->dev[i].type == UW_PLAT_DEVICE_NET) {
            net[nnet++] = h->dev[i].fd;
            wfds[nw++] = h->dev[i].fd;
        } else if (h->dev[i].type == UW_PLAT_DEVICE_BLOCK) {   /* 0: unattached */
            caps[nblock] = h->dev[i].capacity;
            block[nblock++] = h->dev[i].fd;
        }
    }
    static const int clocks[] = { CLOCK_REALTIME, CLOCK_MONOTONIC };
    static const uint32_t kvm_requests[] = { KVM_RUN, KVM_GET_REGS, KVM_GET_SREGS };
    struct uw_tender_error err;

    uw_tender_filter_begin(f, SECCOMP_RET_KILL_PROCESS);
    uw_tender_filter_allow_ioctl(f, h->vcpu_fd, kvm_requests, 3,
                                 "KVM_RUN, KVM_GET_REGS, KVM_GET_SREGS");
    uw_tender_filter_allow_arg_in(f, SYS_read, "read", 0, "fd", net, nnet, "tap devices");
    uw_tender_filter_allow_arg_in(f, SYS_write, "write", 0, "fd", wfds, nw,
                                  "console, messages, tap devices");
    uw_tender_filter_allow_block_io(f, block, caps, nblock);
    uw_tender_filter_allow_arg_zero(f, SYS_ppoll, "ppoll", 3, "signal mask");
    uw_tender_filter_allow_arg_in(f, SYS_clock_gettime, "clock_gettime", 0, "clock", clocks, 2,
                                  "CLOCK_REALTIME, CLOCK_MONOTONIC");
    uw_tender_filter_allow(f, SYS_exit_group, "exit_group");
    uw_tender_filter_allow(f, SYS_exit, "exit");
    uw_tender_filter_allow(f, SYS_rt_sigreturn, "rt_sigreturn");
    if (uw_tender_filter_end(f, &err) < 0)
        hvt_die("%s", err.msg);
}

void hvt_seccomp_lock(struct hvt *h)
{
    static struct uw_tender_filter f;
    struct uw_tender_error err;
    hvt_seccomp_build(h, &f);
    if (uw_tender_filter_install(&f, &err) < 0)
        hvt_die("%s", err.msg);
}
