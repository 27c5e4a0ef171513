/* manifest.c - device lookup shared by the bindings (contracts: guest.h). */
#include <string.h>
#include "guest.h"

static const struct uw_plat_manifest *current;

void uw_guest_set_manifest(const struct uw_plat_manifest *manifest)
{
    current = manifest;
}

const struct uw_plat_manifest *uw_guest_manifest(void)
{
    return current;
}

int64_t uw_guest_device_find(const char *name, uint32_t type)
{
    if (!current || !name)
        return -1;
    for (uint32_t i = 0; i < current->count && i < UW_PLAT_MANIFEST_MAX; i++) {
        const struct uw_plat_device *d = &current->devices[i];
        if (d->type == type && d->attached
            && strncmp(d->name, name, UW_PLAT_NAME_MAX) == 0)
            return i;
    }
    return -1;
}

const struct uw_plat_device *uw_guest_device_get(uw_plat_handle_t handle, uint32_t type)
{
    if (!current || handle >= current->count || handle >= UW_PLAT_MANIFEST_MAX)
        return NULL;
    const struct uw_plat_device *d = &current->devices[handle];
    return d->type == type && d->attached ? d : NULL;
}
