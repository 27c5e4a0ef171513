/*
 * lwipopts.h - lwIP configuration of uweb unikernels.
 *
 * One thread, no operating system (NO_SYS=1): lwIP runs only from the
 * runtime's event backend (src/runtime/poll_uk.c) and from tasks calling
 * the raw TCP API (src/net/tcp_lwip.c), never concurrently.  Ethernet,
 * ARP, IPv4, ICMP echo, TCP, UDP and a DHCP client (used when no
 * --ipv4 is given), IPv6 (when --ipv6 is given: a static address or
 * SLAAC, ICMPv6, neighbour discovery, MLD) on one interface (the
 * "service" net device); no sockets API.
 *
 * Memory comes from the guest heap: lwIP's heap and its pools are malloc
 * (MEM_LIBC_MALLOC, MEMP_MEM_MALLOC), through uw_lwip_malloc &co.
 * (netif_uk.c), which keep lwIP within a share of the heap.  TCP window,
 * send buffer and send queue are set at start from the heap size
 * (uw_lwip_tcp_wnd, uw_lwip_tcp_snd_buf, see uw_lwip.h); the constant
 * after ':' below is only what lwIP's preprocessor sanity checks see.
 */
#ifndef UW_LWIPOPTS_H
#define UW_LWIPOPTS_H

#include <stddef.h>
#include <stdint.h>

/* ------------------------------------------------ system */
#define NO_SYS                      1
#define LWIP_TIMERS                 1
#define SYS_LIGHTWEIGHT_PROT        0
#define LWIP_NETCONN                0
#define LWIP_SOCKET                 0
#define LWIP_NETIF_API              0
#define LWIP_SINGLE_NETIF           1
#define LWIP_HAVE_LOOPIF            0
#define LWIP_NETIF_LOOPBACK         0
#define LWIP_STATS                  0
#define LWIP_DISABLE_TCP_SANITY_CHECKS 1

/* ------------------------------------------------ memory */
#define MEM_LIBC_MALLOC             1
#define MEMP_MEM_MALLOC             1
#define MEM_ALIGNMENT               8
/* Not allocated (malloc is): only makes mem_size_t 32 bits wide, so a
 * pbuf may hold a 64 KiB frame. */
#define MEM_SIZE                    (1024L * 1024 * 1024)
void *uw_lwip_malloc(size_t size);
void *uw_lwip_calloc(size_t count, size_t size);
void uw_lwip_free(void *p);
#define mem_clib_malloc             uw_lwip_malloc
#define mem_clib_calloc             uw_lwip_calloc
#define mem_clib_free               uw_lwip_free
/* A frame from the device is one PBUF_RAM pbuf; TCP segments to send are
 * built in one pbuf with room for every header, so most frames go to the
 * device without being copied. */
#define LWIP_NETIF_TX_SINGLE_PBUF   1
/* With offloads a large received frame stays in the glue's receive
 * block, which lwIP takes as a custom pbuf (netif.c, receive_vnet). */
#define LWIP_SUPPORT_CUSTOM_PBUF    1
/* The MSS the host cuts a TCP segment into: set for every TCP segment
 * lwIP sends (the LWIP_HOOK_TCP_OUT_ADD_TCPOPTS below), read by the
 * glue's output with offloads (netif.c). */
#define LWIP_PBUF_CUSTOM_DATA       uint16_t uw_mss;
#define PBUF_LINK_HLEN              14
/* Room for the virtio-net header in front of every frame sent on a
 * device with offloads (netif.c). */
#define PBUF_LINK_ENCAPSULATION_HLEN 12
#define ETH_PAD_SIZE                0

/* ------------------------------------------------ link, IP */
#define LWIP_ETHERNET               1
#define LWIP_ARP                    1
#define ARP_TABLE_SIZE              32
#define ARP_QUEUEING                1
#define LWIP_IPV4                   1
#define LWIP_IPV6                   1
/* The link-local address, a static one (--ipv6) and SLAAC's. */
#define LWIP_IPV6_NUM_ADDRESSES     3
#define LWIP_IPV6_AUTOCONFIG        1
#define LWIP_IPV6_SEND_ROUTER_SOLICIT 1
#define LWIP_ND6_ALLOW_RA_UPDATES   1
#define LWIP_IPV6_DHCP6             0
#define LWIP_IPV6_MLD               1
#define LWIP_IPV6_FRAG              1
#define LWIP_IPV6_REASS             1
/* 64-bit pointers do not fit in the fragment header lwIP reuses. */
#define IPV6_FRAG_COPYHEADER        1
#define LWIP_ICMP6                  1
#define LWIP_IPV6_DUP_DETECT_ATTEMPTS 1
/* --ipv6-gateway: the next hop for destinations off the link when no
 * router advertisement gave one (netif.c). */
struct netif;
struct ip6_addr;
const struct ip6_addr *uw_lwip_ip6_gateway(struct netif *netif, const struct ip6_addr *dest);
#define LWIP_HOOK_ND6_GET_GW(netif, dest) uw_lwip_ip6_gateway(netif, dest)
/* With offloads lwIP sends TCP segments larger than the MTU, for the
 * host to cut up (netif.c, uw_lwip_tcp_segments); lwIP's IPv4 and IPv6
 * output hand whatever exceeds the MTU to ip4_frag/ip6_frag, so those
 * names are the glue's (uw_lwip_ip4_frag/uw_lwip_ip6_frag, netif.c),
 * which send such a TCP segment as it is and fragment anything else with
 * lwIP's own functions: everywhere but in lwIP's two fragmentation
 * modules, built with UW_LWIP_FRAG_SELF (build.mk). */
#ifndef UW_LWIP_FRAG_SELF
#define ip4_frag                    uw_lwip_ip4_frag
#define ip6_frag                    uw_lwip_ip6_frag
#endif
#define IP_FORWARD                  0
#define IP_REASSEMBLY               1
#define IP_FRAG                     1
#define IP_DEFAULT_TTL              64
#define LWIP_ICMP                   1
#define LWIP_RAW                    0
/* DHCP when the command line gives no address (netif.c); the offered
 * address is checked with ARP before it is taken. */
#define LWIP_DHCP                   1
#define DHCP_DOES_ARP_CHECK         1
#define LWIP_AUTOIP                 0
#define LWIP_IGMP                   0
/* The client's host names (src/client/dial_uk.c): servers from --dns or
 * from the DHCP lease (netif.c). */
#define LWIP_DNS                    1
#define LWIP_UDP                    1

/* ------------------------------------------------ TCP */
#define LWIP_TCP                    1
#define TCP_TTL                     64
/* The largest segment lwIP may use; the MSS it announces and uses is
 * derived from the interface's MTU (LWIP_CALCULATE_EFF_SEND_MSS): 1460
 * on a 1500-byte link, more on a link with jumbo frames. */
#define TCP_MSS                     8960
#define LWIP_CALCULATE_EFF_SEND_MSS 1
#define LWIP_WND_SCALE              1
#define TCP_RCV_SCALE               4
extern unsigned int uw_lwip_tcp_wnd, uw_lwip_tcp_snd_buf;
#define TCP_WND                     (uw_lwip_tcp_wnd ? uw_lwip_tcp_wnd : 65535u)
#define TCP_SND_BUF                 (uw_lwip_tcp_snd_buf ? uw_lwip_tcp_snd_buf : 65535u)
/* Segments of at least 536 bytes fill the send buffer, and each may take
 * a second pbuf. */
#define TCP_SND_QUEUELEN            ((4 * TCP_SND_BUF) / 536)
#define TCP_SNDLOWAT                (TCP_SND_BUF / 2)
#define TCP_QUEUE_OOSEQ             1
#define TCP_LISTEN_BACKLOG          1
#define TCP_DEFAULT_LISTEN_BACKLOG  255
#define LWIP_TCP_KEEPALIVE          0
/* Room left in a segment's pbuf for the next write: about a wire MSS
 * (what it was when segments were of the MSS; with offloads they reach
 * 16 KiB, and room for all of that in every small answer's pbuf made
 * small requests slower). */
#define TCP_OVERSIZE                1460
#define LWIP_TCP_TIMESTAMPS         0
/* Each connection's MSS on the wire while lwIP's own (pcb->mss) is a
 * multiple of it (netif.c, uw_lwip_tcp_segments). */
#define LWIP_TCP_PCB_NUM_EXT_ARGS   1
struct pbuf;
struct tcp_pcb;
uint32_t *uw_lwip_tcp_opts(struct pbuf *p, const struct tcp_pcb *pcb, uint32_t *opts);
#define LWIP_HOOK_TCP_OUT_ADD_TCPOPTS(p, hdr, pcb, opts) uw_lwip_tcp_opts(p, pcb, opts)
#define LWIP_EVENT_API              0
#define LWIP_CALLBACK_API           1

/* The Internet checksum 4 bytes at a time into a 64-bit sum (netif.c),
 * and computed while tcp_write copies the data in. */
uint16_t uw_lwip_chksum(const void *data, int len);
#define LWIP_CHKSUM                 uw_lwip_chksum
#define LWIP_CHECKSUM_ON_COPY       1
/* ... except on an interface whose TCP sums the host computes
 * (OFFLOAD_GSO, netif.c): the copy is then not summed. */
uint16_t uw_lwip_chksum_copy(void *dst, const void *src, uint16_t len);
#define LWIP_CHKSUM_COPY(dst, src, len) uw_lwip_chksum_copy(dst, src, len)

/* ------------------------------------------------ checksums (a tap device
 * hands over complete frames; everything is computed and checked) */
#define CHECKSUM_GEN_IP             1
#define CHECKSUM_GEN_TCP            1
#define CHECKSUM_GEN_UDP            1
#define CHECKSUM_GEN_ICMP           1
#define CHECKSUM_CHECK_IP           1
#define CHECKSUM_CHECK_TCP          1
#define CHECKSUM_CHECK_UDP          1
#define CHECKSUM_CHECK_ICMP         1
#define CHECKSUM_CHECK_ICMP6        1
/* ... except that a frame the host marks as checked (DATA_VALID) or not
 * yet summed (NEEDS_CSUM, from the host's own stack) is taken without
 * checking its TCP, UDP and ICMP sums: netif.c sets the interface's
 * checksum flags for each frame before handing it to lwIP. */
#define LWIP_CHECKSUM_CTRL_PER_NETIF 1

#endif
