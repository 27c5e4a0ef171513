# src/runtime: tasks, events, stacks, and the block devices (block.h):
# block_unix.c (files) on unix, block_uk.c (the platform's devices) on
# spt and hvt, block.c on both.
UNIT_MODULES_test_block := runtime
