/* The image reader on the unikernels: not built yet (zstd is compiled for
 * unix only so far); every open fails with a line saying so. */
#include "uweb/image.h"
#include "image_internal.h"

static const char why[] = "images are not supported on the unikernels yet (zstd is not built for guests)";

const char *uw_image_open_error(void) { return why; }
const char *uw_image_error(const uw_image *im) { (void)im; return why; }

int uw_image_open(uw_image **out, uw_image_read_fn read, void *arg, uint64_t size, const uw_image_config *cfg)
{
    (void)read; (void)arg; (void)size; (void)cfg;
    *out = 0;
    return UW_EINVAL;
}

int uw_image_open_file(uw_image **out, const char *path, const uw_image_config *cfg)
{
    (void)path; (void)cfg;
    *out = 0;
    return UW_EINVAL;
}

void uw_image_close(uw_image *im) { (void)im; }
void uw__image_on_close(uw_image *im, void (*fn)(void *), void *arg) { (void)im; (void)fn; (void)arg; }
void uw__image_set_open_error(const char *w) { (void)w; }
void uw_image_get_info(const uw_image *im, uw_image_info *info) { (void)im; (void)info; }
int uw_image_lookup(uw_image *im, const char *path, size_t len, uw_image_file *f)
{
    (void)im; (void)path; (void)len; (void)f;
    return UW_EINVAL;
}
int uw_image_read(uw_image *im, const uw_image_file *f, uint64_t offset, void *buf, size_t n)
{
    (void)im; (void)f; (void)offset; (void)buf; (void)n;
    return UW_EINVAL;
}
int uw_image_each(uw_image *im, const char *from, int (*fn)(void *, const uw_image_file *), void *arg)
{
    (void)im; (void)from; (void)fn; (void)arg;
    return UW_EINVAL;
}
int uw_image_verify(uw_image *im, void (*report)(void *, const char *), void *arg)
{
    (void)im;
    if (report) report(arg, why);
    return 1;
}
