/* jansson_private_config.h for the unikernels (configure's answers):
 * the guest libc has <stdint.h>, <inttypes.h> and snprintf; no files,
 * no processes, no threads (no HAVE_UNISTD_H: json_dumpfd and
 * json_loadfd fail). */
#ifndef JANSSON_PRIVATE_CONFIG_H
#define JANSSON_PRIVATE_CONFIG_H
#define HAVE_STDINT_H 1
#define HAVE_INTTYPES_H 1
#define HAVE_STDLIB_H 1
#define HAVE_STRING_H 1
#define HAVE_SNPRINTF 1
#define HAVE_VSNPRINTF 1
#define INITIAL_HASHTABLE_ORDER 3
#endif
