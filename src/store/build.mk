# The paste store (include/uweb/store.h): its unit test links the runtime
# for uw_block (uw_store_dev_block); the fuzz target mounts arbitrary images.
UNIT_MODULES_test_store := store runtime
FUZZ_MODULES_store := store runtime
