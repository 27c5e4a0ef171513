/*
 * endian.h - the byte-order macros Everest's kremlin/c_endianness.h takes
 * from <endian.h> on Linux, for its compilation on the unikernels only
 * (platform/mbedtls/build.mk; the guest libc has no endian.h).  The
 * guests are little-endian x86-64.
 */
#ifndef UW_MBEDTLS_GUEST_ENDIAN_H
#define UW_MBEDTLS_GUEST_ENDIAN_H
#define htole16(x) ((uint16_t)(x))
#define le16toh(x) ((uint16_t)(x))
#define htobe16(x) __builtin_bswap16(x)
#define be16toh(x) __builtin_bswap16(x)
#define htole32(x) ((uint32_t)(x))
#define le32toh(x) ((uint32_t)(x))
#define htobe32(x) __builtin_bswap32(x)
#define be32toh(x) __builtin_bswap32(x)
#define htole64(x) ((uint64_t)(x))
#define le64toh(x) ((uint64_t)(x))
#define htobe64(x) __builtin_bswap64(x)
#define be64toh(x) __builtin_bswap64(x)
#endif
