/*
 * The devices @NAME@ asks for when it runs as a unikernel (spt, hvt):
 * uweb's network stack serves on the net device "service"; the tender
 * attaches it (uweb-spt --net:service=TAP).  Add UW_PLAT_NET("...") or
 * UW_PLAT_BLOCK("...") entries for more.  Not linked on unix.
 */
#include <uw_platform.h>

UW_PLAT_MANIFEST(UW_PLAT_NET("service"));
