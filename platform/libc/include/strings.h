/* strings.h - case-insensitive comparisons (see string.h). */
#ifndef UWC_STRINGS_H
#define UWC_STRINGS_H
#include <string.h>
#endif
