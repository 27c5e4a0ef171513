/*
 * block_internal.h — what the two targets' block devices share
 * (block_unix.c, block_uk.c): the handle and the argument check.  Not a
 * public interface; include/uweb/block.h is.
 */
#ifndef UWEB_BLOCK_INTERNAL_H
#define UWEB_BLOCK_INTERNAL_H

#include <uweb/block.h>

/* Block size of every device uweb makes (the tenders use the same). */
#define UW_BLOCK_SIZE 512

/* UW_OK when [offset, offset + n) is whole blocks within the device
 * (n == 0 included), else UW_EINVAL (block.c). */
int uw__block_check(const struct uw_block_info *info, uint64_t offset, size_t n);

#endif
