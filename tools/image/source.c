/* The trees uweb-image stores: a folder on disk, or a commit's tree in a
 * Git repository (libgit2). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <git2.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image_tool.h"

void tool_tree_add(struct tool_tree *t, const char *path, uint8_t *data, uint64_t size, int64_t mtime)
{
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 1024;
        t->files = realloc(t->files, t->cap * sizeof *t->files);
        if (!t->files) tool_die("out of memory");
    }
    size_t pl = strlen(path);
    if (pl == 0 || pl > 4000) tool_die("%s: path too long", path);
    t->files[t->n++] = (struct tool_file){ strdup(path), pl, data, size, mtime };
    if (mtime > t->time) t->time = mtime;
}

/* ------------------------------------------------------------ folders */

static uint8_t *read_whole(const char *file, uint64_t *size)
{
    int fd = open(file, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) tool_die("%s: %s", file, strerror(errno));
    uint8_t *buf = malloc(st.st_size ? (size_t)st.st_size : 1);
    if (!buf) tool_die("%s: out of memory", file);
    size_t got = 0;
    while (got < (size_t)st.st_size) {
        ssize_t k = read(fd, buf + got, (size_t)st.st_size - got);
        if (k < 0 && errno == EINTR) continue;
        if (k < 0) tool_die("%s: %s", file, strerror(errno));
        if (k == 0) tool_die("%s: changed while being read", file);
        got += (size_t)k;
    }
    close(fd);
    *size = got;
    return buf;
}

static int name_cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Walks DIR/REL in byte order, skipping names that start with a dot;
 * symbolic links to files are followed, those to directories skipped. */
static void walk(struct tool_tree *t, const char *dir, const char *rel)
{
    char full[PATH_MAX];
    snprintf(full, sizeof full, "%s%s%s", dir, *rel ? "/" : "", rel);
    DIR *d = opendir(full);
    if (!d) tool_die("%s: %s", full, strerror(errno));
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            names = realloc(names, cap * sizeof *names);
            if (!names) tool_die("out of memory");
        }
        names[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof *names, name_cmp);
    for (size_t i = 0; i < n; i++) {
        char path[PATH_MAX + 256], child[PATH_MAX];
        if ((size_t)snprintf(child, sizeof child, "%s%s%s", rel, *rel ? "/" : "", names[i]) >= sizeof child)
            tool_die("%s/%s: path too long", full, names[i]);
        if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, child) >= sizeof path) tool_die("%s/%s: path too long", dir, child);
        struct stat st, lst;
        if (lstat(path, &lst) != 0) tool_die("%s: %s", path, strerror(errno));
        if (stat(path, &st) != 0) {
            tool_warn("%s: %s (skipped)", path, strerror(errno));
        } else if (S_ISDIR(st.st_mode)) {
            if (S_ISLNK(lst.st_mode)) tool_warn("%s: a link to a directory (skipped)", path);
            else walk(t, dir, child);
        } else if (S_ISREG(st.st_mode)) {
            uint64_t size;
            uint8_t *data = read_whole(path, &size);
            tool_tree_add(t, child, data, size, (int64_t)st.st_mtime);
        }
        free(names[i]);
    }
    free(names);
}

void tool_read_dir(struct tool_tree *t, const char *dir)
{
    struct stat st;
    if (stat(dir, &st) != 0) tool_die("%s: %s", dir, strerror(errno));
    if (!S_ISDIR(st.st_mode)) tool_die("%s: not a directory", dir);
    walk(t, dir, "");
}

/* ------------------------------------------------------------ Git */

static void git_die(const char *what)
{
    const git_error *e = git_error_last();
    tool_die("%s: %s", what, e && e->message ? e->message : "libgit2 error");
}

struct git_walk { struct tool_tree *t; git_repository *repo; int64_t time; };

static int git_entry(const char *root, const git_tree_entry *entry, void *arg)
{
    struct git_walk *w = arg;
    if (git_tree_entry_type(entry) != GIT_OBJECT_BLOB) return 0;
    if (git_tree_entry_filemode(entry) == GIT_FILEMODE_LINK) return 0;
    git_blob *blob;
    if (git_blob_lookup(&blob, w->repo, git_tree_entry_id(entry)) != 0) git_die("blob");
    uint64_t size = (uint64_t)git_blob_rawsize(blob);
    uint8_t *data = malloc(size ? size : 1);
    if (!data) tool_die("out of memory");
    memcpy(data, git_blob_rawcontent(blob), size);
    git_blob_free(blob);
    char path[PATH_MAX];
    if ((size_t)snprintf(path, sizeof path, "%s%s", root, git_tree_entry_name(entry)) >= sizeof path)
        tool_die("%s%s: path too long", root, git_tree_entry_name(entry));
    tool_tree_add(w->t, path, data, size, w->time);
    return 0;
}

void tool_read_git(struct tool_tree *t, const char *src, const char *ref)
{
    git_libgit2_init();
    git_repository *repo = NULL;
    char tmp[] = "/tmp/uweb-image-clone-XXXXXX";
    bool cloned = false;
    if (strstr(src, "://")) {
        if (!mkdtemp(tmp)) tool_die("%s", strerror(errno));
        git_clone_options co = GIT_CLONE_OPTIONS_INIT;
        co.bare = 1;
        if (git_clone(&repo, src, tmp, &co) != 0) git_die(src);
        cloned = true;
    } else if (git_repository_open_ext(&repo, src, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL) != 0) {
        git_die(src);
    }
    git_object *obj, *peeled;
    if (git_revparse_single(&obj, repo, ref) != 0) git_die(ref);
    if (git_object_peel(&peeled, obj, GIT_OBJECT_COMMIT) != 0) git_die(ref);
    git_commit *commit = (git_commit *)peeled;
    git_tree *tree;
    if (git_commit_tree(&tree, commit) != 0) git_die(ref);
    git_oid_tostr(t->commit, sizeof t->commit, git_commit_id(commit));
    snprintf(t->ref, sizeof t->ref, "%s", ref);
    t->git = true;
    struct git_walk w = { t, repo, (int64_t)git_commit_time(commit) };
    if (git_tree_walk(tree, GIT_TREEWALK_PRE, git_entry, &w) != 0) git_die("tree");
    t->time = w.time;
    git_tree_free(tree);
    git_object_free(peeled);
    git_object_free(obj);
    git_repository_free(repo);
    if (cloned) {
        char cmd[PATH_MAX + 16];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
        if (system(cmd) != 0) tool_warn("%s: could not remove", tmp);
    }
    git_libgit2_shutdown();
}
