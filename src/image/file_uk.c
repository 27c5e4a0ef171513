/* The unikernels have no files: images come from block devices
 * (uw_image_open_device, image_block.c). */
#include "uweb/image.h"

#include "image_internal.h"

int uw_image_open_file(uw_image **out, const char *path, const uw_image_config *cfg)
{
    (void)path; (void)cfg;
    *out = 0;
    uw__image_set_open_error("no files on the unikernels: attach the image as a block device");
    return UW_EINVAL;
}
