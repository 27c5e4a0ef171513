/* unistd.h - the few POSIX names guest code refers to (no files, no processes). */
#ifndef UWC_UNISTD_H
#define UWC_UNISTD_H
#include <sys/types.h>
#ifndef SEEK_SET
#define SEEK_SET 0
#define SEEK_CUR 1
#define SEEK_END 2
#endif
#define STDIN_FILENO 0
#define STDOUT_FILENO 1
#define STDERR_FILENO 2
#endif
