/*
 * store_internal.h — the on-disk record header of the store (store.c),
 * for the unit tests and the fuzz target.
 */
#ifndef UWEB_STORE_INTERNAL_H
#define UWEB_STORE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#define UW__STORE_HDR 64
#define UW__STORE_MAGIC 0x52505755u     /* "UWPR" */
enum { UW__STORE_PASTE = 1, UW__STORE_TOMB = 2 };

typedef struct uw__store_hdr {
    uint8_t type, flags;
    uint64_t seq, id;
    int64_t expires;
    uint32_t len, data_crc, blocks;
} uw__store_hdr;

uint32_t uw__crc32c(uint32_t crc, const void *buf, size_t n);
void uw__store_encode_header(unsigned char *h, const uint8_t key[16], const uw__store_hdr *r);
/* 1 when h is a record header under key that fits a log of log_blocks. */
int uw__store_decode_header(const unsigned char *h, const uint8_t key[16], uint32_t bs,
                            uint32_t log_blocks, uw__store_hdr *r);

#endif
