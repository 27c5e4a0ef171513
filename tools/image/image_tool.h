/* uweb-image's parts: the command line (main.c), the sources (source.c:
 * a folder or a Git tree) and the writer (writer.c). */
#ifndef UWEB_IMAGE_TOOL_H
#define UWEB_IMAGE_TOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One file of the tree to store. */
struct tool_file {
    char *path;             /* relative, no leading '/' */
    size_t plen;
    uint8_t *data;
    uint64_t size;
    int64_t mtime;
};

struct tool_tree {
    struct tool_file *files;
    size_t n, cap;
    bool git;
    char commit[65];
    char ref[129];
    int64_t time;           /* commit time, or the newest mtime */
};

struct build_options {
    const char *src, *out, *ref;
    bool have_mtime;
    int64_t mtime;
    int level;
    uint32_t solid_size, chunk_size;
    bool no_dictionary;
    bool progress;
};

/* Exits with a one-line reason (after removing a partial output). */
void tool_die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void tool_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
extern char *tool_tmp_path;

void tool_tree_add(struct tool_tree *t, const char *path, uint8_t *data, uint64_t size, int64_t mtime);
void tool_read_dir(struct tool_tree *t, const char *dir);
void tool_read_git(struct tool_tree *t, const char *src, const char *ref);
void tool_write_image(struct tool_tree *t, const struct build_options *o);

#endif
