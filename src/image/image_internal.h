/* The reader's hooks for the device glue (image_block.c).  Not public. */
#ifndef UWEB_IMAGE_INTERNAL_H
#define UWEB_IMAGE_INTERNAL_H

#include "uweb/image.h"

/* FN(ARG) runs when IM is closed (after the reader's last read). */
void uw__image_on_close(uw_image *im, void (*fn)(void *), void *arg);
/* Sets the line uw_image_open_error() returns. */
void uw__image_set_open_error(const char *why);

#endif
