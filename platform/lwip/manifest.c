/* The devices of every uweb service unikernel: one network interface. */
#include "uw_platform.h"

UW_PLAT_MANIFEST(UW_PLAT_NET("service"));
