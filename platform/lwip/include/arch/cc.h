/*
 * arch/cc.h - lwIP's compiler and platform glue for uweb guests: the
 * guest libc's headers, x86-64 little-endian with compiler byte swaps,
 * diagnostics on the console, a failed lwIP assertion aborts the guest
 * (status 255: a bug, never bad input).
 */
#ifndef UW_LWIP_ARCH_CC_H
#define UW_LWIP_ARCH_CC_H

#include <stdio.h>
#include <stdlib.h>

#define BYTE_ORDER LITTLE_ENDIAN
#define LWIP_PLATFORM_BYTESWAP 1
#define LWIP_PLATFORM_HTONS(x) __builtin_bswap16(x)
#define LWIP_PLATFORM_HTONL(x) __builtin_bswap32(x)

#define LWIP_PLATFORM_DIAG(x) do { printf x; } while (0)
#define LWIP_PLATFORM_ASSERT(x) do { \
        fprintf(stderr, "lwIP assertion \"%s\" failed at %s:%d\n", x, __FILE__, __LINE__); \
        fflush(stderr); abort(); } while (0)

unsigned int uw_lwip_rand(void);
#define LWIP_RAND() ((u32_t)uw_lwip_rand())

#endif
