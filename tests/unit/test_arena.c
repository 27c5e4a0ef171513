/* The per-request arena: alignment, growth, limit, reset keeps one block. */
#include "../check.h"
#include <uweb/arena.h>
#include <stdint.h>

static void test_alignment_and_growth(void)
{
    uw_arena a;
    uw_arena_init(&a, 256, 0);
    for (int i = 1; i < 200; i++) {
        char *p = uw_arena_alloc(&a, (size_t)i);
        CHECK(p != NULL);
        CHECK(((uintptr_t)p & 15) == 0);
        memset(p, 0xab, (size_t)i);
    }
    char *big = uw_arena_alloc(&a, 10000);
    CHECK(big != NULL);
    memset(big, 1, 10000);
    CHECK_EQ_STR(uw_arena_printf(&a, "%d-%s", 42, "x"), "42-x");
    CHECK_EQ_STR(uw_arena_strndup(&a, "hello", 3), "hel");
    uw_arena_fini(&a);
}

static void test_limit(void)
{
    uw_arena a;
    uw_arena_init(&a, 1024, 4096);
    int n = 0;
    while (uw_arena_alloc(&a, 512)) n++;
    CHECK(n >= 6 && n <= 8);
    CHECK(uw_arena_alloc(&a, 100000) == NULL);
    uw_arena_reset(&a);
    CHECK(uw_arena_alloc(&a, 512) != NULL);
    uw_arena_fini(&a);
}

static void test_reset_keeps_first_block(void)
{
    uw_arena a;
    uw_arena_init(&a, 1024, 0);
    void *first = uw_arena_alloc(&a, 16);
    for (int i = 0; i < 100; i++) uw_arena_alloc(&a, 900);
    uw_arena_reset(&a);
    CHECK_EQ_INT(a.total, 1024);
    CHECK(uw_arena_alloc(&a, 16) == first);
    uw_arena_fini(&a);
}

int main(void)
{
    RUN(test_alignment_and_growth);
    RUN(test_limit);
    RUN(test_reset_keeps_first_block);
    return CHECK_DONE();
}
