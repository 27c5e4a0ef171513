/*
 * main.c - uweb-spt: command line, devices, guest memory, start
 * (contracts: tender.h; usage: --help below).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include "tender.h"

static const char usage[] =
"NAME\n"
"    uweb-spt - run a uweb unikernel in a seccomp-locked process\n"
"\n"
"SYNOPSIS\n"
"    uweb-spt [--mem=MIB] [--net:NAME=TAPIF]... [--block:NAME=FILE]... GUEST [ARG]...\n"
"    uweb-spt --describe GUEST\n"
"    uweb-spt --show-filter [--net:NAME=TAPIF]... [--block:NAME=FILE]... GUEST\n"
"    uweb-spt --help\n"
"\n"
"DESCRIPTION\n"
"    Loads GUEST, a unikernel image built for the spt target\n"
"    (build/spt/.../NAME.spt), into this process, attaches a host\n"
"    resource to every device the image declares in its manifest, then\n"
"    installs a seccomp filter that allows only what the guest needs\n"
"    (read and write on its tap devices and the console, pread64 and\n"
"    pwrite64 on its block devices, ppoll, clock_gettime, exit_group:\n"
"    7 system calls, file descriptors pinned) and jumps to the guest.\n"
"    The ARGs become the guest's argv[1..]; argv[0] is GUEST's file name.\n"
"\n"
"    The devices given must be exactly those the manifest declares, by\n"
"    name and type; anything else is refused before the guest runs.\n"
"\n"
"OPTIONS\n"
"    --mem=MIB\n"
"        Guest memory in MiB (default 32, 2 to 16384): the image, the\n"
"        heap, a guard page and a 1 MiB stack.  Pages are allocated by the\n"
"        host as the guest touches them.\n"
"    --net:NAME=TAPIF\n"
"        Attaches the tap interface TAPIF (created if it does not exist\n"
"        and the caller may) to the guest's network device NAME.  The\n"
"        guest gets a random locally administered MAC address and the\n"
"        interface's MTU (1500 if it cannot be read).\n"
"    --block:NAME=FILE\n"
"        Attaches FILE (read-write; its size a non-zero multiple of 512)\n"
"        to the guest's block device NAME, with 512-byte blocks.\n"
"    --describe\n"
"        Prints the devices GUEST declares, one per line (\"net NAME\" or\n"
"        \"block NAME\"), and exits.\n"
"    --show-filter\n"
"        Prints the system calls the filter would allow for these devices\n"
"        and exits without running the guest.\n"
"    --help\n"
"        Prints this text.\n"
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

struct device_arg {
    const char *name;   /* points into argv */
    size_t name_len;
    const char *path;
    uint32_t type;
};

static int refuse(void)
{
    exit(SPT_EXIT_REFUSED);
}

/* Parses "NAME=VALUE" after --net: or --block:. */
static int parse_device(const char *spec, uint32_t type, struct device_arg *d)
{
    const char *eq = strchr(spec, '=');
    if (!eq || eq == spec || !eq[1] || (size_t)(eq - spec) >= UW_PLAT_NAME_MAX) {
        spt_error("bad device option '%s': expected NAME=%s", spec,
                  type == UW_PLAT_DEVICE_NET ? "TAPIF" : "FILE");
        return -1;
    }
    d->name = spec;
    d->name_len = (size_t)(eq - spec);
    d->path = eq + 1;
    d->type = type;
    return 0;
}

/* The interface's MTU, or 1500 if it cannot be read. */
static uint32_t tap_mtu(const char *ifname)
{
    struct ifreq ifr;
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    uint32_t mtu = 1500;
    if (s < 0)
        return mtu;
    memset(&ifr, 0, sizeof ifr);
    memcpy(ifr.ifr_name, ifname, strlen(ifname));
    if (ioctl(s, SIOCGIFMTU, &ifr) == 0 && ifr.ifr_mtu >= 68)
        mtu = (uint32_t)ifr.ifr_mtu;
    close(s);
    return mtu;
}

static int open_tap(const char *ifname, uint8_t mac[6])
{
    if (strlen(ifname) >= IFNAMSIZ) {
        spt_error("tap interface name '%s' too long", ifname);
        return -1;
    }
    int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        spt_error("/dev/net/tun: %s", strerror(errno));
        return -1;
    }
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
    memcpy(ifr.ifr_name, ifname, strlen(ifname));
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
        spt_error("tap interface '%s': %s", ifname, strerror(errno));
        close(fd);
        return -1;
    }
    if (getrandom(mac, 6, 0) != 6) {
        spt_error("getrandom: %s", strerror(errno));
        close(fd);
        return -1;
    }
    mac[0] = (uint8_t)((mac[0] & 0xfe) | 0x02);   /* unicast, locally administered */
    return fd;
}

static int open_block(const char *path, uint64_t *capacity)
{
    int fd = open(path, O_RDWR | O_CLOEXEC);
    struct stat st;
    if (fd < 0) {
        spt_error("%s: %s", path, strerror(errno));
        return -1;
    }
    if (fstat(fd, &st) < 0)
        goto fail_errno;
    if (S_ISREG(st.st_mode)) {
        *capacity = (uint64_t)st.st_size;
    } else if (S_ISBLK(st.st_mode)) {
        if (ioctl(fd, BLKGETSIZE64, capacity) < 0)
            goto fail_errno;
    } else {
        spt_error("%s: not a file or block device", path);
        goto fail;
    }
    if (*capacity == 0 || *capacity % 512) {
        spt_error("%s: size %llu is not a non-zero multiple of 512 bytes", path,
                  (unsigned long long)*capacity);
        goto fail;
    }
    return fd;
fail_errno:
    spt_error("%s: %s", path, strerror(errno));
fail:
    close(fd);
    return -1;
}

/* Joins the image's file name and ARGS into the guest command line. */
static int build_cmdline(char *out, size_t size, const char *guest, char **args, int nargs)
{
    const char *base = strrchr(guest, '/');
    base = base ? base + 1 : guest;
    size_t n = 0;
    for (int i = -1; i < nargs; i++) {
        const char *a = i < 0 ? base : args[i];
        int quote = !*a || strpbrk(a, " \"\\\t") != NULL;
        if (i >= 0 && n < size)
            out[n++] = ' ';
        if (quote && n < size)
            out[n++] = '"';
        for (; *a; a++) {
            if (quote && (*a == '"' || *a == '\\') && n < size)
                out[n++] = '\\';
            if (n < size)
                out[n++] = *a;
        }
        if (quote && n < size)
            out[n++] = '"';
    }
    if (n >= size) {
        spt_error("guest command line longer than %zu bytes", size - 1);
        return -1;
    }
    out[n] = 0;
    return 0;
}

int main(int argc, char **argv)
{
    struct device_arg devs[UW_PLAT_MANIFEST_MAX];
    int ndevs = 0, describe = 0, show_filter = 0;
    unsigned long mem_mib = 32;
    int i;

    for (i = 1; i < argc && argv[i][0] == '-'; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(usage, stdout);
            return 0;
        } else if (strcmp(a, "--describe") == 0) {
            describe = 1;
        } else if (strcmp(a, "--show-filter") == 0) {
            show_filter = 1;
        } else if (strncmp(a, "--mem=", 6) == 0) {
            char *end;
            errno = 0;
            mem_mib = strtoul(a + 6, &end, 10);
            if (errno || end == a + 6 || *end || mem_mib < 2 || mem_mib > 16384) {
                spt_error("bad --mem '%s': expected MiB, 2 to 16384", a + 6);
                return refuse();
            }
        } else if (strncmp(a, "--net:", 6) == 0 || strncmp(a, "--block:", 8) == 0) {
            int net = a[2] == 'n';
            if (ndevs == UW_PLAT_MANIFEST_MAX) {
                spt_error("too many devices");
                return refuse();
            }
            if (parse_device(a + (net ? 6 : 8), net ? UW_PLAT_DEVICE_NET : UW_PLAT_DEVICE_BLOCK,
                             &devs[ndevs]) < 0)
                return refuse();
            for (int j = 0; j < ndevs; j++)
                if (devs[j].name_len == devs[ndevs].name_len
                    && memcmp(devs[j].name, devs[ndevs].name, devs[j].name_len) == 0) {
                    spt_error("device '%.*s' given twice", (int)devs[j].name_len, devs[j].name);
                    return refuse();
                }
            ndevs++;
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

    struct spt_image img;
    if (spt_elf_manifest(guest, &img) < 0)
        return refuse();
    struct uw_plat_manifest *m = img.manifest;
    if (describe) {
        for (uint32_t d = 0; d < m->count; d++)
            printf("%s %s\n", m->devices[d].type == UW_PLAT_DEVICE_NET ? "net" : "block",
                   m->devices[d].name);
        return 0;
    }

    /* Every device given must be declared with that type ... */
    for (int d = 0; d < ndevs; d++) {
        uint32_t k;
        for (k = 0; k < m->count; k++)
            if (strlen(m->devices[k].name) == devs[d].name_len
                && memcmp(m->devices[k].name, devs[d].name, devs[d].name_len) == 0)
                break;
        const char *kind = devs[d].type == UW_PLAT_DEVICE_NET ? "net" : "block";
        if (k == m->count) {
            spt_error("--%s:%.*s given, but the guest declares no device '%.*s'", kind,
                      (int)devs[d].name_len, devs[d].name, (int)devs[d].name_len, devs[d].name);
            return refuse();
        }
        if (m->devices[k].type != devs[d].type) {
            spt_error("--%s:%s given, but the guest declares '%s' as a %s device", kind,
                      devs[d].name, m->devices[k].name,
                      m->devices[k].type == UW_PLAT_DEVICE_NET ? "net" : "block");
            return refuse();
        }
        m->devices[k].attached = 1;   /* marks it given; opened below */
        m->devices[k].hostfd = d;     /* index into devs for now */
    }
    /* ... and every declared device given. */
    for (uint32_t k = 0; k < m->count; k++)
        if (!m->devices[k].attached) {
            int net = m->devices[k].type == UW_PLAT_DEVICE_NET;
            spt_error("the guest declares %s device '%s', but no --%s:%s=%s was given",
                      net ? "net" : "block", m->devices[k].name, net ? "net" : "block",
                      m->devices[k].name, net ? "TAPIF" : "FILE");
            return refuse();
        }

    struct spt_fds fds = { .nnet = 0, .nblock = 0 };
    for (uint32_t k = 0; k < m->count; k++) {
        struct uw_plat_device *dev = &m->devices[k];
        const struct device_arg *da = &devs[dev->hostfd];
        int fd;
        if (show_filter) {
            fd = 3 + (int)k;   /* placeholders: nothing is opened */
        } else if (dev->type == UW_PLAT_DEVICE_NET) {
            fd = open_tap(da->path, dev->info.net.mac_address);
            dev->info.net.mtu = fd < 0 ? 0 : tap_mtu(da->path);
        } else {
            fd = open_block(da->path, &dev->info.block.capacity);
            dev->info.block.block_size = 512;
        }
        if (fd < 0)
            return refuse();
        dev->hostfd = fd;
        if (dev->type == UW_PLAT_DEVICE_NET)
            fds.net[fds.nnet++] = fd;
        else
            fds.block[fds.nblock++] = fd;
    }
    if (show_filter) {
        spt_print_filter(&fds);
        return 0;
    }

    /* Guest memory: [UW_SPT_BOOT_BASE, mem) at the same addresses here. */
    uint64_t mem = (uint64_t)mem_mib << 20;
    uint64_t heap_end = mem - UW_SPT_STACK_SIZE - UW_SPT_GUARD_SIZE;
    void *want = (void *)UW_SPT_BOOT_BASE;
    void *got = mmap(want, mem - UW_SPT_BOOT_BASE, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);
    if (got != want) {
        spt_error("cannot map %lu MiB of guest memory at 0x%lx: %s", mem_mib,
                  (unsigned long)UW_SPT_BOOT_BASE, got == MAP_FAILED ? strerror(errno) : "address taken");
        return refuse();
    }
    if (spt_elf_load(guest, heap_end, &img) < 0)
        return refuse();
    if (img.end > heap_end) {
        spt_error("%s does not fit in %lu MiB", guest, mem_mib);
        return refuse();
    }

    struct uw_spt_boot *boot = (struct uw_spt_boot *)UW_SPT_BOOT_BASE;
    if (build_cmdline((char *)UW_SPT_CMDLINE_BASE, UW_SPT_CMDLINE_SIZE, guest, args, nargs) < 0)
        return refuse();
    if (img.manifest_size > UW_SPT_MANIFEST_SIZE) {
        spt_error("manifest too large");
        return refuse();
    }
    memcpy((void *)UW_SPT_MANIFEST_BASE, m, img.manifest_size);
    uint64_t canary;
    if (getrandom(&canary, sizeof canary, 0) != sizeof canary) {
        spt_error("getrandom: %s", strerror(errno));
        return refuse();
    }
    *boot = (struct uw_spt_boot){
        .abi_version = UW_SPT_ABI_VERSION,
        .mem_size = mem,
        .heap_start = img.end,
        .heap_end = heap_end,
        .cmdline = UW_SPT_CMDLINE_BASE,
        .manifest = UW_SPT_MANIFEST_BASE,
        .canary = canary & ~(uint64_t)0xff,   /* a zero byte stops string overreads */
        .clock_gettime = spt_vdso_clock_gettime(),
    };
    if (mprotect((void *)UW_SPT_BOOT_BASE, UW_SPT_BOOT_END - UW_SPT_BOOT_BASE, PROT_READ) < 0
        || mprotect((void *)UW_SPT_BOOT_END, UW_SPT_GUEST_MIN_BASE - UW_SPT_BOOT_END, PROT_NONE) < 0
        || mprotect((void *)heap_end, UW_SPT_GUARD_SIZE, PROT_NONE) < 0) {
        spt_error("mprotect: %s", strerror(errno));
        return refuse();
    }
    spt_run(&fds, img.entry, mem, UW_SPT_BOOT_BASE);
    return refuse();
}
