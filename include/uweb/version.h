/*
 * version.h - the version of uweb, in one place.
 *
 * UW_VERSION is the release of this tree ("MAJOR.MINOR.PATCH"); the build
 * reads it from here for the pkg-config modules, the man pages and the
 * Debian package (pkg/build.mk), and every tool and app prints it for
 * --version.  Host programs that do not link libuweb.a (the tenders) use
 * the macro; everything else may call uw_version(), which reports the
 * library actually linked.
 */
#ifndef UWEB_VERSION_H
#define UWEB_VERSION_H

#define UW_VERSION "0.1.0"

/* The version of the linked library: UW_VERSION when it was built. */
const char *uw_version(void);

#endif
