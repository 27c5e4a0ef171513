/*
 * hello: the console works and main's arguments arrive.
 * Run as `uweb-spt hello.spt` (or uweb-hvt); expects "SUCCESS", status 0.
 * `hello.spt --status N` returns N from main: the tender must exit with N.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "uw_platform.h"

UW_PLAT_MANIFEST();

int main(int argc, char **argv)
{
    static const char hello[] = "Hello, uweb unikernel!\n";
    uw_plat_console_write(hello, sizeof hello - 1);
    for (int i = 1; i < argc; i++)
        printf("argv[%d] = \"%s\"\n", i, argv[i]);
    if (argc < 1 || !strstr(argv[0], "hello")) {
        printf("FAILURE: argv[0] is \"%s\", expected the image name\n", argc ? argv[0] : "");
        return 1;
    }
    puts("SUCCESS");
    if (argc == 3 && strcmp(argv[1], "--status") == 0)
        return atoi(argv[2]);
    return 0;
}
