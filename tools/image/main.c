/*
 * uweb-image: builds, lists, reads and checks read-only site images (a
 * folder or a Git tree, compressed, for uw_image_handler).  --help says
 * everything; tools/image/README.md describes the format.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "image_tool.h"
#include "uweb/image.h"
#include "uweb/version.h"

static const char usage_text[] =
"NAME\n"
"    uweb-image - build and read compressed read-only images of a site\n"
"\n"
"SYNOPSIS\n"
"    uweb-image build SRC -o IMAGE [--ref=REF] [options]\n"
"    uweb-image ls [-l] IMAGE [PREFIX]\n"
"    uweb-image cat IMAGE PATH\n"
"    uweb-image info IMAGE\n"
"    uweb-image verify IMAGE\n"
"\n"
"DESCRIPTION\n"
"    An image holds a tree of files for a uweb server to serve read-only\n"
"    from a block device or a file (uw_image_handler, include/uweb/image.h):\n"
"    a folder, or the tree of one commit of a Git repository.  Identical\n"
"    contents are stored once; small files are packed together, similar\n"
"    ones side by side, into solid blocks compressed with zstd (with a\n"
"    dictionary trained on the tree when it makes the image smaller);\n"
"    large files are cut into chunks compressed one by one, so a range\n"
"    read decompresses only the chunks it needs.  The sorted path index\n"
"    is stored in pages a lookup reads a few of.  Every block has its\n"
"    SHA-256 in the block table, and the table a Merkle root in the\n"
"    header: a reader checks each block it reads, so a damaged image gives\n"
"    an error, never wrong bytes.\n"
"\n"
"    Each file keeps its size, its content type (from its extension, as\n"
"    uweb-crunch gives it), a strong ETag from its content's SHA-256 and a\n"
"    modification time: the commit's time for a Git tree, the file's for a\n"
"    folder, or --mtime.\n"
"\n"
"    The output depends only on the input and the options: the same tree\n"
"    gives the same bytes.  It is written to a temporary file and renamed,\n"
"    so a failed run leaves no partial image.  On a terminal, build shows\n"
"    a progress bar on standard error.\n"
"\n"
"COMMANDS\n"
"    build SRC -o IMAGE\n"
"                SRC is a folder (names starting with a dot are skipped,\n"
"                links to files followed, links to folders skipped) or,\n"
"                with --ref or a URL, a Git repository: a local path\n"
"                (bare or not) or a URL libgit2 clones (file://...); every\n"
"                blob of the commit's tree is stored, symbolic links are\n"
"                not.\n"
"    ls IMAGE [PREFIX]\n"
"                the paths, in order (from PREFIX on, those starting with\n"
"                it); -l adds size, modification time, type and ETag.\n"
"    cat IMAGE PATH\n"
"                writes the file's bytes to standard output.\n"
"    info IMAGE  what the header says: sizes, counts, source, root hash.\n"
"    verify IMAGE\n"
"                checks every byte of the image: header, table, every\n"
"                block, the index, every file against its hash; prints one\n"
"                line per problem, naming the block and its files.\n"
"\n"
"OPTIONS\n"
"    -o, --output IMAGE      the image to write (build)\n"
"        --ref=REF           a branch, tag or commit of the Git repository\n"
"                            SRC (default HEAD when SRC is a URL)\n"
"        --mtime=SECONDS     the modification time of every file\n"
"        --level=N           zstd level, 1..22 (default 19)\n"
"        --solid-size=BYTES  bytes per solid block (default 1048576): files up\n"
"                            to this size are packed whole, larger ones cut\n"
"                            into chunks; smaller blocks read faster, larger\n"
"                            ones compress better\n"
"        --chunk-size=BYTES  bytes per chunk of a large file (default 262144)\n"
"        --no-dictionary     never train a dictionary\n"
"    -q, --quiet             no progress bar\n"
"    -h, --help              print this help\n"
"        --version           print the version and exit\n"
"\n"
"EXIT STATUS\n"
"    0 on success; 1 with a one-line reason on standard error for a\n"
"    missing input, an unreadable, truncated or damaged image (verify: a\n"
"    line per problem), a missing path (cat) or a failure to write; 2 for\n"
"    bad usage.\n"
"\n"
"EXAMPLES\n"
"    uweb-image build public/ -o site.img\n"
"    uweb-image build ~/src/docs --ref=v2.1 -o docs.img\n"
"    uweb-image cat site.img /index.html\n"
"    build/apps/site --image=site.img\n";

/* ------------------------------------------------------------ errors */

char *tool_tmp_path;

void tool_die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("uweb-image: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    if (tool_tmp_path) unlink(tool_tmp_path);
    exit(1);
}

void tool_warn(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("uweb-image: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static void __attribute__((noreturn)) usage_error(const char *what)
{
    fprintf(stderr, "uweb-image: %s (see uweb-image --help)\n", what);
    exit(2);
}

static uint64_t number(const char *opt, const char *v, uint64_t min, uint64_t max)
{
    char *end;
    errno = 0;
    unsigned long long n = strtoull(v, &end, 10);
    if (!*v || *end || errno || n < min || n > max) {
        char msg[128];
        snprintf(msg, sizeof msg, "%s needs a number from %llu to %llu", opt, (unsigned long long)min, (unsigned long long)max);
        usage_error(msg);
    }
    return n;
}

static uw_image *open_image(const char *path)
{
    uw_image *im;
    if (uw_image_open_file(&im, path, NULL) != UW_OK) tool_die("%s: %s", path, uw_image_open_error());
    return im;
}

/* ------------------------------------------------------------ commands */

struct ls_state { const char *prefix; size_t plen; bool longform; };

static int ls_one(void *arg, const uw_image_file *f)
{
    struct ls_state *s = arg;
    if (s->prefix && strncmp(f->path + 1, s->prefix, s->plen) != 0) return 1;
    if (s->longform) {
        char date[32];
        time_t t = (time_t)f->mtime;
        struct tm tm;
        strftime(date, sizeof date, "%Y-%m-%d %H:%M:%S", gmtime_r(&t, &tm));
        printf("%12llu  %s  %-32s %s  %s\n", (unsigned long long)f->size, date, f->content_type, f->etag, f->path);
    } else {
        printf("%s\n", f->path);
    }
    return 0;
}

static int cmd_ls(int argc, char **argv)
{
    struct ls_state s = { NULL, 0, false };
    const char *img = NULL;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "-l") == 0) s.longform = true;
        else if (!img) img = argv[i];
        else if (!s.prefix) { s.prefix = argv[i][0] == '/' ? argv[i] + 1 : argv[i]; s.plen = strlen(s.prefix); }
        else usage_error("ls takes an image and at most one prefix");
    }
    if (!img) usage_error("ls needs an image");
    uw_image *im = open_image(img);
    int r = uw_image_each(im, s.prefix, ls_one, &s);
    if (r < 0) tool_die("%s: %s", img, uw_image_error(im));
    if (fflush(stdout) != 0) tool_die("standard output: %s", strerror(errno));
    uw_image_close(im);
    return 0;
}

static int cmd_cat(int argc, char **argv)
{
    if (argc != 2) usage_error("cat needs an image and a path");
    uw_image *im = open_image(argv[0]);
    uw_image_file f;
    int r = uw_image_lookup(im, argv[1], strlen(argv[1]), &f);
    if (r == UW_ENOENT) tool_die("%s: no file %s", argv[0], argv[1]);
    if (r != UW_OK) tool_die("%s: %s", argv[0], uw_image_error(im));
    static char buf[1 << 20];
    for (uint64_t off = 0; off < f.size;) {
        size_t n = f.size - off < sizeof buf ? (size_t)(f.size - off) : sizeof buf;
        if (uw_image_read(im, &f, off, buf, n) != UW_OK) tool_die("%s: %s", argv[0], uw_image_error(im));
        if (fwrite(buf, 1, n, stdout) != n) tool_die("standard output: %s", strerror(errno));
        off += n;
    }
    if (fflush(stdout) != 0) tool_die("standard output: %s", strerror(errno));
    uw_image_close(im);
    return 0;
}

static int cmd_info(int argc, char **argv)
{
    if (argc != 1) usage_error("info needs an image");
    uw_image *im = open_image(argv[0]);
    uw_image_info in;
    uw_image_get_info(im, &in);
    char root[65], date[32];
    for (int i = 0; i < 32; i++) snprintf(root + 2 * i, 3, "%02x", in.root[i]);
    time_t t = (time_t)in.source_time;
    struct tm tm;
    strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &tm));
    printf("format version  %u\n", in.version);
    printf("image size      %llu\n", (unsigned long long)in.image_size);
    printf("files           %llu\n", (unsigned long long)in.files);
    printf("contents        %llu (deduplicated)\n", (unsigned long long)in.contents);
    printf("bytes           %llu\n", (unsigned long long)in.total_bytes);
    printf("blocks          %llu\n", (unsigned long long)in.blocks);
    printf("solid size      %u\n", in.solid_size);
    printf("chunk size      %u\n", in.chunk_size);
    printf("dictionary      %s\n", in.dictionary ? "yes" : "no");
    printf("source          %s\n", in.git ? "git" : "folder");
    if (in.git) printf("ref             %s\ncommit          %s\n", in.ref, in.commit);
    printf("source time     %s (%lld)\n", date, (long long)in.source_time);
    printf("root            %s\n", root);
    uw_image_close(im);
    return 0;
}

static void print_line(void *arg, const char *line)
{
    fprintf(stderr, "uweb-image: %s: %s\n", (const char *)arg, line);
}

static int cmd_verify(int argc, char **argv)
{
    if (argc != 1) usage_error("verify needs an image");
    uw_image *im = open_image(argv[0]);
    int problems = uw_image_verify(im, print_line, argv[0]);
    uw_image_close(im);
    if (problems) return 1;
    printf("%s: ok\n", argv[0]);
    return 0;
}

static int cmd_build(int argc, char **argv)
{
    struct build_options o = { .level = 19, .solid_size = 1u << 20, .chunk_size = 256u << 10,
                               .progress = isatty(2) };
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0) {
            if (++i == argc) usage_error("-o needs a file");
            o.out = argv[i];
        } else if (strncmp(a, "--output=", 9) == 0) o.out = a + 9;
        else if (strncmp(a, "--ref=", 6) == 0) o.ref = a + 6;
        else if (strncmp(a, "--mtime=", 8) == 0) { o.mtime = (int64_t)number("--mtime", a + 8, 0, INT64_MAX); o.have_mtime = true; }
        else if (strncmp(a, "--level=", 8) == 0) o.level = (int)number("--level", a + 8, 1, 22);
        else if (strncmp(a, "--solid-size=", 13) == 0) o.solid_size = (uint32_t)number("--solid-size", a + 13, 4096, 2u << 20);
        else if (strncmp(a, "--chunk-size=", 13) == 0) o.chunk_size = (uint32_t)number("--chunk-size", a + 13, 4096, 2u << 20);
        else if (strcmp(a, "--no-dictionary") == 0) o.no_dictionary = true;
        else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) o.progress = false;
        else if (a[0] == '-' && a[1]) { char m[300]; snprintf(m, sizeof m, "unknown option %s", a); usage_error(m); }
        else if (!o.src) o.src = a;
        else usage_error("build takes one source");
    }
    if (!o.src) usage_error("build needs a source");
    if (!o.out) usage_error("build needs -o IMAGE");
    struct tool_tree t = { 0 };
    if (o.ref || strstr(o.src, "://")) tool_read_git(&t, o.src, o.ref ? o.ref : "HEAD");
    else tool_read_dir(&t, o.src);
    tool_write_image(&t, &o);
    for (size_t i = 0; i < t.n; i++) { free(t.files[i].path); free(t.files[i].data); }
    free(t.files);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) usage_error("a command is needed");
    const char *cmd = argv[1];
    if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0) { fputs(usage_text, stdout); return 0; }
    if (strcmp(cmd, "--version") == 0) { printf("uweb-image %s\n", UW_VERSION); return 0; }
    for (int i = 2; i < argc; i++)
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) { fputs(usage_text, stdout); return 0; }
    if (strcmp(cmd, "build") == 0) return cmd_build(argc - 2, argv + 2);
    if (strcmp(cmd, "ls") == 0) return cmd_ls(argc - 2, argv + 2);
    if (strcmp(cmd, "cat") == 0) return cmd_cat(argc - 2, argv + 2);
    if (strcmp(cmd, "info") == 0) return cmd_info(argc - 2, argv + 2);
    if (strcmp(cmd, "verify") == 0) return cmd_verify(argc - 2, argv + 2);
    char m[300];
    snprintf(m, sizeof m, "unknown command %s", cmd);
    usage_error(m);
}
