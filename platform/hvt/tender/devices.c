/*
 * devices.c - opening the host side of the guest's devices: tap interfaces
 * for net devices, files for block devices.  Done before the guest runs;
 * any failure stops the tender with one line.
 */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/if_tun.h>

#include "hvt.h"

/* A locally administered unicast MAC, random per run. */
static void random_mac(uint8_t mac[6])
{
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd < 0 || read(fd, mac, 6) != 6)
        hvt_die("cannot read /dev/urandom: %s", strerror(errno));
    close(fd);
    mac[0] = (uint8_t)((mac[0] & 0xfc) | 0x02);
}

void hvt_open_tap(struct hvt *h, int i, const struct hvt_device_arg *arg)
{
    const char *ifname = arg->host;
    if (strlen(ifname) >= IFNAMSIZ)
        hvt_die("%s: interface name too long", arg->option);
    if (if_nametoindex(ifname) == 0)
        hvt_die("%s: no such network interface (create it first, e.g. "
                "ip tuntap add %s mode tap)", arg->option, ifname);
    int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        hvt_die("%s: cannot open /dev/net/tun: %s", arg->option,
                strerror(errno));
    struct ifreq ifr;
    memset(&ifr, 0, sizeof(ifr));
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
    memcpy(ifr.ifr_name, ifname, strlen(ifname));
    if (ioctl(fd, TUNSETIFF, &ifr) < 0)
        hvt_die("%s: cannot attach to the tap interface: %s", arg->option,
                strerror(errno));
    struct uw_plat_device *d = &h->mft->devices[i];
    h->dev[i] = (struct hvt_device){ .type = UW_PLAT_DEVICE_NET, .fd = fd };
    random_mac(d->info.net.mac_address);
    d->info.net.mtu = HVT_NET_MTU;
}

void hvt_open_block(struct hvt *h, int i, const struct hvt_device_arg *arg)
{
    int fd = open(arg->host, O_RDWR | O_CLOEXEC);
    if (fd < 0)
        hvt_die("%s: %s", arg->option, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
        hvt_die("%s: not a regular file", arg->option);
    if (st.st_size % HVT_BLOCK_SIZE != 0)
        hvt_die("%s: size %lld is not a multiple of %d bytes", arg->option,
                (long long)st.st_size, HVT_BLOCK_SIZE);
    struct uw_plat_device *d = &h->mft->devices[i];
    h->dev[i] = (struct hvt_device){
        .type = UW_PLAT_DEVICE_BLOCK, .fd = fd,
        .capacity = (uint64_t)st.st_size, .block_size = HVT_BLOCK_SIZE,
    };
    d->info.block.capacity = (uint64_t)st.st_size;
    d->info.block.block_size = HVT_BLOCK_SIZE;
}
