/*
 * The worker memory budget on the unikernels: 3/8 of the guest heap.
 * lwIP may use half of it (platform/lwip/netif.c), the workers 3/8, and
 * the last 1/8 stays for connections, request arenas beyond their first
 * block and the app's own allocations.  With --mem=32 that is about
 * 12 MiB: some 110 workers.
 */
#include "http_internal.h"

#include "guest.h"

uint64_t uw__http_memory_budget(void) { return (uint64_t)uwc_heap_size() / 8 * 3; }
