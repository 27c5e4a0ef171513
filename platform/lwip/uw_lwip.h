/*
 * uw_lwip.h - lwIP inside a uweb unikernel: the service interface, an
 * event source of the runtime (src/runtime/poll_uk.c) used by TCP for
 * tasks (src/net/tcp_lwip.c).  Not for applications.
 *
 * The interface is the net device "service" of the guest's manifest,
 * configured from the command line (uw_lwip_option) and brought up on
 * first use (uw_lwip_start, called by the first listen or connect), which
 * registers it as an event source of the runtime (uweb/event_source.h):
 * from then on the event backend waits with uw_lwip_next_deadline() in
 * mind and calls uw_lwip_poll() after every platform yield: received
 * frames go to lwIP, whose callbacks run there, and lwIP's timers run.
 *
 * Memory: lwIP allocates from the guest heap through uw_lwip_malloc &co.
 * (lwipopts.h), at most a fixed share of the heap measured at start.
 */
#ifndef UW_LWIP_H
#define UW_LWIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "uw_platform.h"

/* The net device every uweb service declares in its manifest. */
#define UW_LWIP_DEVICE "service"

/*
 * Takes one command-line option of the network stack:
 *   --ipv4=ADDR/PREFIX     the interface's address and prefix length
 *   --ipv4-gateway=ADDR    the default route (only with --ipv4)
 *   --ipv6=ADDR/PREFIX     a static IPv6 address
 *   --ipv6=slaac           IPv6 addresses from router advertisements
 *   --ipv6-gateway=ADDR    the IPv6 default route
 * Without --ipv4 the interface is configured by DHCP once started.
 * Returns 1 when ARG is one of them (taken), 0 when it is not, -1 when
 * its value is malformed (a one-line message went to stderr).
 */
int uw_lwip_option(const char *arg);

/* Help text for these options, one line each, for a --help page. */
extern const char uw_lwip_options_help[];

/* The address given by --ipv4 as text ("10.0.0.2"), or NULL if none
 * (DHCP: the service listens on 0.0.0.0). */
const char *uw_lwip_address(void);

/* True when --ipv6 was given (the service listens on "::": both families). */
bool uw_lwip_ipv6(void);

/*
 * Brings the interface up once: acquires the device, sizes memory and
 * TCP buffers from the heap, initialises lwIP, adds the interface with
 * the configured address, or without one starts DHCP (the interface has
 * no address until a lease arrives; stderr gets one line when it does,
 * and one if none came within 10 s).  Later calls return the first
 * result.  0, or a negative uw_status (UW_EINVAL: no device, or
 * --ipv4-gateway without --ipv4; UW_ENOMEM).  A message says why on
 * stderr.
 */
int uw_lwip_start(void);

/* True once uw_lwip_start succeeded. */
bool uw_lwip_started(void);

/* The monotonic time (ns) of lwIP's next timer, INT64_MAX if none. */
int64_t uw_lwip_next_deadline(void);

/*
 * Reads the frames waiting on the device (at most a bounded number per
 * call, so tasks are not starved under a flood) when READY says it has
 * some, hands them to lwIP, then runs lwIP's due timers.
 */
void uw_lwip_poll(uw_plat_handle_set_t ready);

/*
 * With offloads, lets lwIP build segments of several MSS for the host to
 * cut up (netif.c); nothing otherwise, or when done already.  Called for
 * an established connection before it writes (src/net/tcp_lwip.c).
 */
struct tcp_pcb;
void uw_lwip_tcp_segments(struct tcp_pcb *pcb);

#endif
