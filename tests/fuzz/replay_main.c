/*
 * Replays a fuzz corpus through a fuzz target built without libFuzzer:
 * every file under the directories named on the command line is fed to
 * LLVMFuzzerTestOneInput once.  Built with ASan+UBSan by the Makefile, so
 * a crash or an undefined behaviour on any corpus entry fails the test.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = malloc(n > 0 ? (size_t)n : 1);
    if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) { fclose(f); free(buf); return -1; }
    fclose(f);
    LLVMFuzzerTestOneInput(buf, (size_t)n);
    free(buf);
    return 0;
}

static int replay_dir(const char *dir, int *count)
{
    DIR *d = opendir(dir);
    if (!d) return -1;
    struct dirent *e;
    char path[4096];
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        struct stat st;
        if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
            if (replay_file(path) != 0) { closedir(d); return -1; }
            (*count)++;
        }
    }
    closedir(d);
    return 0;
}

int main(int argc, char **argv)
{
    int count = 0;
    for (int i = 1; i < argc; i++) {
        if (replay_dir(argv[i], &count) != 0) {
            printf("not ok - replay %s: cannot read the corpus\n", argv[i]);
            return 1;
        }
    }
    if (count == 0) { printf("not ok - replay: empty corpus\n"); return 1; }
    printf("ok - replayed %d corpus entries without a crash\n", count);
    return 0;
}
