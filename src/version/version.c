/* version.c - the linked library's version (include/uweb/version.h). */
#include <uweb/version.h>

const char *uw_version(void)
{
    return UW_VERSION;
}
