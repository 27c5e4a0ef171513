/*
 * config.h of nghttp2 for the unikernels (platform/nghttp2/build.mk):
 * what configure would have found.  The guests have no <arpa/inet.h>;
 * they are x86-64, little-endian.
 */
#ifndef UW_NGHTTP2_CONFIG_H
#define UW_NGHTTP2_CONFIG_H

#include <stdint.h>

static inline uint32_t htonl(uint32_t v) { return __builtin_bswap32(v); }
static inline uint16_t htons(uint16_t v) { return __builtin_bswap16(v); }
static inline uint32_t ntohl(uint32_t v) { return __builtin_bswap32(v); }
static inline uint16_t ntohs(uint16_t v) { return __builtin_bswap16(v); }

#endif
