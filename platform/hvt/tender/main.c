/*
 * main.c - uweb-hvt: command line, manifest check, start of the guest.
 */
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hvt.h"
#include "../../../include/uweb/version.h"

static const char usage_text[] =
"NAME\n"
"    uweb-hvt - run a uweb unikernel as a KVM guest\n"
"\n"
"SYNOPSIS\n"
"    uweb-hvt [--mem=MIB] [--net:NAME=TAPIF]... [--block:NAME=FILE]...\n"
"             [--] UNIKERNEL [ARG]...\n"
"    uweb-hvt --describe UNIKERNEL\n"
"    uweb-hvt --show-filter [--net:NAME=TAPIF]... [--block:NAME=FILE]... UNIKERNEL\n"
"    uweb-hvt --help | --version\n"
"\n"
"DESCRIPTION\n"
"    Starts UNIKERNEL, a guest linked for the hvt target, in a KVM virtual\n"
"    machine with one vCPU and MIB mebibytes of memory, attaches the devices\n"
"    named on the command line, and exits with the guest's exit status.\n"
"    The guest's argv is the image's file name followed by the ARGs.\n"
"    The guest's console goes to standard output; messages from\n"
"    uweb-hvt itself go to standard error.\n"
"\n"
"    The guest declares the devices it uses in its manifest.  uweb-hvt\n"
"    refuses to start it with a device it did not declare, or of another\n"
"    kind, and without a device it declared.\n"
"\n"
"OPTIONS\n"
"    --mem=MIB\n"
"        Guest memory in MiB (default %d, at least 4, at most 4096);\n"
"        rounded up to a multiple of 2 MiB.\n"
"    --net:NAME=TAPIF\n"
"        Attach the existing tap interface TAPIF as the guest's net device\n"
"        NAME, with a random locally administered MAC address and the\n"
"        interface's MTU.\n"
"    --net-offloads=on|off\n"
"        For a guest whose net device asks for offloads (the apps' lwIP\n"
"        does): on (default) opens the tap with a virtio-net header and\n"
"        checksum and segmentation offloads (the host hands over TCP\n"
"        super-frames of up to 64 KiB); off opens it plain.\n"
"    --block:NAME=FILE\n"
"        Attach FILE (a file or block device, its size a non-zero multiple\n"
"        of 512 bytes) as the guest's block device NAME.\n"
"    --describe\n"
"        Print the devices UNIKERNEL declares, one per line as KIND NAME\n"
"        (then \" optional\" for a device it can run without), and exit.\n"
"    --show-filter\n"
"        Print the system calls the tender's own seccomp filter would\n"
"        allow while serving UNIKERNEL with these devices (descriptors\n"
"        numbered as in a run: devices from 3, then /dev/kvm, the VM and\n"
"        the vCPU) and exit without opening anything.\n"
"    --help\n"
"        Print this text and exit.\n"
"    --version\n"
"        Print the version of uweb and exit.\n"
"    --\n"
"        End of options: the next argument is UNIKERNEL.\n"
"\n"
"EXIT STATUS\n"
"    0..254  the guest's exit status\n"
"    255     the guest aborted (stack smashing, failed assertion, ...)\n"
"    125     uweb-hvt refused to start it (bad option, bad image, manifest\n"
"            mismatch, device or KVM error)\n"
"    139     the guest crashed (CPU exception) or passed a bad address or\n"
"            request to a hypercall\n"
"    A message on standard error says why for 125, 139 and 255.\n"
"\n"
"GUEST MEMORY\n"
"    Identity-mapped.  Page 0 and a guard page below the 1 MiB stack are\n"
"    unmapped; the image's pages keep their segment's permissions, never\n"
"    writable and executable; heap and stack are not executable.\n"
"\n"
"ENVIRONMENT\n"
"    Needs read and write access to /dev/kvm, and to /dev/net/tun for\n"
"    net devices.  Where KVM is emulated in software (no vmx/svm CPU\n"
"    flag), guests must be built without SSE (make HVT_SOFT_KVM=1, the\n"
"    default there).\n"
"\n"
"EXAMPLES\n"
"    uweb-hvt --net:service=tap0 -- build/hvt/apps/hello.hvt --ipv4=10.0.0.2/24\n"
"    uweb-hvt --describe build/hvt/apps/hello.hvt\n";

#define DEFAULT_MEM_MIB 32

static void usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "uweb-hvt: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, " (see uweb-hvt --help)\n");
    exit(HVT_EXIT_TENDER);
}

static uint64_t parse_mem(const char *arg)
{
    char *end;
    errno = 0;
    unsigned long long mib = strtoull(arg, &end, 10);
    if (errno != 0 || end == arg || *end != '\0' || mib < 4 ||
        mib > (UW_HVT_MEM_MAX >> 20))
        usage_error("--mem=%s: expected a number of MiB from 4 to 4096", arg);
    uint64_t bytes = mib << 20;
    return (bytes + UW_HVT_PAGE_SIZE - 1) & ~(uint64_t)(UW_HVT_PAGE_SIZE - 1);
}

static void write_boot_info(struct hvt *h, const char *guest, int argc, char **argv)
{
    struct uw_tender_error err;
    struct uw_hvt_boot *b = (struct uw_hvt_boot *)(h->mem + UW_HVT_BOOT_BASE);
    memset(b, 0, sizeof(*b));
    b->abi_version = UW_HVT_ABI_VERSION;
    b->mem_size = h->mem_size;
    b->heap_start = (h->image_end + 0xfff) & ~0xfffULL;
    b->heap_end = HVT_GUARD(h);
    if (b->heap_start > b->heap_end)
        b->heap_start = b->heap_end;
    if (uw_tender_cmdline((char *)h->mem + UW_HVT_CMDLINE_BASE, UW_HVT_CMDLINE_SIZE, guest,
                          argv, argc, &err) < 0)
        hvt_die("%s", err.msg);
    b->cmdline = UW_HVT_CMDLINE_BASE;
    if (h->mft_size > UW_HVT_MANIFEST_SIZE)
        hvt_die("%s: manifest too large", guest);
    memcpy(h->mem + UW_HVT_MANIFEST_BASE, h->mft, h->mft_size);
    b->manifest = UW_HVT_MANIFEST_BASE;
    b->manifest_size = h->mft_size;
    if (uw_tender_random(&b->random, sizeof(b->random), &err) < 0
        || uw_tender_random(b->seed, sizeof(b->seed), &err) < 0)
        hvt_die("%s", err.msg);
}

int main(int argc, char **argv)
{
    static struct hvt h;
    static struct uw_tender_device_arg devs[UW_PLAT_MANIFEST_MAX];
    struct uw_tender_error err;
    int ndevs = 0;
    uint64_t mem_size = (uint64_t)DEFAULT_MEM_MIB << 20;
    int describe = 0, show_filter = 0;
    int i;

    for (i = 1; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
        const char *a = argv[i];
        int r;
        if (strcmp(a, "--version") == 0) {
            printf("uweb-hvt %s\n", UW_VERSION);
            return 0;
        } else if (strcmp(a, "--help") == 0) {
            printf(usage_text, DEFAULT_MEM_MIB);
            return 0;
        } else if (strcmp(a, "--describe") == 0) {
            describe = 1;
        } else if (strcmp(a, "--show-filter") == 0) {
            show_filter = 1;
        } else if (strcmp(a, "--net-offloads=off") == 0 || strcmp(a, "--net-offloads=on") == 0) {
            uw_tender_net_offloads = a[16] == 'n';
        } else if (strncmp(a, "--mem=", 6) == 0) {
            mem_size = parse_mem(a + 6);
        } else if ((r = uw_tender_device_option(a, devs, &ndevs, &err)) != 0) {
            if (r < 0)
                hvt_die("%s", err.msg);
        } else if (strcmp(a, "--") == 0) {
            i++;
            break;
        } else {
            usage_error("unknown option %s", a);
        }
    }
    if (i >= argc)
        usage_error("%s", "no unikernel given");
    const char *guest = argv[i++];

    uint8_t *file;
    size_t file_size;
    struct uw_tender_image img;
    if (uw_tender_read_file(guest, &file, &file_size, &err) < 0)
        hvt_die("%s", err.msg);
    if (uw_tender_elf_parse(file, file_size, &img, &err) < 0
        || !(h.mft = uw_tender_manifest_copy(file, &img, &h.mft_size, &err)))
        hvt_die("%s: %s", guest, err.msg);
    h.ndev = (int)h.mft->count;
    if (describe) {
        for (int d = 0; d < h.ndev; d++)
            printf("%s %s%s\n", uw_tender_type_name(h.mft->devices[d].type),
                   h.mft->devices[d].name,
                   (h.mft->devices[d].flags & UW_PLAT_DEVICE_OPTIONAL) ? " optional" : "");
        return 0;
    }
    /* Host resources first: devices, then KVM; then the guest runs. */
    hvt_attach_devices(&h, devs, ndevs, show_filter);
    if (show_filter) {
        /* The descriptors a run would have: devices, /dev/kvm, VM, vCPU. */
        static struct uw_tender_filter f;
        h.vcpu_fd = 3 + h.ndev + 2;
        hvt_seccomp_build(&h, &f);
        uw_tender_filter_print(&f, stdout);
        return 0;
    }
    hvt_kvm_init(&h, mem_size);
    hvt_load_image(&h, guest, file, &img);
    free(file);
    write_boot_info(&h, guest, argc - i, argv + i);
    hvt_vcpu_setup(&h, UW_HVT_BOOT_BASE);
    /* A closed stdout loses console output, it does not kill the guest. */
    signal(SIGPIPE, SIG_IGN);
    hvt_seccomp_lock(&h);
    /* _exit: no exit handlers run under the seccomp filter. */
    _exit(hvt_vcpu_run(&h));
}
