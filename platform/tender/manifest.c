/*
 * manifest.c - checking the guest's manifest and matching the command
 * line's devices against it (contracts: uw_tender.h).
 */
#include <stdlib.h>
#include <string.h>
#include "uw_tender.h"

#define fail uw_tender_fail

static const char name_chars[] =
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_";

const char *uw_tender_type_name(uint32_t type)
{
    return type == UW_PLAT_DEVICE_NET ? "net" : "block";
}

int uw_tender_manifest_check(const struct uw_plat_manifest *m, size_t size,
                             struct uw_tender_error *err)
{
    if (size < sizeof *m || m->magic != UW_PLAT_MANIFEST_MAGIC)
        return fail(err, "malformed manifest note");
    if (m->version != UW_PLAT_ABI_VERSION)
        return fail(err, "built for platform ABI version %u, this tender runs version %u",
                    m->version, UW_PLAT_ABI_VERSION);
    if (m->count > UW_PLAT_MANIFEST_MAX
        || size != sizeof *m + (uint64_t)m->count * sizeof(struct uw_plat_device))
        return fail(err, "manifest declares %u devices in %zu bytes", m->count, size);
    for (uint32_t i = 0; i < m->count; i++) {
        const struct uw_plat_device *d = &m->devices[i];
        size_t len = strnlen(d->name, UW_PLAT_NAME_MAX);
        if (len == 0 || len == UW_PLAT_NAME_MAX || strspn(d->name, name_chars) != len)
            return fail(err, "manifest device %u has a bad name", i);
        if (d->type != UW_PLAT_DEVICE_NET && d->type != UW_PLAT_DEVICE_BLOCK)
            return fail(err, "manifest device '%s' has unknown type %u", d->name, d->type);
        if (d->flags & ~(UW_PLAT_DEVICE_OPTIONAL
                         | (d->type == UW_PLAT_DEVICE_NET ? UW_PLAT_DEVICE_NET_OFFLOADS : 0)))
            return fail(err, "manifest device '%s' has unknown flags 0x%x", d->name, d->flags);
        for (uint32_t j = 0; j < i; j++)
            if (strcmp(m->devices[j].name, d->name) == 0)
                return fail(err, "manifest declares '%s' twice", d->name);
    }
    return 0;
}

struct uw_plat_manifest *uw_tender_manifest_copy(const uint8_t *file,
                                                 const struct uw_tender_image *img,
                                                 size_t *size, struct uw_tender_error *err)
{
    if (img->manifest_size == 0) {
        fail(err, "no manifest (declare one with UW_PLAT_MANIFEST)");
        return NULL;
    }
    struct uw_plat_manifest *m = malloc(img->manifest_size);
    if (!m) {
        fail(err, "out of memory");
        return NULL;
    }
    memcpy(m, file + img->manifest_offset, img->manifest_size);
    if (uw_tender_manifest_check(m, img->manifest_size, err) < 0) {
        free(m);
        return NULL;
    }
    /* The tender's fields start clean whatever the image holds. */
    for (uint32_t i = 0; i < m->count; i++) {
        m->devices[i].attached = 0;
        m->devices[i].reserved = 0;
        m->devices[i].hostfd = -1;
        memset(&m->devices[i].info, 0, sizeof m->devices[i].info);
    }
    *size = img->manifest_size;
    return m;
}

int uw_tender_device_option(const char *option, struct uw_tender_device_arg *args,
                            int *nargs, struct uw_tender_error *err)
{
    uint32_t type;
    const char *spec;
    if (strncmp(option, "--net:", 6) == 0) {
        type = UW_PLAT_DEVICE_NET;
        spec = option + 6;
    } else if (strncmp(option, "--block:", 8) == 0) {
        type = UW_PLAT_DEVICE_BLOCK;
        spec = option + 8;
    } else {
        return 0;
    }
    const char *eq = strchr(spec, '=');
    if (!eq || eq == spec || !eq[1] || (size_t)(eq - spec) >= UW_PLAT_NAME_MAX)
        return fail(err, "bad device option '%s': expected --%s:NAME=%s", option,
                    uw_tender_type_name(type), type == UW_PLAT_DEVICE_NET ? "TAPIF" : "FILE");
    if (*nargs == UW_PLAT_MANIFEST_MAX)
        return fail(err, "%s: too many devices", option);
    struct uw_tender_device_arg *d = &args[*nargs];
    memset(d, 0, sizeof *d);
    memcpy(d->name, spec, (size_t)(eq - spec));
    d->type = type;
    d->host = eq + 1;
    d->option = option;
    for (int i = 0; i < *nargs; i++)
        if (strcmp(args[i].name, d->name) == 0)
            return fail(err, "device '%s' given twice", d->name);
    (*nargs)++;
    return 1;
}

int uw_tender_devices_match(const struct uw_plat_manifest *m,
                            const struct uw_tender_device_arg *args, int nargs,
                            int match[UW_PLAT_MANIFEST_MAX], struct uw_tender_error *err)
{
    /* Every device given must be declared with that type ... */
    for (int a = 0; a < nargs; a++) {
        uint32_t k;
        for (k = 0; k < m->count; k++)
            if (strcmp(m->devices[k].name, args[a].name) == 0)
                break;
        if (k == m->count)
            return fail(err, "%s given, but the guest declares no device '%s'",
                        args[a].option, args[a].name);
        if (m->devices[k].type != args[a].type)
            return fail(err, "%s given, but the guest declares '%s' as a %s device",
                        args[a].option, args[a].name, uw_tender_type_name(m->devices[k].type));
    }
    /* ... and every declared device given, unless it is optional. */
    for (uint32_t k = 0; k < m->count; k++) {
        const struct uw_plat_device *d = &m->devices[k];
        match[k] = -1;
        for (int a = 0; a < nargs; a++)
            if (strcmp(args[a].name, d->name) == 0)
                match[k] = a;
        if (match[k] < 0 && !(d->flags & UW_PLAT_DEVICE_OPTIONAL))
            return fail(err, "the guest declares %s device '%s', but no --%s:%s=%s was given",
                        uw_tender_type_name(d->type), d->name, uw_tender_type_name(d->type),
                        d->name, d->type == UW_PLAT_DEVICE_NET ? "TAPIF" : "FILE");
    }
    return 0;
}
