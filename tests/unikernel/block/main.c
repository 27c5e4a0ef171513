/*
 * block: whole blocks written come back when read, several blocks per
 * call; writes and reads outside the device, unaligned or of no block are
 * refused with UW_PLAT_EINVAL and change nothing.  argv[1] is the
 * capacity in bytes the host gave the device.  The last block is written
 * with the text "uweb block test" (the runner checks it in the file).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "uw_platform.h"

UW_PLAT_MANIFEST(UW_PLAT_BLOCK("storage"));

static int failures;
#define EXPECT(cond, what) do { if (!(cond)) { printf("FAILURE: %s\n", what); failures++; } } while (0)

int main(int argc, char **argv)
{
    uw_plat_handle_t h, h2;
    struct uw_plat_block_info info;
    struct uw_plat_net_info ninfo;
    EXPECT(uw_plat_block_acquire("nosuch", &h2, &info) == UW_PLAT_EINVAL, "unknown device acquired");
    EXPECT(uw_plat_net_acquire("storage", &h2, &ninfo) == UW_PLAT_EINVAL, "block device acquired as net");
    if (uw_plat_block_acquire("storage", &h, &info) != UW_PLAT_OK) {
        puts("FAILURE: cannot acquire block device 'storage'");
        return 1;
    }
    uint64_t bs = info.block_size, cap = info.capacity;
    printf("capacity %llu bytes, block size %llu\n", (unsigned long long)cap, (unsigned long long)bs);
    EXPECT(argc < 2 || cap == strtoull(argv[1], NULL, 10), "capacity differs from the host file's size");
    EXPECT(bs >= 512 && (bs & (bs - 1)) == 0 && cap % bs == 0 && cap >= 8 * bs, "bad block geometry");
    if (failures)
        return 1;

    size_t n = 4 * bs;
    uint8_t *out = malloc(n), *in = malloc(n);
    if (!out || !in)
        return 1;
    for (size_t i = 0; i < n; i++)
        out[i] = (uint8_t)(i * 7 + i / 256);
    EXPECT(uw_plat_block_write(h, bs, out, n) == UW_PLAT_OK, "write of 4 blocks at block 1");
    memset(in, 0, n);
    EXPECT(uw_plat_block_read(h, bs, in, n) == UW_PLAT_OK, "read of 4 blocks at block 1");
    EXPECT(memcmp(in, out, n) == 0, "blocks read differ from blocks written");
    memset(in, 0, n);
    EXPECT(uw_plat_block_read(h, 2 * bs, in, bs) == UW_PLAT_OK && memcmp(in, out + bs, bs) == 0,
           "one block read from the middle of a multi-block write");

    /* The last block: allowed.  One past it: refused. */
    memset(out, 0, bs);
    strcpy((char *)out, "uweb block test");
    EXPECT(uw_plat_block_write(h, cap - bs, out, bs) == UW_PLAT_OK, "write of the last block");
    EXPECT(uw_plat_block_write(h, cap, out, bs) == UW_PLAT_EINVAL, "write at the capacity accepted");
    EXPECT(uw_plat_block_read(h, cap, in, bs) == UW_PLAT_EINVAL, "read at the capacity accepted");
    EXPECT(uw_plat_block_write(h, cap - bs, out, 2 * bs) == UW_PLAT_EINVAL, "write across the end accepted");
    EXPECT(uw_plat_block_read(h, (uint64_t)-bs, in, bs) == UW_PLAT_EINVAL, "read at a huge offset accepted");
    EXPECT(uw_plat_block_write(h, 100, out, bs) == UW_PLAT_EINVAL, "unaligned offset accepted");
    EXPECT(uw_plat_block_read(h, 0, in, 100) == UW_PLAT_EINVAL, "partial block accepted");
    EXPECT(uw_plat_block_read(h, 0, in, bs + 1) == UW_PLAT_EINVAL, "block and a byte accepted");
    EXPECT(uw_plat_block_read(h, 0, in, 0) == UW_PLAT_EINVAL, "zero-length read accepted");
    EXPECT(uw_plat_block_read(h + 1, 0, in, bs) == UW_PLAT_EINVAL, "bad handle accepted");
    /* Refused writes changed nothing: block 1 still holds the pattern. */
    memset(in, 0, bs);
    EXPECT(uw_plat_block_read(h, bs, in, bs) == UW_PLAT_OK && in[1] == 7 && in[255] == (uint8_t)(255 * 7),
           "block 1 changed");
    if (failures)
        return 1;
    puts("SUCCESS");
    return 0;
}
