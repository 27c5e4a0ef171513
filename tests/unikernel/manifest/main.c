/*
 * manifest: a guest declaring a net device "service0" and a block device
 * "storage".  The runner checks that the tender lists them (--describe)
 * and refuses to start the guest with a device missing, an undeclared
 * one, or one of the wrong type, before any guest code runs.  When it
 * does run (both devices given), both are acquirable by name and only
 * with their own type, and an undeclared name is not.
 */
#include <stdio.h>
#include "uw_platform.h"

UW_PLAT_MANIFEST(UW_PLAT_NET("service0"), UW_PLAT_BLOCK("storage"));

int main(void)
{
    uw_plat_handle_t net, blk, other;
    struct uw_plat_net_info ni;
    struct uw_plat_block_info bi;
    puts("guest started");
    if (uw_plat_net_acquire("service0", &net, &ni) != UW_PLAT_OK
        || uw_plat_block_acquire("storage", &blk, &bi) != UW_PLAT_OK) {
        puts("FAILURE: declared devices not acquirable");
        return 1;
    }
    if (uw_plat_block_acquire("service0", &other, &bi) != UW_PLAT_EINVAL
        || uw_plat_net_acquire("storage", &other, &ni) != UW_PLAT_EINVAL
        || uw_plat_net_acquire("service1", &other, &ni) != UW_PLAT_EINVAL || net == blk) {
        puts("FAILURE: acquire accepted a wrong name or type");
        return 1;
    }
    puts("SUCCESS");
    return 0;
}
