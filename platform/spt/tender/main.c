/*
 * main.c - uweb-spt: command line, devices, guest memory, start
 * (contracts: tender.h; usage: --help below).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "tender.h"
#include "uw_tender.h"
#include "../../../include/uweb/version.h"

static const char usage[] =
"NAME\n"
"    uweb-spt - run a uweb unikernel in a seccomp-locked process\n"
"\n"
"SYNOPSIS\n"
"    uweb-spt [--mem=MIB] [--net:NAME=TAPIF]... [--block:NAME=FILE]... GUEST [ARG]...\n"
"    uweb-spt --describe GUEST\n"
"    uweb-spt --show-filter [--net:NAME=TAPIF]... [--block:NAME=FILE]... GUEST\n"
"    uweb-spt --help | --version\n"
"\n"
"DESCRIPTION\n"
"    Loads GUEST, a unikernel image built for the spt target\n"
"    (build/spt/.../NAME.spt), into this process, attaches a host\n"
"    resource to every device the image declares in its manifest, then\n"
"    installs a seccomp filter that allows only what the guest needs\n"
"    (read and write on its tap devices and the console, pread64 and\n"
"    pwrite64 inside its block devices, ppoll, clock_gettime, exit_group:\n"
"    7 system calls, file descriptors and block ranges pinned) and jumps\n"
"    to the guest.  The guest runs in this process: the tender re-executes\n"
"    itself with an empty environment and zeroes its own command line\n"
"    before the guest's first instruction.\n"
"    The ARGs become the guest's argv[1..]; argv[0] is GUEST's file name.\n"
"\n"
"    The devices given must be exactly those the manifest declares, by\n"
"    name and type; anything else is refused before the guest runs.\n"
"\n"
"OPTIONS\n"
"    --mem=MIB\n"
"        Guest memory in MiB (default 32, 2 to 16384), mapped at 4 MiB\n"
"        (0x400000, above any host's vm.mmap_min_addr): the image, the\n"
"        heap, a guard page, a 1 MiB stack and 12 KiB of boot information.\n"
"        Pages are allocated by the host as the guest touches them.\n"
"    --net:NAME=TAPIF\n"
"        Attaches the existing tap interface TAPIF (ip tuntap add TAPIF\n"
"        mode tap) to the guest's network device NAME.  The\n"
"        guest gets a random locally administered MAC address and the\n"
"        interface's MTU (1500 if it cannot be read).\n"
"    --net-offloads=on|off\n"
"        For a guest whose net device asks for offloads (the apps' lwIP\n"
"        does): on (default) opens the tap with a virtio-net header and\n"
"        checksum and segmentation offloads (the host hands over TCP\n"
"        super-frames of up to 64 KiB); off opens it plain.\n"
"    --block:NAME=FILE\n"
"        Attaches FILE (a file or block device, read-write; its size a\n"
"        non-zero multiple of 512)\n"
"        to the guest's block device NAME, with 512-byte blocks.\n"
"    --describe\n"
"        Prints the devices GUEST declares, one per line (\"net NAME\" or\n"
"        \"block NAME\", then \" optional\" for a device the guest can run\n"
"        without), and exits.\n"
"    --show-filter\n"
"        Prints the system calls the filter would allow for these devices\n"
"        and exits without running the guest.\n"
"    --help\n"
"        Prints this text.\n"
"    --version\n"
"        Prints the version of uweb.\n"
"\n"
"EXIT STATUS\n"
"    0-254  the guest's exit status (uw_plat_exit, or main's return)\n"
"    255    the guest aborted (uw_plat_abort: stack smashing, failed assert)\n"
"    125    the tender refused to start the guest (bad option, bad image,\n"
"           devices not matching the manifest, device error); one line on\n"
"           stderr says why\n"
"    159    the guest made a forbidden system call (128 + SIGSYS); stderr\n"
"           says \"uweb-spt: guest made a forbidden system call (nr N)\"\n"
"    128+N  the guest crashed with signal N (139: SIGSEGV), with a message\n"
"\n"
"EXAMPLES\n"
"    uweb-spt build/spt/tests/unikernel/hello.spt\n"
"    uweb-spt --mem=64 --net:service0=tap0 --block:storage=disk.img app.spt --port 80\n";

void spt_error(const char *fmt, ...)
{
    va_list ap;
    fputs("uweb-spt: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static int refuse(void)
{
    exit(SPT_EXIT_REFUSED);
}

static int refuse_with(const struct uw_tender_error *err)
{
    spt_error("%s", err->msg);
    return refuse();
}

/*
 * The guest runs in this process and can read all of its memory, so the
 * tender starts it with nothing of its caller's worth reading: the
 * environment never reaches this process image (a re-exec with an empty
 * one: glibc's start-up copies some variables into the heap, so zeroing
 * the strings afterwards would not be enough), and the command line is
 * zeroed once it has been used (scrub_argv).  If /proc/self/exe cannot be
 * executed, the environment strings are zeroed in place instead.
 */
extern char **environ;
static void drop_environment(char **argv)
{
    if (!environ || !environ[0])
        return;
    static char *const empty[] = { NULL };
    execve("/proc/self/exe", argv, empty);
    for (char **e = environ; *e; e++)
        memset(*e, 0, strlen(*e));
    environ[0] = NULL;
}

static void scrub_argv(int argc, char **argv)
{
    for (int k = 0; k < argc; k++)
        memset(argv[k], 0, strlen(argv[k]));
}

int main(int argc, char **argv)
{
    struct uw_tender_device_arg devs[UW_PLAT_MANIFEST_MAX];
    struct uw_tender_error err;
    int ndevs = 0, describe = 0, show_filter = 0;
    unsigned long mem_mib = 32;
    int i;

    drop_environment(argv);
    for (i = 1; i < argc && argv[i][0] == '-'; i++) {
        const char *a = argv[i];
        int r;
        if (strcmp(a, "--version") == 0) {
            printf("uweb-spt %s\n", UW_VERSION);
            return 0;
        } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(usage, stdout);
            return 0;
        } else if (strcmp(a, "--describe") == 0) {
            describe = 1;
        } else if (strcmp(a, "--show-filter") == 0) {
            show_filter = 1;
        } else if (strcmp(a, "--net-offloads=off") == 0 || strcmp(a, "--net-offloads=on") == 0) {
            uw_tender_net_offloads = a[16] == 'n';
        } else if (strncmp(a, "--mem=", 6) == 0) {
            char *end;
            errno = 0;
            mem_mib = strtoul(a + 6, &end, 10);
            if (errno || end == a + 6 || *end || mem_mib < 2 || mem_mib > 16384) {
                spt_error("bad --mem '%s': expected MiB, 2 to 16384", a + 6);
                return refuse();
            }
        } else if ((r = uw_tender_device_option(a, devs, &ndevs, &err)) != 0) {
            if (r < 0)
                return refuse_with(&err);
        } else if (strcmp(a, "--") == 0) {
            i++;
            break;
        } else {
            spt_error("unknown option '%s' (see uweb-spt --help)", a);
            return refuse();
        }
    }
    if (i >= argc) {
        spt_error("no guest image given (see uweb-spt --help)");
        return refuse();
    }
    const char *guest = argv[i];
    char **args = argv + i + 1;
    int nargs = argc - i - 1;

    uint8_t *file;
    size_t file_size, mft_size;
    struct uw_tender_image img;
    struct uw_plat_manifest *m;
    if (uw_tender_read_file(guest, &file, &file_size, &err) < 0)
        return refuse_with(&err);
    if (uw_tender_elf_parse(file, file_size, &img, &err) < 0
        || !(m = uw_tender_manifest_copy(file, &img, &mft_size, &err))) {
        spt_error("%s: %s", guest, err.msg);
        return refuse();
    }
    if (describe) {
        for (uint32_t d = 0; d < m->count; d++)
            printf("%s %s%s\n", uw_tender_type_name(m->devices[d].type), m->devices[d].name,
                   (m->devices[d].flags & UW_PLAT_DEVICE_OPTIONAL) ? " optional" : "");
        return 0;
    }

    int match[UW_PLAT_MANIFEST_MAX];
    if (uw_tender_devices_match(m, devs, ndevs, match, &err) < 0)
        return refuse_with(&err);
    struct spt_fds fds = { .nnet = 0, .nblock = 0 };
    for (uint32_t k = 0; k < m->count; k++) {
        struct uw_plat_device *dev = &m->devices[k];
        int fd;
        if (match[k] < 0)
            continue;          /* optional and not given: unattached */
        if (show_filter && dev->type == UW_PLAT_DEVICE_NET) {
            fd = 3 + (int)k;   /* placeholders: no tap is opened */
        } else if ((fd = uw_tender_device_open(dev, &devs[match[k]], &err)) < 0) {
            return refuse_with(&err);
        } else if (show_filter) {
            close(fd);         /* a block file is opened for its capacity only */
            fd = 3 + (int)k;
        }
        dev->hostfd = fd;
        if (dev->type == UW_PLAT_DEVICE_NET) {
            fds.net[fds.nnet++] = fd;
        } else {
            fds.block_capacity[fds.nblock] = dev->info.block.capacity;
            fds.block[fds.nblock++] = fd;
        }
    }
    if (show_filter) {
        if (spt_print_filter(&fds) < 0)
            return refuse();
        return 0;
    }

    /* Guest memory: [UW_SPT_GUEST_BASE, + mem) at the same addresses here
     * (spt_abi.h): the image at its bottom, the boot area at its top. */
    uint64_t mem = (uint64_t)mem_mib << 20, boot_addr = UW_SPT_BOOT(mem);
    uint64_t heap_end = boot_addr - UW_SPT_STACK_SIZE - UW_SPT_GUARD_SIZE;
    for (int k = 0; k < img.nseg; k++)
        if (img.seg[k].vaddr < UW_SPT_GUEST_BASE) {
            spt_error("%s: segment at 0x%llx is below spt guest memory (0x%x): not an spt image",
                      guest, (unsigned long long)img.seg[k].vaddr, UW_SPT_GUEST_BASE);
            return refuse();
        }
    if (img.end > heap_end) {
        spt_error("%s does not fit in %lu MiB (try a larger --mem)", guest, mem_mib);
        return refuse();
    }
    void *want = (void *)UW_SPT_GUEST_BASE;
    void *got = mmap(want, mem, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);
    if (got != want) {
        spt_error("cannot map %lu MiB of guest memory at 0x%lx: %s", mem_mib,
                  (unsigned long)UW_SPT_GUEST_BASE, got == MAP_FAILED ? strerror(errno) : "address taken");
        return refuse();
    }
    uw_tender_elf_load(file, &img, (uint8_t *)want, UW_SPT_GUEST_BASE);
    memset(file, 0, file_size);
    free(file);
    if (spt_protect_image(&img) < 0)
        return refuse();

    struct uw_spt_boot *boot = (struct uw_spt_boot *)boot_addr;
    char *cmdline = (char *)(boot_addr + UW_SPT_CMDLINE_OFFSET);
    void *manifest = (void *)(boot_addr + UW_SPT_MANIFEST_OFFSET);
    if (uw_tender_cmdline(cmdline, UW_SPT_CMDLINE_SIZE, guest, args, nargs, &err) < 0)
        return refuse_with(&err);
    if (mft_size > UW_SPT_MANIFEST_SIZE) {
        spt_error("manifest too large");
        return refuse();
    }
    memcpy(manifest, m, mft_size);
    uint64_t canary;
    if (uw_tender_random(&canary, sizeof canary, &err) < 0)
        return refuse_with(&err);
    *boot = (struct uw_spt_boot){
        .abi_version = UW_SPT_ABI_VERSION,
        .mem_size = mem,
        .heap_start = img.end,
        .heap_end = heap_end,
        .cmdline = (uintptr_t)cmdline,
        .manifest = (uintptr_t)manifest,
        .canary = canary & ~(uint64_t)0xff,   /* a zero byte stops string overreads */
        .clock_gettime = spt_vdso_clock_gettime(),
    };
    canary = 0;
    if (uw_tender_random(boot->seed, sizeof boot->seed, &err) < 0)
        return refuse_with(&err);
    if (mprotect(boot, UW_SPT_BOOT_SIZE, PROT_READ) < 0
        || mprotect((void *)heap_end, UW_SPT_GUARD_SIZE, PROT_NONE) < 0) {
        spt_error("mprotect: %s", strerror(errno));
        return refuse();
    }
    scrub_argv(argc, argv);
    spt_run(&fds, img.entry, boot_addr, boot_addr);
    return refuse();
}
