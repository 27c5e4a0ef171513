/*
 * manifest.c - the guest's declared devices: reading the manifest note
 * from the image, checking it, and attaching the command line's devices.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hvt.h"

static const char *type_name(uint32_t type)
{
    return type == UW_PLAT_DEVICE_NET ? "net" : "block";
}

void hvt_manifest_read(struct hvt *h, const char *path)
{
    size_t size;
    struct uw_plat_manifest *m =
        hvt_elf_note(path, UW_PLAT_NOTE_NAME, UW_PLAT_NOTE_MANIFEST, &size);
    if (m == NULL)
        hvt_die("%s: no device manifest (not a uweb unikernel?)", path);
    if (size < sizeof(*m) || m->magic != UW_PLAT_MANIFEST_MAGIC)
        hvt_die("%s: bad device manifest", path);
    if (m->version != UW_PLAT_ABI_VERSION)
        hvt_die("%s: built for platform ABI version %u, this uweb-hvt "
                "runs version %d", path, m->version, UW_PLAT_ABI_VERSION);
    if (m->count > UW_PLAT_MANIFEST_MAX ||
        size != sizeof(*m) + (size_t)m->count * sizeof(struct uw_plat_device))
        hvt_die("%s: bad device manifest (%u devices in %zu bytes)", path,
                m->count, size);
    if (size > UW_HVT_MANIFEST_SIZE)
        hvt_die("%s: manifest too large", path);
    for (uint32_t i = 0; i < m->count; i++) {
        struct uw_plat_device *d = &m->devices[i];
        size_t len = strnlen(d->name, UW_PLAT_NAME_MAX);
        if (len == 0 || len == UW_PLAT_NAME_MAX ||
            strspn(d->name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                            "0123456789_") != len)
            hvt_die("%s: manifest entry %u has a bad name", path, i);
        if (d->type != UW_PLAT_DEVICE_NET && d->type != UW_PLAT_DEVICE_BLOCK)
            hvt_die("%s: manifest entry %s has unknown type %u", path,
                    d->name, d->type);
        for (uint32_t j = 0; j < i; j++)
            if (strcmp(m->devices[j].name, d->name) == 0)
                hvt_die("%s: device %s declared twice", path, d->name);
        /* The tender's fields start clean whatever the image holds. */
        d->attached = 0;
        d->hostfd = -1;
        memset(&d->info, 0, sizeof(d->info));
    }
    h->mft = m;
    h->mft_size = size;
    h->ndev = (int)m->count;
}

void hvt_manifest_print(const struct hvt *h)
{
    for (int i = 0; i < h->ndev; i++)
        printf("%s %s\n", type_name(h->mft->devices[i].type),
               h->mft->devices[i].name);
}

void hvt_manifest_attach(struct hvt *h, struct hvt_device_arg *args,
                         int nargs)
{
    for (int a = 0; a < nargs; a++) {
        int found = -1;
        for (int i = 0; i < h->ndev; i++)
            if (strcmp(h->mft->devices[i].name, args[a].name) == 0)
                found = i;
        if (found < 0)
            hvt_die("%s: the unikernel declares no device %s", args[a].option,
                    args[a].name);
        if (h->mft->devices[found].type != args[a].type)
            hvt_die("%s: the unikernel declares %s as a %s device",
                    args[a].option, args[a].name,
                    type_name(h->mft->devices[found].type));
    }
    for (int i = 0; i < h->ndev; i++) {
        struct uw_plat_device *d = &h->mft->devices[i];
        struct hvt_device_arg *arg = NULL;
        for (int a = 0; a < nargs; a++)
            if (strcmp(args[a].name, d->name) == 0)
                arg = &args[a];
        if (arg == NULL)
            hvt_die("the unikernel needs %s device %s: give --%s:%s=%s",
                    type_name(d->type), d->name, type_name(d->type), d->name,
                    d->type == UW_PLAT_DEVICE_NET ? "TAPIF" : "FILE");
        if (d->type == UW_PLAT_DEVICE_NET)
            hvt_open_tap(h, i, arg);
        else
            hvt_open_block(h, i, arg);
        d->attached = 1;
        d->hostfd = -1;
    }
}
