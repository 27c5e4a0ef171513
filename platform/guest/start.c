/*
 * start.c - the common guest entry: start info -> heap, argc/argv, main
 * (contract: uw_plat_app_main in uw_platform.h, command-line rules in
 * guest.h and platform/README.md).
 */
#include <stdio.h>
#include <string.h>
#include "guest.h"

#define MAX_ARGS 64
#define LINE_MAX_BYTES 4096

int main(int argc, char **argv);

int uw_guest_split_cmdline(const char *line, char *buf, size_t size,
                           char **argv, int max_args)
{
    size_t o = 0;
    int argc = 0;
    const char *p = line;
    for (;;) {
        while (*p == ' ')
            p++;
        if (!*p)
            break;
        if (argc == max_args)
            return -1;
        argv[argc++] = buf + o;
        while (*p && *p != ' ') {
            if (*p == '"') {
                for (p++; *p != '"'; p++) {
                    if (!*p)
                        return -1;
                    if (*p == '\\' && (p[1] == '"' || p[1] == '\\'))
                        p++;
                    if (o + 1 >= size)
                        return -1;
                    buf[o++] = *p;
                }
                p++;
            } else {
                if (o + 1 >= size)
                    return -1;
                buf[o++] = *p++;
            }
        }
        if (o >= size)
            return -1;
        buf[o++] = 0;
    }
    argv[argc] = NULL;
    return argc;
}

int uw_plat_app_main(const struct uw_plat_start_info *si)
{
    static char buf[LINE_MAX_BYTES];
    static char *argv[MAX_ARGS + 1];
    static char *fallback[] = { "unikernel", NULL };

    uwc_heap_init((void *)si->heap_start, si->heap_size);
    int argc = uw_guest_split_cmdline(si->cmdline ? si->cmdline : "", buf, sizeof buf,
                                      argv, MAX_ARGS);
    if (argc < 0) {
        static const char msg[] = "uweb guest: command line too long or badly quoted\n";
        uw_plat_console_write(msg, sizeof msg - 1);
        return 125;
    }
    int ret = argc ? main(argc, argv) : main(1, fallback);
    fflush(stdout);
    return ret;
}
