/* assert.h - assert() prints the failed expression on the console and aborts the guest. */
#undef assert
#ifdef NDEBUG
#define assert(x) ((void)0)
#else
void uwc_assert_fail(const char *expr, const char *file, int line, const char *func)
    __attribute__((noreturn));
#define assert(x) ((x) ? (void)0 : uwc_assert_fail(#x, __FILE__, __LINE__, __func__))
#endif
#ifndef UWC_ASSERT_H
#define UWC_ASSERT_H
#define static_assert _Static_assert
#endif
