/* jansson_config.h for the unikernels (stands in for the one configure
 * writes from src/jansson_config.h.in): 64-bit integers, no localeconv
 * (the guests have one locale, "C"), reference counts without atomics
 * (a guest is one thread). */
#ifndef JANSSON_CONFIG_H
#define JANSSON_CONFIG_H
#define JSON_INLINE inline
#define JSON_INTEGER_IS_LONG_LONG 1
#define JSON_HAVE_LOCALECONV 0
#define JSON_HAVE_ATOMIC_BUILTINS 0
#define JSON_HAVE_SYNC_BUILTINS 0
#define JSON_PARSER_MAX_DEPTH 2048
#endif
