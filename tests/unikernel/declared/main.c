/*
 * declared: a guest with no UW_PLAT_MANIFEST of its own; its devices are
 * declared by its build.mk (UK_TEST_MANIFEST_declared := net:service
 * block:tls), the way an app declares them.  The runner checks that the
 * tenders see them (--describe), that --block:tls=FILE with a tap for
 * "service" starts it, and that it is refused without them.  The guest
 * acquires block device "tls", reads its first block and prints the
 * first line ("tls: ..."), then SUCCESS.
 */
#include <stdio.h>
#include <string.h>
#include "uw_platform.h"

static uint8_t block[4096];

int main(void)
{
    uw_plat_handle_t h, n;
    struct uw_plat_block_info info;
    struct uw_plat_net_info ninfo;
    if (uw_plat_block_acquire("tls", &h, &info) != UW_PLAT_OK) {
        puts("block device tls is not there");
        return 1;
    }
    if (uw_plat_net_acquire("service", &n, &ninfo) != UW_PLAT_OK) {
        puts("net device service is not there");
        return 1;
    }
    if (info.block_size > sizeof block
        || uw_plat_block_read(h, 0, block, (size_t)info.block_size) != UW_PLAT_OK) {
        puts("cannot read block device tls");
        return 1;
    }
    block[info.block_size - 1] = 0;
    char *nl = strchr((char *)block, '\n');
    if (nl)
        *nl = 0;
    printf("tls: %s\n", (char *)block);
    puts("SUCCESS");
    return 0;
}
