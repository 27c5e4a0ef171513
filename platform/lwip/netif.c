/*
 * The service interface: lwIP's netif driver over the platform's net
 * device, its configuration from the command line, and lwIP's system
 * glue (clock, random numbers, memory within a budget).  Contract in
 * uw_lwip.h.
 *
 * Without --ipv4 the interface is configured by lwIP's DHCP client: it
 * comes up without an address, dhcp_start asks the link's DHCP server,
 * and lwIP renews (or rebinds, or starts over) as the lease says.  Every
 * poll compares the interface's address with the last one announced: a
 * new lease (or a new address after a renewal) gives one log line, a
 * lost lease another.  If no lease came within DHCP_WARN_MS, one line
 * says so; lwIP keeps asking.
 *
 * With --ipv6 the interface also speaks IPv6: a link-local address from
 * the MAC, the static address of --ipv6=ADDR/PREFIX and/or the addresses
 * SLAAC forms from router advertisements (--ipv6=slaac).  Each address
 * goes through duplicate address detection; an address that becomes
 * usable (or turns out to be taken) gives one log line.
 */
#include "uw_lwip.h"
#include <uweb/event_source.h>
#include "guest.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lwip/dhcp.h"
#include "lwip/dns.h"
#include "lwip/init.h"
#include "lwip/etharp.h"
#include "lwip/ip4_addr.h"
#include "lwip/ip6_addr.h"
#include "lwip/ip4_frag.h"
#include "lwip/ip6_frag.h"
#include "lwip/ethip6.h"
#include "lwip/nd6.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/tcp.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/timeouts.h"
#include "netif/ethernet.h"

/* lwIP's own fragmentation (lwipopts.h gives these names to the glue's
 * uw_lwip_ip4_frag and uw_lwip_ip6_frag, below). */
#undef ip4_frag
#undef ip6_frag
err_t ip4_frag(struct pbuf *p, struct netif *netif, const ip4_addr_t *dest);
err_t ip6_frag(struct pbuf *p, struct netif *netif, const ip6_addr_t *dest);

/* Frames read per poll: enough to drain a burst, few enough that tasks
 * run between bursts of a flood. */
#define FRAMES_PER_POLL 128

/* Connections in TIME-WAIT kept at most (the newest); lwIP looks
 * through them for every segment that matches no open connection. */
#define TIME_WAIT_MAX 512
#define TIME_WAIT_TRIM_NS 250000000

/* A frame shorter than 512 bytes or than half the receive buffer (on a
 * link with a large MTU) is copied into a pbuf of its own size, and the
 * buffer takes the next frame: data waiting to be read never holds more
 * than twice its size. */
#define COPY_BELOW 512

/* Without a lease this long after start, a line says so (once). */
#define DHCP_WARN_MS 10000

unsigned int uw_lwip_tcp_wnd, uw_lwip_tcp_snd_buf;

static struct {
    bool configured, gw_given, started;
    bool dhcp;                 /* no --ipv4: the address comes from DHCP */
    bool dhcp_warned;          /* the "no lease yet" line was written */
    ip4_addr_t dhcp_shown;     /* the address last announced (0: none) */
    uint64_t dhcp_since;       /* when DHCP started (monotonic ns) */
    int start_result;
    ip4_addr_t addr, mask, gw;
    ip4_addr_t dns[DNS_MAX_SERVERS];   /* --dns, in order */
    int ndns;
    char addr_text[16];
    bool ip6;                  /* --ipv6 given: IPv6 on the interface */
    bool ip6_slaac;            /* --ipv6=slaac */
    bool ip6_static;           /* --ipv6=ADDR/PREFIX */
    bool ip6_gw_given;
    ip6_addr_t ip6_addr, ip6_gw;
    u8_t ip6_shown[LWIP_IPV6_NUM_ADDRESSES];   /* state last announced per slot */
    ip6_addr_t ip6_shown_addr[LWIP_IPV6_NUM_ADDRESSES];
    struct netif netif;
    uw_plat_handle_t handle;
    struct uw_plat_net_info info;
    struct pbuf *rx_spare;     /* receive buffer: mtu + 14 bytes */
    bool vnet;                 /* frames carry a virtio-net header (offloads) */
    uint8_t *rx_big;           /* with offloads: UW_PLAT_NET_OFFLOAD_FRAME_MAX bytes */
    struct rx_block *rx_block; /* with offloads: the next frame's block (NULL: none) */
    uint64_t bad_vnet;         /* frames dropped for a malformed header */
    bool gso;                  /* OFFLOAD_GSO: super-frames and TCP sums by the host */
    uint8_t *tx_buf;           /* a chained frame is gathered here */
    size_t mem_used, mem_limit;
    uint64_t rand_state;
    uint64_t next_trim;
} N;

const char uw_lwip_options_help[] =
"    --ipv4=ADDR/PREFIX      the unikernel's IPv4 address on its network\n"
"                            (without it: address and gateway by DHCP)\n"
"    --ipv4-gateway=ADDR     default route (with --ipv4)\n"
"    --ipv6=ADDR/PREFIX      an IPv6 address of the unikernel (e.g. fd00::2/64; lwIP\n"
"                            treats the address's /64 as on-link)\n"
"    --ipv6=slaac            IPv6 addresses from the link's router advertisements\n"
"                            (SLAAC); both forms may be given; with either the\n"
"                            service listens on IPv4 and IPv6 (::)\n"
"    --ipv6-gateway=ADDR     IPv6 default route (e.g. fe80::1; without it: the\n"
"                            routers that advertise themselves)\n"
"    --dns=ADDR              a DNS server for host names (repeatable, two at\n"
"                            most; without it: the DHCP lease's)\n";

/* ------------------------------------------------------------ options */

static bool parse_ip4(const char *s, ip4_addr_t *out)
{
    unsigned v[4];
    const char *p = s;
    for (int i = 0; i < 4; i++) {
        if (*p < '0' || *p > '9') return false;
        unsigned x = 0;
        int digits = 0;
        while (*p >= '0' && *p <= '9') {
            x = x * 10 + (unsigned)(*p++ - '0');
            if (++digits > 3 || x > 255) return false;
        }
        v[i] = x;
        if (i < 3 && *p++ != '.') return false;
    }
    if (*p) return false;
    IP4_ADDR(out, v[0], v[1], v[2], v[3]);
    return true;
}

/* "ADDR/PREFIX": ADDR into buf (NUL-terminated), the prefix length
 * (1..max) returned; -1 when malformed or ADDR does not fit. */
static long split_prefix(const char *v, char *buf, size_t size, long max)
{
    const char *slash = strchr(v, '/');
    size_t n = slash ? (size_t)(slash - v) : 0;
    char *end = NULL;
    long prefix = -1;
    if (slash && slash[1] >= '0' && slash[1] <= '9') prefix = strtol(slash + 1, &end, 10);
    if (!slash || n == 0 || n >= size || prefix < 1 || prefix > max || *end) return -1;
    memcpy(buf, v, n);
    buf[n] = 0;
    return prefix;
}

int uw_lwip_option(const char *arg)
{
    if (strncmp(arg, "--ipv4=", 7) == 0) {
        char buf[32];
        const char *v = arg + 7;
        long prefix = split_prefix(v, buf, sizeof buf, 32);
        if (prefix < 0) {
            fprintf(stderr, "uweb: --ipv4 needs ADDR/PREFIX (e.g. --ipv4=10.0.0.2/24), not \"%s\"\n", v);
            return -1;
        }
        size_t n = strlen(buf);
        ip4_addr_t a;
        if (!parse_ip4(buf, &a)) {
            fprintf(stderr, "uweb: --ipv4: \"%s\" is not an IPv4 address\n", buf);
            return -1;
        }
        N.addr = a;
        ip4_addr_set_u32(&N.mask, lwip_htonl(prefix == 32 ? 0xffffffffu : ~(0xffffffffu >> prefix)));
        memcpy(N.addr_text, buf, n + 1);
        N.configured = true;
        return 1;
    }
    if (strncmp(arg, "--ipv4-gateway=", 15) == 0) {
        if (!parse_ip4(arg + 15, &N.gw)) {
            fprintf(stderr, "uweb: --ipv4-gateway: \"%s\" is not an IPv4 address\n", arg + 15);
            return -1;
        }
        N.gw_given = true;
        return 1;
    }
    if (strcmp(arg, "--ipv6=slaac") == 0) {
        N.ip6 = N.ip6_slaac = true;
        return 1;
    }
    if (strncmp(arg, "--ipv6=", 7) == 0) {
        char buf[48];
        const char *v = arg + 7;
        if (split_prefix(v, buf, sizeof buf, 128) < 0) {
            fprintf(stderr, "uweb: --ipv6 needs ADDR/PREFIX (e.g. --ipv6=fd00::2/64) or slaac, not \"%s\"\n", v);
            return -1;
        }
        ip6_addr_t a;
        if (!ip6addr_aton(buf, &a) || ip6_addr_ismulticast(&a) || ip6_addr_isany(&a)
            || ip6_addr_isloopback(&a)) {
            fprintf(stderr, "uweb: --ipv6: \"%s\" is not a unicast IPv6 address\n", buf);
            return -1;
        }
        N.ip6_addr = a;
        N.ip6 = N.ip6_static = true;
        return 1;
    }
    if (strncmp(arg, "--ipv6-gateway=", 15) == 0) {
        ip6_addr_t a;
        if (!ip6addr_aton(arg + 15, &a) || ip6_addr_ismulticast(&a) || ip6_addr_isany(&a)) {
            fprintf(stderr, "uweb: --ipv6-gateway: \"%s\" is not a unicast IPv6 address\n", arg + 15);
            return -1;
        }
        N.ip6_gw = a;
        N.ip6_gw_given = true;
        return 1;
    }
    if (strncmp(arg, "--dns=", 6) == 0) {
        ip4_addr_t a;
        if (!parse_ip4(arg + 6, &a)) {
            fprintf(stderr, "uweb: --dns: \"%s\" is not an IPv4 address\n", arg + 6);
            return -1;
        }
        if (N.ndns >= DNS_MAX_SERVERS) {
            fprintf(stderr, "uweb: --dns: %d servers at most\n", DNS_MAX_SERVERS);
            return -1;
        }
        N.dns[N.ndns++] = a;
        return 1;
    }
    return 0;
}

const char *uw_lwip_address(void)
{
    return N.configured ? N.addr_text : NULL;
}

bool uw_lwip_ipv6(void) { return N.ip6; }

/* lwIP's LWIP_HOOK_ND6_GET_GW (lwipopts.h): --ipv6-gateway for every
 * destination off the link. */
const struct ip6_addr *uw_lwip_ip6_gateway(struct netif *netif, const struct ip6_addr *dest)
{
    (void)netif;
    (void)dest;
    return N.ip6_gw_given ? &N.ip6_gw : NULL;
}

/* ------------------------------------------------------------ system glue */

u32_t sys_now(void)
{
    return (u32_t)(uw_plat_clock_monotonic() / 1000000u);
}

unsigned int uw_lwip_rand(void)
{
    /* xorshift64*, seeded from both clocks: port numbers and initial
     * sequence numbers only need to differ between runs. */
    if (!N.rand_state)
        N.rand_state = (uw_plat_clock_wall() ^ (uw_plat_clock_monotonic() << 17)
                        ^ (uint64_t)(uintptr_t)&N) | 1;
    uint64_t x = N.rand_state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    N.rand_state = x;
    return (unsigned int)((x * 0x2545F4914F6CDD1Dull) >> 32);
}

void *uw_lwip_malloc(size_t size)
{
    if (N.mem_limit && N.mem_used + size > N.mem_limit) return NULL;
    void *p = malloc(size);
    if (!p) return NULL;
    N.mem_used += malloc_usable_size(p);
    return p;
}

void *uw_lwip_calloc(size_t count, size_t size)
{
    if (size && count > SIZE_MAX / size) return NULL;
    void *p = uw_lwip_malloc(count * size);
    if (p) memset(p, 0, count * size);
    return p;
}

void uw_lwip_free(void *p)
{
    if (!p) return;
    N.mem_used -= malloc_usable_size(p);
    free(p);
}

/* lwIP's checksum (LWIP_CHKSUM): the 16-bit one's complement sum of
 * DATA in network byte order, not complemented, as lwip_standard_chksum
 * returns it; 32-bit words into a 64-bit sum, folded at the end.  Same
 * results as lwIP's own for every length and alignment. */
uint16_t uw_lwip_chksum(const void *data, int len)
{
    const uint8_t *p = data;
    uint64_t sum = 0;
    int odd = (int)((uintptr_t)p & 1);
    if (len <= 0) return 0;
    if (odd) {                       /* the first byte is the high half of a word */
        sum = (uint64_t)p[0] << 8;
        p++;
        len--;
    }
    while (len > 0 && ((uintptr_t)p & 7)) {
        if (len == 1) { sum += p[0]; len = 0; break; }
        uint16_t w;
        memcpy(&w, p, 2);
        sum += w;
        p += 2;
        len -= 2;
    }
    while (len >= 32) {
        uint32_t w[8];
        memcpy(w, p, 32);
        sum += (uint64_t)w[0] + w[1] + w[2] + w[3] + w[4] + w[5] + w[6] + w[7];
        p += 32;
        len -= 32;
    }
    while (len >= 4) {
        uint32_t w;
        memcpy(&w, p, 4);
        sum += w;
        p += 4;
        len -= 4;
    }
    if (len >= 2) {
        uint16_t w;
        memcpy(&w, p, 2);
        sum += w;
        p += 2;
        len -= 2;
    }
    if (len) sum += p[0];
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    if (odd) sum = ((sum & 0xff) << 8) | (sum >> 8);
    return (uint16_t)sum;
}


/* ------------------------------------------------------------ driver */

/* The virtio-net header of a frame (struct virtio_net_hdr_v1). */
#define VNET_F_NEEDS_CSUM 1
#define VNET_F_DATA_VALID 2
#define VNET_GSO_NONE 0
#define VNET_GSO_TCPV4 1
#define VNET_GSO_UDP 3
#define VNET_GSO_TCPV6 4
#define VNET_GSO_ECN 0x80

/*
 * Sending with OFFLOAD_GSO.  lwIP builds segments of up to 16 KiB (see
 * uw_lwip_tcp_segments), each of which would be one write to the host.
 * Here consecutive data segments of one connection (same addresses and
 * ports, each starting where the last ended, same ACK, window, options
 * and wire MSS, only ACK and PSH set) are gathered into one super-frame
 * of up to 64 KiB that the host cuts into segments of the wire MSS
 * (gso_type TCPV4/TCPV6, gso_size the MSS less the options); any TCP
 * frame with more payload than that goes with the same request.  The
 * host also computes every TCP checksum (NEEDS_CSUM; lwIP's are off on
 * this interface).  Nothing is copied but the first
 * segment's headers: the super-frame is a list of pieces (its headers,
 * then each segment's payload in lwIP's own pbuf, referenced until the
 * write) that goes to the host in one uw_plat_net_writev.  The frame
 * being gathered goes out when a frame that does not continue it comes
 * (any other frame goes out after it, so the link keeps lwIP's order),
 * when it is full, at the end of each uw_lwip_poll and before the
 * runtime waits (the event source's flush): nothing is held while the
 * guest sleeps.
 */
#define GSO_HDR_MAX (14 + 60 + 60)     /* Ethernet, IPv4 with options, TCP with options */
static struct {
    uint8_t hdr[UW_PLAT_NET_VNET_HDR_SIZE + GSO_HDR_MAX];  /* header + the first segment's */
    size_t len;                /* header + frame bytes gathered; 0: nothing gathered */
    size_t l4;                 /* offset of the TCP header in the frame */
    size_t hlen;               /* Ethernet + IP + TCP header bytes */
    bool v6;
    uint16_t mss;              /* payload bytes per segment on the wire (gso_size) */
    uint32_t next_seq;
    unsigned segs;
    struct uw_plat_iovec iov[UW_PLAT_NET_IOV_MAX];  /* hdr, then one payload per segment */
    struct pbuf *held[UW_PLAT_NET_IOV_MAX];         /* the segments' pbufs (referenced) */
} G;

/* A pure ACK held back (see link_output_gso) and the connection and
 * acknowledgment of the last TCP frame written. */
static struct {
    uint8_t frame[UW_PLAT_NET_VNET_HDR_SIZE + GSO_HDR_MAX];  /* room for the header, then the ACK */
    size_t len;                /* the ACK's bytes; 0: none held */
    size_t l4;
    bool v6;
} A;
static struct {
    uint8_t hdr[GSO_HDR_MAX];  /* its headers up to the ports */
    size_t l4;
    bool v6, valid;
    uint32_t ack;
} W;

static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void put16le(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }

/* A TCP frame of LEN bytes: the offset of its TCP header, its headers'
 * size and its payload's; false for anything else (other protocols,
 * IPv4 fragments, IPv6 extension headers, truncated headers). */
static bool tcp_frame(const uint8_t *f, size_t len, bool *v6, size_t *l4, size_t *hlen,
                      size_t *payload)
{
    size_t ipend;
    if (len < 14 + 20) return false;
    if (f[12] == 0x08 && f[13] == 0x00) {
        const uint8_t *ip = f + 14;
        size_t ihl = (size_t)(ip[0] & 0x0f) * 4;
        if ((ip[0] >> 4) != 4 || ihl < 20 || ip[9] != IP_PROTO_TCP || ((ip[6] & 0x3f) | ip[7]) != 0)
            return false;
        *v6 = false;
        *l4 = 14 + ihl;
        ipend = 14 + (size_t)get16(ip + 2);
    } else if (f[12] == 0x86 && f[13] == 0xdd) {
        if (len < 14 + 40 || f[14 + 6] != IP_PROTO_TCP) return false;
        *v6 = true;
        *l4 = 14 + 40;
        ipend = 14 + 40 + (size_t)get16(f + 14 + 4);
    } else {
        return false;
    }
    if (ipend > len || *l4 + 20 > ipend) return false;
    size_t thl = (size_t)(f[*l4 + 12] >> 4) * 4;
    if (thl < 20 || *l4 + thl > ipend) return false;
    *hlen = *l4 + thl;
    *payload = ipend - *hlen;
    return true;
}

/* The TCP checksum field as NEEDS_CSUM wants it: the pseudo-header's
 * sum (not complemented) for a TCP header and payload of TCPLEN bytes. */
static void tcp_pseudo_sum(uint8_t *f, size_t l4, bool v6, size_t tcplen)
{
    uint32_t sum = IP_PROTO_TCP + (uint32_t)(tcplen & 0xffff) + (uint32_t)(tcplen >> 16);
    const uint8_t *a = v6 ? f + 14 + 8 : f + 14 + 12;
    for (int i = 0; i < (v6 ? 32 : 8); i += 2) sum += get16(a + i);
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    put16(f + l4 + 16, (uint16_t)sum);
}

/* Fills the virtio-net header at BUF for the frame of FLEN bytes whose
 * headers follow it: NEEDS_CSUM for TCP; a super-frame when its payload
 * is over MSS bytes, for the host to cut into segments of MSS bytes.
 * Only the frame's headers are touched. */
static void vnet_header(uint8_t *buf, size_t flen, bool tcp, bool v6, size_t l4, size_t hlen,
                        uint16_t mss)
{
    uint8_t *h = buf, *f = buf + UW_PLAT_NET_VNET_HDR_SIZE;
    memset(h, 0, UW_PLAT_NET_VNET_HDR_SIZE);
    if (tcp) {
        /* A gathered frame is longer than its first segment said. */
        if (v6) {
            put16(f + 14 + 4, (uint16_t)(flen - 14 - 40));
        } else if (get16(f + 14 + 2) != flen - 14) {
            uint8_t *ip = f + 14;
            put16(ip + 2, (uint16_t)(flen - 14));
            put16(ip + 10, 0);
            uint16_t sum = (uint16_t)~uw_lwip_chksum(ip, (int)(l4 - 14));  /* network order */
            memcpy(ip + 10, &sum, 2);
        }
        if (flen - hlen > mss) {
            h[1] = v6 ? VNET_GSO_TCPV6 : VNET_GSO_TCPV4;
            put16le(h + 2, (uint16_t)hlen);
            put16le(h + 4, mss);
        }
        tcp_pseudo_sum(f, l4, v6, flen - l4);
        h[0] = VNET_F_NEEDS_CSUM;
        put16le(h + 6, (uint16_t)l4);
        put16le(h + 8, 16);
    }
}

/* A full queue on the host (AGAIN) drops the frame, as a saturated link
 * would: TCP sends it again. */
static err_t net_result(uw_plat_result_t r)
{
    if (r != UW_PLAT_OK) return r == UW_PLAT_AGAIN ? ERR_OK : ERR_IF;
    return ERR_OK;
}

/* Whether TCP frames F and G (TCP headers at L4) are of one connection:
 * the same link and IP addresses and ports. */
static bool same_flow(const uint8_t *f, const uint8_t *g, bool v6, size_t l4)
{
    if (memcmp(f, g, 14) != 0) return false;
    if (v6 ? memcmp(f + 14 + 8, g + 14 + 8, 32) != 0 : memcmp(f + 26, g + 26, 8) != 0) return false;
    return memcmp(f + l4, g + l4, 4) == 0;
}

/* Remembers the TCP frame F (TCP header at L4) as the last one written. */
static void wrote_tcp(const uint8_t *f, bool v6, size_t l4)
{
    memcpy(W.hdr, f, l4 + 4);
    W.l4 = l4;
    W.v6 = v6;
    W.ack = get32(f + l4 + 8);
    W.valid = true;
}

/* Writes header + frame (LEN bytes at BUF): one segment, or for the host
 * to cut into segments of MSS payload bytes. */
static err_t vnet_write(uint8_t *buf, size_t len, bool tcp, bool v6, size_t l4, size_t hlen,
                        uint16_t mss)
{
    vnet_header(buf, len - UW_PLAT_NET_VNET_HDR_SIZE, tcp, v6, l4, hlen, mss);
    if (tcp) wrote_tcp(buf + UW_PLAT_NET_VNET_HDR_SIZE, v6, l4);
    return net_result(uw_plat_net_write(N.handle, buf, len));
}

/* Sends the ACK held back, if any. */
static void ack_send(void)
{
    if (!A.len) return;
    size_t len = A.len;
    A.len = 0;
    vnet_write(A.frame, UW_PLAT_NET_VNET_HDR_SIZE + len, true, A.v6, A.l4, len, 0xffff);
}

/* Sends the frame being gathered, if any, and lets go of its pbufs. */
static void gso_flush(void)
{
    if (!G.len) return;
    unsigned n = G.segs + 1;
    vnet_header(G.hdr, G.len - UW_PLAT_NET_VNET_HDR_SIZE, true, G.v6, G.l4, G.hlen, G.mss);
    wrote_tcp(G.hdr + UW_PLAT_NET_VNET_HDR_SIZE, G.v6, G.l4);
    uw_plat_net_writev(N.handle, G.iov, n);
    for (unsigned i = 0; i < G.segs; i++) pbuf_free(G.held[i]);
    G.len = 0;
    G.segs = 0;
}

/* Whether TCP frames F and G (headers HLEN bytes, TCP's at L4) are of
 * one connection with the same IP header fields (IPv4's TOS and TTL,
 * IPv6's class and flow) and the same TCP options. */
static bool same_path(const uint8_t *f, const uint8_t *g, bool v6, size_t l4, size_t hlen)
{
    if (memcmp(f, g, 14) != 0) return false;
    if (v6 ? memcmp(f + 14, g + 14, 4) != 0 || memcmp(f + 14 + 7, g + 14 + 7, 33) != 0
           : f[15] != g[15] || f[22] != g[22] || memcmp(f + 26, g + 26, 8) != 0)
        return false;
    return memcmp(f + l4, g + l4, 4) == 0 && memcmp(f + l4 + 20, g + l4 + 20, hlen - l4 - 20) == 0;
}

/* Whether the TCP segment F (header HLEN bytes, PAYLOAD after it, MSS
 * bytes per segment on the wire) continues the frame being gathered. */
static bool gso_continues(const uint8_t *f, bool v6, size_t l4, size_t hlen, size_t payload,
                          uint16_t mss)
{
    const uint8_t *g = G.hdr + UW_PLAT_NET_VNET_HDR_SIZE;
    if (!G.len || v6 != G.v6 || l4 != G.l4 || hlen != G.hlen || mss != G.mss
        || G.len + payload > UW_PLAT_NET_OFFLOAD_FRAME_MAX
        || G.len - UW_PLAT_NET_VNET_HDR_SIZE - 14 + payload > 65535
        || get32(f + l4 + 4) != G.next_seq)
        return false;
    /* Same connection and options, ACK, flags but PSH, window. */
    return same_path(f, g, v6, l4, hlen) && memcmp(f + l4 + 8, g + l4 + 8, 5) == 0
        && ((f[l4 + 13] ^ g[l4 + 13]) & ~TCP_PSH) == 0
        && memcmp(f + l4 + 14, g + l4 + 14, 2) == 0;
}

/* Whether the pure ACK F (HLEN bytes, no payload) can be folded into the
 * frame being gathered: the same connection (as gso_continues checks),
 * its sequence number where the gathered data ends, the same options,
 * and an acknowledgment beyond the gathered one (a duplicate ACK is
 * never folded: the peer counts those).  The gathered segments then
 * carry its acknowledgment and window, as they would had lwIP built
 * them a moment later, and the ACK itself is not sent: on a connection
 * that receives while it sends (Crunch & Zip) the super-frames keep
 * growing instead of being cut by every ACK. */
static bool gso_folds_ack(uint8_t *f, bool v6, size_t l4, size_t hlen)
{
    uint8_t *g = G.hdr + UW_PLAT_NET_VNET_HDR_SIZE;
    if (!G.len || v6 != G.v6 || l4 != G.l4 || hlen != G.hlen || get32(f + l4 + 4) != G.next_seq
        || (int32_t)(get32(f + l4 + 8) - get32(g + l4 + 8)) <= 0)
        return false;
    if (!same_path(f, g, v6, l4, hlen)) return false;
    memcpy(g + l4 + 8, f + l4 + 8, 4);     /* acknowledgment number */
    memcpy(g + l4 + 14, f + l4 + 14, 2);   /* window */
    return true;
}

/* The payload bytes of each segment on the wire for a TCP frame (TCP
 * header at L4, headers HLEN bytes) whose pbuf says MSS (the
 * connection's MSS, set by uw_lwip_tcp_opts; the link's when it is not
 * plausible): the MSS less the frame's TCP options. */
static uint16_t wire_payload(uint16_t mss, size_t l4, size_t hlen)
{
    size_t link = N.info.mtu - (l4 - 14) - 20;
    size_t m = mss >= 64 && mss <= link ? mss : link;
    return (uint16_t)(m - (hlen - l4 - 20));
}

/* With OFFLOAD_GSO: FRAME (LEN bytes, VNET_HDR_SIZE bytes of room in
 * front of it) gathered or sent.  OWNER is the pbuf FRAME is in (NULL:
 * a buffer of the glue's, sent at once); MSS is the pbuf's uw_mss. */
static err_t link_output_gso(uint8_t *frame, size_t len, struct pbuf *owner, uint16_t mss)
{
    bool v6 = false;
    size_t l4 = 0, hlen = 0, payload = 0;
    bool tcp = tcp_frame(frame, len, &v6, &l4, &hlen, &payload);
    if (tcp) mss = wire_payload(mss, l4, hlen);
    bool data = owner && tcp && payload > 0 && hlen + payload == len
                && (frame[l4 + 13] & ~(TCP_ACK | TCP_PSH)) == 0
                && (frame[l4 + 13] & TCP_ACK);
    bool pure_ack = tcp && payload == 0 && hlen == len && frame[l4 + 13] == TCP_ACK;
    if (A.len) {
        /* A data segment of the ACK's connection that starts where the
         * ACK stood and acknowledges as much carries what it said; so
         * does a pure ACK that acknowledges more (one that acknowledges
         * the same is a duplicate: both go). */
        const uint8_t *a = A.frame + UW_PLAT_NET_VNET_HDR_SIZE;
        int32_t more_acked = (int32_t)(get32(frame + l4 + 8) - get32(a + l4 + 8));
        if ((data || pure_ack) && v6 == A.v6 && l4 == A.l4 && same_flow(frame, a, v6, l4)
            && get32(frame + l4 + 4) == get32(a + l4 + 4) && (data ? more_acked >= 0 : more_acked > 0))
            A.len = 0;
        else
            ack_send();
    }
    if (data && gso_continues(frame, v6, l4, hlen, payload, mss)) {
        uint8_t *g = G.hdr + UW_PLAT_NET_VNET_HDR_SIZE;
        pbuf_ref(owner);
        G.held[G.segs] = owner;
        G.iov[G.segs + 1] = (struct uw_plat_iovec){ frame + hlen, payload };
        G.segs++;
        G.len += payload;
        G.next_seq += (uint32_t)payload;
        g[l4 + 13] |= frame[l4 + 13] & TCP_PSH;
        if (G.segs + 1 == UW_PLAT_NET_IOV_MAX || G.len + G.mss > UW_PLAT_NET_OFFLOAD_FRAME_MAX
            || G.len - UW_PLAT_NET_VNET_HDR_SIZE - 14 + G.mss > 65535)
            gso_flush();
        return ERR_OK;
    }
    if (pure_ack && gso_folds_ack(frame, v6, l4, hlen)) return ERR_OK;
    gso_flush();
    /* A pure ACK that acknowledges more than the last frame written on
     * its connection (so not a duplicate ACK, which the peer counts) is
     * held until the next frame or the flush before the runtime waits:
     * when the service answers what it just received, the ACK's news
     * goes with the answer's first segment instead of in a frame of its
     * own.  It waits at most for the tasks the received data woke. */
    if (pure_ack && hlen <= GSO_HDR_MAX && W.valid && v6 == W.v6 && l4 == W.l4
        && same_flow(frame, W.hdr, v6, l4) && (int32_t)(get32(frame + l4 + 8) - W.ack) > 0) {
        memcpy(A.frame + UW_PLAT_NET_VNET_HDR_SIZE, frame, hlen);
        A.len = hlen;
        A.l4 = l4;
        A.v6 = v6;
        return ERR_OK;
    }
    if (data && hlen <= GSO_HDR_MAX && len <= UW_PLAT_NET_OFFLOAD_FRAME_MAX - UW_PLAT_NET_VNET_HDR_SIZE) {
        memcpy(G.hdr + UW_PLAT_NET_VNET_HDR_SIZE, frame, hlen);
        G.iov[0] = (struct uw_plat_iovec){ G.hdr, UW_PLAT_NET_VNET_HDR_SIZE + hlen };
        pbuf_ref(owner);
        G.held[0] = owner;
        G.iov[1] = (struct uw_plat_iovec){ frame + hlen, payload };
        G.segs = 1;
        G.len = UW_PLAT_NET_VNET_HDR_SIZE + len;
        G.l4 = l4;
        G.hlen = hlen;
        G.v6 = v6;
        G.mss = mss;
        G.next_seq = get32(frame + l4 + 4) + (uint32_t)payload;
        return ERR_OK;
    }
    return vnet_write(frame - UW_PLAT_NET_VNET_HDR_SIZE, len + UW_PLAT_NET_VNET_HDR_SIZE, tcp, v6,
                      l4, hlen, mss);
}

/*
 * Segments larger than the MSS.  With OFFLOAD_GSO a connection's lwIP
 * MSS (pcb->mss, the size of the segments tcp_write builds) becomes a
 * multiple of its MSS on the wire, up to TSO_BYTES, once it is
 * established (uw_lwip_tcp_segments, from the first write): lwIP then
 * runs once per 16 KiB instead of once per 1,460 bytes, and the host
 * cuts each segment at the wire MSS, which the connection keeps in its
 * ext arg and every TCP segment carries to the glue in its pbuf
 * (uw_lwip_tcp_opts, lwIP's LWIP_HOOK_TCP_OUT_ADD_TCPOPTS).  lwIP counts
 * its congestion window in its own MSS: the first window, the one after
 * a timeout and the growth in congestion avoidance are in these larger
 * segments (about 11 of the wire's).  The window is never below one
 * segment, so lwIP can always send one.  Such segments exceed the MTU,
 * so lwIP's IP output would fragment them: uw_lwip_ip4_frag and
 * uw_lwip_ip6_frag (lwipopts.h) let TCP through as it is.
 */
#define TSO_BYTES 16384
static u8_t tcp_ext_id;

static uint16_t tcp_wire_mss(const struct tcp_pcb *pcb)
{
    uintptr_t m = (uintptr_t)tcp_ext_arg_get(pcb, tcp_ext_id);
    return m ? (uint16_t)m : pcb->mss;
}

uint32_t *uw_lwip_tcp_opts(struct pbuf *p, const struct tcp_pcb *pcb, uint32_t *opts)
{
    p->uw_mss = pcb && pcb->state != LISTEN ? tcp_wire_mss(pcb) : 0;
    return opts;
}

void uw_lwip_tcp_segments(struct tcp_pcb *pcb)
{
    if (!N.gso || !pcb || pcb->state != ESTABLISHED || tcp_ext_arg_get(pcb, tcp_ext_id)) return;
    unsigned mss = pcb->mss, most = TSO_BYTES;
    if (most > uw_lwip_tcp_snd_buf / 4) most = uw_lwip_tcp_snd_buf / 4;
    unsigned k = mss ? most / mss : 0;
    if (k < 2) return;
    tcp_ext_arg_set(pcb, tcp_ext_id, (void *)(uintptr_t)mss);
    pcb->mss = (u16_t)(k * mss);
    if (pcb->cwnd < pcb->mss) pcb->cwnd = pcb->mss;
}

err_t uw_lwip_ip4_frag(struct pbuf *p, struct netif *netif, const ip4_addr_t *dest)
{
    if (N.gso && p->len >= 20 && ((const u8_t *)p->payload)[9] == IP_PROTO_TCP)
        return netif->output(netif, p, dest);
    return ip4_frag(p, netif, dest);
}

err_t uw_lwip_ip6_frag(struct pbuf *p, struct netif *netif, const ip6_addr_t *dest)
{
    if (N.gso && p->len >= 40 && ((const u8_t *)p->payload)[6] == IP6_NEXTH_TCP)
        return netif->output_ip6(netif, p, dest);
    return ip6_frag(p, netif, dest);
}

/* With offloads: a zero header (nothing asked of the host) in front of
 * the frame, in the pbuf's own room when it has some. */
static err_t link_output_vnet(struct pbuf *p)
{
    if (N.gso) {
        if (!p->next && pbuf_add_header(p, UW_PLAT_NET_VNET_HDR_SIZE) == 0) {
            err_t e = link_output_gso((uint8_t *)p->payload + UW_PLAT_NET_VNET_HDR_SIZE,
                                      p->tot_len - (size_t)UW_PLAT_NET_VNET_HDR_SIZE, p, p->uw_mss);
            pbuf_remove_header(p, UW_PLAT_NET_VNET_HDR_SIZE);
            return e;
        }
        if (p->tot_len > N.info.mtu + 14) return ERR_IF;
        pbuf_copy_partial(p, N.tx_buf + UW_PLAT_NET_VNET_HDR_SIZE, p->tot_len, 0);
        return link_output_gso(N.tx_buf + UW_PLAT_NET_VNET_HDR_SIZE, p->tot_len, NULL, p->uw_mss);
    }
    uw_plat_result_t r;
    if (!p->next && pbuf_add_header(p, UW_PLAT_NET_VNET_HDR_SIZE) == 0) {
        memset(p->payload, 0, UW_PLAT_NET_VNET_HDR_SIZE);
        r = uw_plat_net_write(N.handle, p->payload, p->tot_len);
        pbuf_remove_header(p, UW_PLAT_NET_VNET_HDR_SIZE);
    } else {
        if (p->tot_len > N.info.mtu + 14) return ERR_IF;
        memset(N.tx_buf, 0, UW_PLAT_NET_VNET_HDR_SIZE);
        pbuf_copy_partial(p, N.tx_buf + UW_PLAT_NET_VNET_HDR_SIZE, p->tot_len, 0);
        r = uw_plat_net_write(N.handle, N.tx_buf, p->tot_len + (size_t)UW_PLAT_NET_VNET_HDR_SIZE);
    }
    if (r != UW_PLAT_OK) return r == UW_PLAT_AGAIN ? ERR_OK : ERR_IF;
    return ERR_OK;
}

static err_t link_output(struct netif *netif, struct pbuf *p)
{
    (void)netif;
    if (N.vnet) return link_output_vnet(p);
    const uint8_t *frame = p->payload;
    if (p->next) {
        if (p->tot_len > N.info.mtu + 14) return ERR_IF;
        pbuf_copy_partial(p, N.tx_buf, p->tot_len, 0);
        frame = N.tx_buf;
    }
    uw_plat_result_t r = uw_plat_net_write(N.handle, frame, p->tot_len);
    if (r != UW_PLAT_OK) {
        /* The host's queue is full (AGAIN) or the frame is refused: drop
         * it, as a saturated link would; TCP sends it again. */
        return r == UW_PLAT_AGAIN ? ERR_OK : ERR_IF;
    }
    return ERR_OK;
}

static err_t netif_setup(struct netif *netif)
{
    netif->name[0] = 's';
    netif->name[1] = 'v';
    netif->output = etharp_output;
    netif->output_ip6 = ethip6_output;
    netif->linkoutput = link_output;
    netif->mtu = (u16_t)(N.info.mtu > 65535 - 14 ? 65535 - 14 : N.info.mtu);
    netif->hwaddr_len = ETH_HWADDR_LEN;
    memcpy(netif->hwaddr, N.info.mac_address, ETH_HWADDR_LEN);
    netif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET;
    if (N.ip6) netif->flags |= NETIF_FLAG_MLD6;
    return ERR_OK;
}

/* After frames and timers: announces a new lease, a changed address or
 * a lost lease, once each; without a lease DHCP_WARN_MS after start, one
 * line, while lwIP goes on asking (discovers at growing intervals, at
 * most a minute apart).  lwIP's DHCP timer runs every 500 ms, so polls
 * come at least as often. */
static void dhcp_report(void)
{
    const ip4_addr_t *a = netif_ip4_addr(&N.netif);
    bool bound = dhcp_supplied_address(&N.netif);
    /* --dns wins over the lease's servers (lwIP sets those on each ACK). */
    for (int i = 0; bound && i < N.ndns; i++) {
        ip_addr_t d;
        ip_addr_copy_from_ip4(d, N.dns[i]);
        if (!ip_addr_cmp(dns_getserver((u8_t)i), &d)) dns_setserver((u8_t)i, &d);
    }
    if (!bound && !N.dhcp_warned
        && uw_plat_clock_monotonic() - N.dhcp_since >= (uint64_t)DHCP_WARN_MS * 1000000u) {
        fprintf(stderr, "uweb: DHCP: no lease after %d s on net device \"" UW_LWIP_DEVICE "\" "
                "(no DHCP server on its link?); still asking\n", DHCP_WARN_MS / 1000);
        N.dhcp_warned = true;
    }
    if (bound && !ip4_addr_cmp(a, &N.dhcp_shown)) {
        const struct dhcp *d = netif_dhcp_data(&N.netif);
        const ip4_addr_t *m = netif_ip4_netmask(&N.netif), *g = netif_ip4_gw(&N.netif);
        char addr[16], gw[16], lease[24];
        ip4addr_ntoa_r(a, addr, sizeof addr);
        if (ip4_addr_isany(g)) snprintf(gw, sizeof gw, "none");
        else ip4addr_ntoa_r(g, gw, sizeof gw);
        if (!d || d->offered_t0_lease == 0xffffffffUL) snprintf(lease, sizeof lease, "infinite");
        else snprintf(lease, sizeof lease, "%lu s", (unsigned long)d->offered_t0_lease);
        int prefix = 0;
        for (u32_t x = lwip_ntohl(ip4_addr_get_u32(m)); x & 0x80000000u; x <<= 1) prefix++;
        fprintf(stderr, "uweb: DHCP: address %s/%d, gateway %s, lease %s\n", addr, prefix, gw, lease);
        N.dhcp_shown = *a;
        N.dhcp_warned = true;
    } else if (!bound && !ip4_addr_isany_val(N.dhcp_shown)) {
        char addr[16];
        ip4addr_ntoa_r(&N.dhcp_shown, addr, sizeof addr);
        fprintf(stderr, "uweb: DHCP: the lease of %s ended; asking again\n", addr);
        ip4_addr_set_zero(&N.dhcp_shown);
    }
}

/* After frames and timers, with --ipv6: one line when an address other
 * than the link-local one becomes usable (its duplicate address
 * detection passed: static, or formed by SLAAC), one when one is found
 * taken on the link, one when a SLAAC address is gone. */
static void ip6_text(const ip6_addr_t *a, char *text, int n)
{
    ip6addr_ntoa_r(a, text, n);
    for (char *p = text; *p; p++)          /* lower case, as Linux writes them */
        if (*p >= 'A' && *p <= 'F') *p = (char)(*p - 'A' + 'a');
}

static void ip6_report(void)
{
    for (int i = 1; i < LWIP_IPV6_NUM_ADDRESSES; i++) {
        u8_t st = netif_ip6_addr_state(&N.netif, i);
        const ip6_addr_t *a = netif_ip6_addr(&N.netif, i);
        u8_t kind = ip6_addr_isvalid(st) ? 1 : ip6_addr_isduplicated(st) ? 2 : 0;
        if (kind == N.ip6_shown[i] && (kind == 0 || ip6_addr_cmp(a, &N.ip6_shown_addr[i]))) continue;
        char text[IP6ADDR_STRLEN_MAX];
        if (kind == 1) {
            ip6_text(a, text, sizeof text);
            bool mine = N.ip6_static && ip6_addr_cmp(a, &N.ip6_addr);
            fprintf(stderr, "uweb: IPv6: address %s%s\n", text, mine ? "" : " (SLAAC)");
        } else if (kind == 2) {
            ip6_text(a, text, sizeof text);
            fprintf(stderr, "uweb: IPv6: address %s is in use on the link (duplicate address "
                    "detection); not used\n", text);
        } else if (N.ip6_shown[i] == 1) {
            ip6_text(&N.ip6_shown_addr[i], text, sizeof text);
            fprintf(stderr, "uweb: IPv6: address %s is no longer valid\n", text);
        }
        N.ip6_shown[i] = kind;
        ip6_addr_copy(N.ip6_shown_addr[i], *a);
    }
}

/* The interface's checksum flags for a frame received (CHECKED: its
 * sums vouched for by the host) and for what lwIP sends meanwhile. */
static u16_t checksum_flags(bool checked)
{
    u16_t f = NETIF_CHECKSUM_ENABLE_ALL;
    if (checked)
        f &= (u16_t)~(NETIF_CHECKSUM_CHECK_TCP | NETIF_CHECKSUM_CHECK_UDP | NETIF_CHECKSUM_CHECK_ICMP
                      | NETIF_CHECKSUM_CHECK_ICMP6);
    if (N.gso) f &= (u16_t)~NETIF_CHECKSUM_GEN_TCP;
    return f;
}

static int start(void)
{
    N.dhcp = !N.configured;
    if (N.dhcp && N.gw_given) {
        fprintf(stderr, "uweb: --ipv4-gateway needs --ipv4 (without --ipv4, DHCP gives the gateway)\n");
        return -6; /* UW_EINVAL */
    }
    if (uw_plat_net_acquire(UW_LWIP_DEVICE, &N.handle, &N.info) != UW_PLAT_OK) {
        fprintf(stderr, "uweb: no net device \"" UW_LWIP_DEVICE "\" attached\n");
        return -6;
    }
    if (N.info.mtu < 576 || N.info.mtu > 65535 - 14) {
        fprintf(stderr, "uweb: net device MTU %zu is not usable\n", N.info.mtu);
        return -6;
    }
    /* lwIP may use half of the heap; a connection's receive window and
     * send buffer are 1/64 of the heap each, the window within
     * [16 KiB, 1 MiB), the send buffer at most 256 KiB. */
    size_t heap = uwc_heap_size();
    N.mem_limit = heap / 2;
    size_t w = heap / 64;
    if (w < 16 * 1024) w = 16 * 1024;
    if (w > (0xffffu << TCP_RCV_SCALE)) w = 0xffffu << TCP_RCV_SCALE;
    uw_lwip_tcp_wnd = (unsigned)w;
    uw_lwip_tcp_snd_buf = (unsigned)(w < 0xffff * 4 ? w : 0xffff * 4);
    N.vnet = (N.info.offloads & UW_PLAT_NET_OFFLOAD_VNET_HDR) != 0;
    N.tx_buf = malloc(N.info.mtu + 14 + UW_PLAT_NET_VNET_HDR_SIZE);
    if (!N.tx_buf) return -4; /* UW_ENOMEM */
    if (N.vnet && !(N.rx_big = malloc(uw_plat_net_read_min(N.info.mtu, N.info.offloads))))
        return -4;
    N.gso = N.vnet && (N.info.offloads & UW_PLAT_NET_OFFLOAD_GSO);
    lwip_init();
    tcp_ext_id = tcp_ext_arg_alloc_id();
    if (!netif_add(&N.netif, &N.addr, &N.mask, &N.gw, NULL, netif_setup, ethernet_input)) {
        fprintf(stderr, "uweb: cannot add the network interface\n");
        return -5; /* UW_EIO */
    }
    netif_set_default(&N.netif);
    NETIF_SET_CHECKSUM_CTRL(&N.netif, checksum_flags(false));
    if (N.ip6) {
        netif_create_ip6_linklocal_address(&N.netif, 1);
        if (N.ip6_slaac) netif_set_ip6_autoconfig_enabled(&N.netif, 1);
        s8_t idx;
        if (N.ip6_static && netif_add_ip6_address(&N.netif, &N.ip6_addr, &idx) != ERR_OK) {
            fprintf(stderr, "uweb: cannot add the IPv6 address to the network interface\n");
            return -4; /* UW_ENOMEM */
        }
    }
    netif_set_link_up(&N.netif);
    netif_set_up(&N.netif);
    for (int i = 0; i < N.ndns; i++) {
        ip_addr_t a;
        ip_addr_copy_from_ip4(a, N.dns[i]);
        dns_setserver((u8_t)i, &a);
    }
    if (N.dhcp) {
        /* The address arrives later: the service listens on 0.0.0.0 in
         * the meantime.  lwIP announces the leased address itself. */
        if (dhcp_start(&N.netif) != ERR_OK) {
            fprintf(stderr, "uweb: cannot start DHCP on the network interface\n");
            return -4; /* UW_ENOMEM: dhcp_start only fails for memory */
        }
        N.dhcp_since = uw_plat_clock_monotonic();
        return 0;
    }
    /* Tell the link who we are (and refresh switches' tables). */
    etharp_gratuitous(&N.netif);
    return 0;
}

/* The interface as an event source of the runtime (event_source.h). */
static int64_t source_deadline(void *arg) { (void)arg; return uw_lwip_next_deadline(); }
static void source_poll(void *arg, uint64_t ready) { (void)arg; uw_lwip_poll(ready); }
static bool source_active(void *arg) { (void)arg; return N.started; }
static void source_flush(void *arg)
{
    (void)arg;
    gso_flush();
    ack_send();
}

int uw_lwip_start(void)
{
    if (!N.started && N.start_result == 0) {
        N.start_result = start();
        if (N.start_result == 0) {
            int id = uw_event_source_add(&(uw_event_source){
                .handles = 1ull << N.handle, .next_deadline = source_deadline,
                .poll = source_poll, .active = source_active, .flush = source_flush });
            if (id < 0) N.start_result = id;
            else N.started = true;
        } else if (N.start_result > 0) {
            N.start_result = -5;
        }
    }
    return N.start_result;
}

bool uw_lwip_started(void) { return N.started; }

int64_t uw_lwip_next_deadline(void)
{
    if (!N.started) return INT64_MAX;
    u32_t ms = sys_timeouts_sleeptime();
    if (ms == SYS_TIMEOUTS_SLEEPTIME_INFINITE) return INT64_MAX;
    return (int64_t)uw_plat_clock_monotonic() + (int64_t)ms * 1000000;
}

/*
 * With offloads, frames are read into receive blocks of
 * UW_PLAT_NET_OFFLOAD_FRAME_MAX bytes (header and frame) from lwIP's
 * share of the heap.  A frame of at least RX_KEEP_FROM bytes (a
 * super-frame, most of a fast upload) stays in its block, which lwIP
 * takes as a custom pbuf: no copy.  A smaller one is copied into a pbuf
 * of its size and the block takes the next frame, so data waiting to be
 * read never holds more than twice its size.  A block lwIP frees becomes
 * the spare again (or goes back to the heap if there is one).
 */
#define RX_KEEP_FROM (UW_PLAT_NET_OFFLOAD_FRAME_MAX / 2)

struct rx_block {
    struct pbuf_custom pc;
    uint8_t data[] __attribute__((aligned(16)));  /* header + frame */
};

static void rx_block_free(struct pbuf *p)
{
    struct rx_block *b = (struct rx_block *)(void *)p;
    if (!N.rx_block) N.rx_block = b;
    else uw_lwip_free(b);
}

/* One frame and its header into a receive block (N.rx_big when the heap
 * has none to give: the frame is then dropped), then into a pbuf: the
 * block itself or a copy.  *CHECKED: the host vouches for its checksums.
 * A frame whose header is malformed (unknown flags or GSO type, a
 * checksum position outside it) is dropped (and counted); NULL then, or
 * when none is waiting (*more false). */
static struct pbuf *receive_vnet(bool *checked, bool *more)
{
    size_t cap = uw_plat_net_read_min(N.info.mtu, N.info.offloads), len = 0;
    *more = false;
    if (!N.rx_block) N.rx_block = uw_lwip_malloc(sizeof(struct rx_block) + cap);
    uint8_t *buf = N.rx_block ? N.rx_block->data : N.rx_big;
    if (uw_plat_net_read(N.handle, buf, cap, &len) != UW_PLAT_OK) return NULL;
    *more = true;
    if (!N.rx_block) return NULL;      /* out of memory: dropped, as on a full link */
    const uint8_t *h = buf;
    uint8_t flags = h[0], gso = h[1];
    uint16_t csum_start = (uint16_t)(h[6] | h[7] << 8), csum_offset = (uint16_t)(h[8] | h[9] << 8);
    size_t flen = len - (len >= UW_PLAT_NET_VNET_HDR_SIZE ? UW_PLAT_NET_VNET_HDR_SIZE : len);
    uint8_t g = gso & (uint8_t)~VNET_GSO_ECN;
    if (len < UW_PLAT_NET_VNET_HDR_SIZE + 14 || flen > 65535
        || (flags & ~(VNET_F_NEEDS_CSUM | VNET_F_DATA_VALID))
        || (g != VNET_GSO_NONE && g != VNET_GSO_TCPV4 && g != VNET_GSO_TCPV6 && g != VNET_GSO_UDP)
        || (g == VNET_GSO_NONE && (gso & VNET_GSO_ECN))
        || ((flags & VNET_F_NEEDS_CSUM) && (size_t)csum_start + csum_offset + 2 > flen)) {
        N.bad_vnet++;
        return NULL;
    }
    *checked = (flags & (VNET_F_NEEDS_CSUM | VNET_F_DATA_VALID)) != 0;
    if (flen >= RX_KEEP_FROM) {
        struct rx_block *b = N.rx_block;
        b->pc.custom_free_function = rx_block_free;
        struct pbuf *p = pbuf_alloced_custom(PBUF_RAW, (u16_t)flen, PBUF_REF, &b->pc,
                                             b->data + UW_PLAT_NET_VNET_HDR_SIZE, (u16_t)flen);
        if (p) {
            N.rx_block = NULL;
            return p;
        }
    }
    struct pbuf *p = pbuf_alloc(PBUF_RAW, (u16_t)flen, PBUF_RAM);
    if (!p) return NULL;               /* out of memory: dropped, as on a full link */
    memcpy(p->payload, buf + UW_PLAT_NET_VNET_HDR_SIZE, flen);
    return p;
}

/* One frame from the device into a pbuf; NULL when none is waiting. */
static struct pbuf *receive(void)
{
    size_t cap = N.info.mtu + 14;
    if (!N.rx_spare) {
        N.rx_spare = pbuf_alloc(PBUF_RAW, (u16_t)cap, PBUF_RAM);
        if (!N.rx_spare) {
            /* Out of memory: take the frame off the device and drop it. */
            uint8_t *tmp = N.tx_buf;
            size_t len;
            uw_plat_net_read(N.handle, tmp, cap, &len);
            return NULL;
        }
    }
    size_t len = 0;
    if (uw_plat_net_read(N.handle, N.rx_spare->payload, cap, &len) != UW_PLAT_OK) return NULL;
    struct pbuf *p;
    if ((len < COPY_BELOW || len <= cap / 2) && (p = pbuf_alloc(PBUF_RAW, (u16_t)len, PBUF_RAM)) != NULL) {
        memcpy(p->payload, N.rx_spare->payload, len);
        return p;
    }
    p = N.rx_spare;
    N.rx_spare = NULL;
    pbuf_realloc(p, (u16_t)len);
    return p;
}

/*
 * A SYN for the address and ports of a connection we closed, still in
 * TIME-WAIT: lwIP would answer it with an ACK and keep ignoring the
 * client's SYNs for 2 MSL.  As other stacks do (RFC 6191's fallback
 * without timestamps), a SYN whose sequence number is beyond what the
 * old connection received ends the TIME-WAIT, and lwIP then takes it as
 * a new connection.
 */
static void syn_after_time_wait(const struct pbuf *p)
{
    const uint8_t *f = p->payload;
    size_t len = p->len;
    if (!tcp_tw_pcbs || len < 14 + 20 + 20 || f[12] != 0x08 || f[13] != 0x00) return;
    const uint8_t *ip = f + 14;
    size_t ihl = (size_t)(ip[0] & 0x0f) * 4;
    if ((ip[0] >> 4) != 4 || ihl < 20 || ip[9] != IP_PROTO_TCP || len < 14 + ihl + 20) return;
    if (((ip[6] & 0x1f) | ip[7]) != 0) return;          /* a fragment */
    const uint8_t *th = ip + ihl;
    if ((th[13] & (TCP_SYN | TCP_ACK | TCP_RST | TCP_FIN)) != TCP_SYN) return;
    u32_t src, dst;
    memcpy(&src, ip + 12, 4);
    memcpy(&dst, ip + 16, 4);
    u16_t sport = (u16_t)(th[0] << 8 | th[1]), dport = (u16_t)(th[2] << 8 | th[3]);
    u32_t seq = (u32_t)th[4] << 24 | (u32_t)th[5] << 16 | (u32_t)th[6] << 8 | th[7];
    for (struct tcp_pcb *pcb = tcp_tw_pcbs; pcb; pcb = pcb->next) {
        if (pcb->remote_port == sport && pcb->local_port == dport
            && ip4_addr_get_u32(ip_2_ip4(&pcb->remote_ip)) == src
            && ip4_addr_get_u32(ip_2_ip4(&pcb->local_ip)) == dst) {
            if (TCP_SEQ_GT(seq, pcb->rcv_nxt)) tcp_abort(pcb);
            return;
        }
    }
}

/* Keeps the newest TIME_WAIT_MAX connections in TIME-WAIT. */
static void time_wait_trim(void)
{
    struct tcp_pcb *pcb = tcp_tw_pcbs;
    for (unsigned n = 1; pcb && n < TIME_WAIT_MAX; n++) pcb = pcb->next;
    while (pcb && pcb->next) tcp_abort(pcb->next);
}

void uw_lwip_poll(uw_plat_handle_set_t ready)
{
    if (!N.started) return;
    if (ready & (1ull << N.handle)) {
        for (int i = 0; i < FRAMES_PER_POLL; i++) {
            bool checked = false, more = false;
            struct pbuf *p = N.vnet ? receive_vnet(&checked, &more) : receive();
            if (!p) {
                if (more) continue;
                break;
            }
            syn_after_time_wait(p);
            if (N.vnet) NETIF_SET_CHECKSUM_CTRL(&N.netif, checksum_flags(checked));
            if (N.netif.input(p, &N.netif) != ERR_OK) pbuf_free(p);
        }
    }
    sys_check_timeouts();
    if (N.dhcp) dhcp_report();
    if (N.ip6) ip6_report();
    uint64_t now = uw_plat_clock_monotonic();
    if (now >= N.next_trim) {
        time_wait_trim();
        N.next_trim = now + TIME_WAIT_TRIM_NS;
    }
    /* Connections we closed wait 2 MSL in TIME-WAIT to catch late
     * segments; under a stream of short connections they could hold the
     * memory new ones need.  Past 3/4 of lwIP's share they go first. */
    while (tcp_tw_pcbs && N.mem_used > N.mem_limit / 4 * 3) tcp_abort(tcp_tw_pcbs);
    gso_flush();
}

/* lwIP's LWIP_CHKSUM_COPY (lwipopts.h): tcp_write's copy, summed only
 * when lwIP computes the TCP checksums itself. */
uint16_t uw_lwip_chksum_copy(void *dst, const void *src, uint16_t len)
{
    memcpy(dst, src, len);
    return N.gso ? 0 : uw_lwip_chksum(dst, len);
}
