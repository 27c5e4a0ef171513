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

static const char usage_text[] =
"NAME\n"
"    uweb-hvt - run a uweb unikernel as a KVM guest\n"
"\n"
"SYNOPSIS\n"
"    uweb-hvt [--mem=MIB] [--net:NAME=TAPIF]... [--block:NAME=FILE]...\n"
"             [--] UNIKERNEL [ARG]...\n"
"    uweb-hvt --describe UNIKERNEL\n"
"    uweb-hvt --help\n"
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
"        NAME.\n"
"    --block:NAME=FILE\n"
"        Attach FILE (its size a multiple of 512 bytes) as the guest's\n"
"        block device NAME.\n"
"    --describe\n"
"        Print the devices UNIKERNEL declares, one per line as KIND NAME,\n"
"        and exit.\n"
"    --help\n"
"        Print this text and exit.\n"
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

#define MAX_DEVICE_ARGS UW_PLAT_MANIFEST_MAX

/* Parses "NAME=VALUE" after a --net: or --block: prefix. */
static void parse_device(struct hvt_device_arg *args, int *nargs,
                         const char *opt, const char *spec, uint32_t type)
{
    const char *eq = strchr(spec, '=');
    if (eq == NULL || eq == spec || eq[1] == '\0')
        usage_error("%s: expected NAME=VALUE", opt);
    size_t name_len = (size_t)(eq - spec);
    if (name_len >= UW_PLAT_NAME_MAX)
        usage_error("%s: device name too long", opt);
    if (*nargs == MAX_DEVICE_ARGS)
        usage_error("%s: too many devices", opt);
    struct hvt_device_arg *d = &args[*nargs];
    memset(d, 0, sizeof(*d));
    memcpy(d->name, spec, name_len);
    d->type = type;
    d->option = opt;
    d->host = eq + 1;
    for (int i = 0; i < *nargs; i++)
        if (strcmp(args[i].name, d->name) == 0)
            usage_error("%s: device given twice", opt);
    (*nargs)++;
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

/*
 * Appends one word to the guest's command line page, quoted with "..." when
 * it is empty or holds a space, a quote or a backslash (platform/README.md).
 */
static void append_word(char *out, size_t *used, const char *word)
{
    int quote = word[0] == '\0' || strpbrk(word, " \"\\") != NULL;
    size_t need = (*used > 0) + 2 * quote + 1;
    for (const char *p = word; *p; p++)
        need += (quote && (*p == '"' || *p == '\\')) ? 2 : 1;
    if (*used + need > UW_HVT_CMDLINE_SIZE)
        hvt_die("guest command line too long (at most %d bytes)",
                UW_HVT_CMDLINE_SIZE - 1);
    if (*used > 0)
        out[(*used)++] = ' ';
    if (quote)
        out[(*used)++] = '"';
    for (const char *p = word; *p; p++) {
        if (quote && (*p == '"' || *p == '\\'))
            out[(*used)++] = '\\';
        out[(*used)++] = *p;
    }
    if (quote)
        out[(*used)++] = '"';
    out[*used] = '\0';
}

/* The image's basename, then the arguments after it. */
static void write_cmdline(struct hvt *h, const char *guest, int argc,
                          char **argv)
{
    char *out = (char *)h->mem + UW_HVT_CMDLINE_BASE;
    size_t used = 0;
    const char *base = strrchr(guest, '/');
    append_word(out, &used, base ? base + 1 : guest);
    for (int i = 0; i < argc; i++)
        append_word(out, &used, argv[i]);
}

static void write_boot_info(struct hvt *h)
{
    struct uw_hvt_boot *b = (struct uw_hvt_boot *)(h->mem + UW_HVT_BOOT_BASE);
    memset(b, 0, sizeof(*b));
    b->abi_version = UW_HVT_ABI_VERSION;
    b->mem_size = h->mem_size;
    b->heap_start = (h->image_end + 0xfff) & ~0xfffULL;
    b->heap_end = HVT_GUARD(h);
    if (b->heap_start > b->heap_end)
        b->heap_start = b->heap_end;
    b->cmdline = UW_HVT_CMDLINE_BASE;
    memcpy(h->mem + UW_HVT_MANIFEST_BASE, h->mft, h->mft_size);
    b->manifest = UW_HVT_MANIFEST_BASE;
    b->manifest_size = h->mft_size;
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd < 0 || read(fd, &b->random, sizeof(b->random)) != sizeof(b->random))
        hvt_die("cannot read /dev/urandom: %s", strerror(errno));
    close(fd);
}

int main(int argc, char **argv)
{
    static struct hvt h;
    static struct hvt_device_arg devs[MAX_DEVICE_ARGS];
    int ndevs = 0;
    uint64_t mem_size = (uint64_t)DEFAULT_MEM_MIB << 20;
    int describe = 0;
    int i;

    for (i = 1; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0) {
            printf(usage_text, DEFAULT_MEM_MIB);
            return 0;
        } else if (strcmp(a, "--describe") == 0) {
            describe = 1;
        } else if (strncmp(a, "--mem=", 6) == 0) {
            mem_size = parse_mem(a + 6);
        } else if (strncmp(a, "--net:", 6) == 0) {
            parse_device(devs, &ndevs, a, a + 6, UW_PLAT_DEVICE_NET);
        } else if (strncmp(a, "--block:", 8) == 0) {
            parse_device(devs, &ndevs, a, a + 8, UW_PLAT_DEVICE_BLOCK);
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

    hvt_manifest_read(&h, guest);
    if (describe) {
        hvt_manifest_print(&h);
        return 0;
    }
    /* Host resources first: devices, then KVM; then the guest runs. */
    hvt_manifest_attach(&h, devs, ndevs);
    hvt_kvm_init(&h, mem_size);
    hvt_elf_load(&h, guest);
    write_cmdline(&h, guest, argc - i, argv + i);
    write_boot_info(&h);
    hvt_vcpu_setup(&h, UW_HVT_BOOT_BASE);
    /* A closed stdout loses console output, it does not kill the guest. */
    signal(SIGPIPE, SIG_IGN);
    hvt_seccomp_lock(&h);
    /* _exit: no exit handlers run under the seccomp filter. */
    _exit(hvt_vcpu_run(&h));
}
