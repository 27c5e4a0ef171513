/*
 * What mbedTLS asks of the platform on the unikernels, beyond the guest
 * libc: a millisecond clock (MBEDTLS_PLATFORM_MS_TIME_ALT), for TLS 1.3
 * ticket ages.
 */
#include <mbedtls/build_info.h>
#include <mbedtls/platform_time.h>
#include <uw_platform.h>

mbedtls_ms_time_t mbedtls_ms_time(void)
{
    return (mbedtls_ms_time_t)(uw_plat_clock_monotonic() / 1000000);
}
