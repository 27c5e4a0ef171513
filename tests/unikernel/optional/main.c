/*
 * optional: a guest whose build declares block "tls" optional and block
 * "data" required (tests/unikernel/optional/build.mk).  The runner starts
 * it with and without --block:tls=FILE: acquiring "tls" then succeeds
 * ("tls: attached, N bytes") or gives UW_PLAT_EINVAL ("tls: absent");
 * "data" must always be there.  Then SUCCESS.
 */
#include <stdio.h>
#include "uw_platform.h"

int main(void)
{
    uw_plat_handle_t h;
    struct uw_plat_block_info info;
    if (uw_plat_block_acquire("data", &h, &info) != UW_PLAT_OK) {
        puts("block device data is not there");
        return 1;
    }
    uw_plat_result_t r = uw_plat_block_acquire("tls", &h, &info);
    if (r == UW_PLAT_OK) {
        printf("tls: attached, %llu bytes\n", (unsigned long long)info.capacity);
    } else if (r == UW_PLAT_EINVAL) {
        puts("tls: absent");
        /* Its would-be handle is no device either. */
        uint8_t b[512];
        for (uw_plat_handle_t k = 0; k < 2; k++)
            if (uw_plat_block_read(k, 0, b, sizeof b) == UW_PLAT_OK && k == 0) {
                puts("handle 0 (tls, unattached) reads");
                return 1;
            }
    } else {
        printf("tls: acquire returned %d\n", (int)r);
        return 1;
    }
    puts("SUCCESS");
    return 0;
}
