/*
 * devices.c - the host side of the guest's devices (tap interfaces, block
 * files), the guest command line and entropy (contracts: uw_tender.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include "uw_tender.h"

#define fail uw_tender_fail

int uw_tender_random(void *buf, size_t n, struct uw_tender_error *err)
{
    uint8_t *p = buf;
    while (n > 0) {
        ssize_t r = getrandom(p, n, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return fail(err, "getrandom: %s", r < 0 ? strerror(errno) : "no bytes");
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

/* The interface's MTU, or 1500 if it cannot be read. */
static uint32_t tap_mtu(const char *ifname)
{
    struct ifreq ifr;
    uint32_t mtu = 1500;
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0)
        return mtu;
    memset(&ifr, 0, sizeof ifr);
    memcpy(ifr.ifr_name, ifname, strlen(ifname));
    if (ioctl(s, SIOCGIFMTU, &ifr) == 0 && ifr.ifr_mtu >= 68 && ifr.ifr_mtu <= 65535)
        mtu = (uint32_t)ifr.ifr_mtu;
    close(s);
    return mtu;
}

bool uw_tender_net_offloads = true;

/* The guest asked for offloads: the virtio-net header on every frame
 * (10 + 2 bytes, num_buffers unused), then checksum and segmentation
 * offloads (the guest may then write GSO super-frames: the kernel takes
 * them from any tap with the header), or checksums only, or none (the
 * header stays). */
static int tap_offloads(int fd, struct uw_plat_device *d, const struct uw_tender_device_arg *arg,
                        struct uw_tender_error *err)
{
    int hdr = UW_PLAT_NET_VNET_HDR_SIZE;
    if (ioctl(fd, TUNSETVNETHDRSZ, &hdr) < 0)
        return fail(err, "%s: cannot set the tap's virtio-net header size: %s", arg->option,
                    strerror(errno));
    d->info.net.offloads = UW_PLAT_NET_OFFLOAD_VNET_HDR;
    if (ioctl(fd, TUNSETOFFLOAD, (unsigned long)(TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6)) == 0)
        d->info.net.offloads |= UW_PLAT_NET_OFFLOAD_CSUM | UW_PLAT_NET_OFFLOAD_TSO
                                | UW_PLAT_NET_OFFLOAD_GSO;
    else if (ioctl(fd, TUNSETOFFLOAD, (unsigned long)TUN_F_CSUM) == 0)
        d->info.net.offloads |= UW_PLAT_NET_OFFLOAD_CSUM;
    return 0;
}

static int open_tap(struct uw_plat_device *d, const struct uw_tender_device_arg *arg,
                    struct uw_tender_error *err)
{
    const char *ifname = arg->host;
    if (strlen(ifname) >= IFNAMSIZ)
        return fail(err, "%s: interface name too long", arg->option);
    /* TUNSETIFF would create a missing interface (if we may): refuse
     * instead, so a typo is an error and not a new, unconfigured link. */
    if (if_nametoindex(ifname) == 0)
        return fail(err, "%s: no such network interface (create it first, e.g. "
                    "ip tuntap add %s mode tap)", arg->option, ifname);
    int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return fail(err, "%s: cannot open /dev/net/tun: %s", arg->option, strerror(errno));
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    bool offloads = uw_tender_net_offloads && (d->flags & UW_PLAT_DEVICE_NET_OFFLOADS);
    ifr.ifr_flags = (short)(IFF_TAP | IFF_NO_PI | (offloads ? IFF_VNET_HDR : 0));
    memcpy(ifr.ifr_name, ifname, strlen(ifname));
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
        fail(err, "%s: cannot attach to the tap interface: %s", arg->option, strerror(errno));
        close(fd);
        return -1;
    }
    d->info.net.offloads = 0;
    if (offloads && tap_offloads(fd, d, arg, err) < 0) {
        close(fd);
        return -1;
    }
    if (uw_tender_random(d->info.net.mac_address, 6, err) < 0) {
        close(fd);
        return -1;
    }
    d->info.net.mac_address[0] = (uint8_t)((d->info.net.mac_address[0] & 0xfc) | 0x02);
    d->info.net.mtu = tap_mtu(ifname);
    return fd;
}

static int open_block(struct uw_plat_device *d, const struct uw_tender_device_arg *arg,
                      struct uw_tender_error *err)
{
    struct stat st;
    uint64_t capacity;
    /* O_DSYNC: a guest's write is durable on the host (data and size)
     * when its pwrite returns, so a block device needs no flush call and
     * an acknowledged write survives a host crash, with no system call
     * beyond the filter's pwrite64. */
    int fd = open(arg->host, O_RDWR | O_CLOEXEC | O_DSYNC);
    if (fd < 0)
        return fail(err, "%s: %s", arg->option, strerror(errno));
    if (fstat(fd, &st) < 0)
        goto fail_errno;
    if (S_ISREG(st.st_mode)) {
        capacity = (uint64_t)st.st_size;
    } else if (S_ISBLK(st.st_mode)) {
        if (ioctl(fd, BLKGETSIZE64, &capacity) < 0)
            goto fail_errno;
    } else {
        fail(err, "%s: not a file or block device", arg->option);
        goto fail;
    }
    if (capacity == 0 || capacity % UW_TENDER_BLOCK_SIZE) {
        fail(err, "%s: size %llu is not a non-zero multiple of %d bytes", arg->option,
             (unsigned long long)capacity, UW_TENDER_BLOCK_SIZE);
        goto fail;
    }
    d->info.block.capacity = capacity;
    d->info.block.block_size = UW_TENDER_BLOCK_SIZE;
    return fd;
fail_errno:
    fail(err, "%s: %s", arg->option, strerror(errno));
fail:
    close(fd);
    return -1;
}

int uw_tender_device_open(struct uw_plat_device *d, const struct uw_tender_device_arg *arg,
                          struct uw_tender_error *err)
{
    int fd = d->type == UW_PLAT_DEVICE_NET ? open_tap(d, arg, err) : open_block(d, arg, err);
    if (fd >= 0)
        d->attached = 1;
    return fd;
}

int uw_tender_cmdline(char *out, size_t size, const char *guest, char *const *args,
                      int nargs, struct uw_tender_error *err)
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
    if (n >= size)
        return fail(err, "guest command line longer than %zu bytes", size - 1);
    out[n] = 0;
    return 0;
}
