/*
 * jansson: jansson built for the guest (platform/jansson/build.mk) works:
 * a document with nested arrays, \u escapes (a surrogate pair) and the
 * int64 limits parses and dumps back byte for byte (compact, sorted keys);
 * an object of 2,000 keys (the hash seeded from uw_random) finds each;
 * json_pack/json_unpack; a number with a fraction or an exponent, invalid
 * UTF-8 and a syntax error are refused with the line and column; memory
 * through json_set_alloc_funcs is all given back.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "uw_platform.h"

UW_PLAT_MANIFEST();

static int failures;
#define EXPECT(cond, what) do { if (!(cond)) { printf("FAILURE: %s\n", what); failures++; } } while (0)

static long live;
static void *counted_malloc(size_t n)
{
    void *p = malloc(n);
    if (p) live++;
    return p;
}
static void counted_free(void *p)
{
    if (p) live--;
    free(p);
}

int main(void)
{
    json_set_alloc_funcs(counted_malloc, counted_free);
    static const char doc[] =
        "{\"a\":[1,[2,[3,[]]],{}],\"big\":9223372036854775807,\"neg\":-9223372036854775808,"
        "\"s\":\"caf\\u00E9 \\uD83D\\uDE00 \\\"q\\\"\",\"t\":true,\"z\":null}";
    json_error_t err;
    json_t *v = json_loads(doc, 0, &err);
    EXPECT(v != NULL, "the document does not parse");
    if (v) {
        char *out = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII);
        EXPECT(out && strcmp(out, doc) == 0, "the document does not dump back byte for byte");
        counted_free(out);   /* jansson allocated it */
        EXPECT(json_integer_value(json_object_get(v, "big")) == 9223372036854775807LL, "INT64_MAX");
        const char *s = json_string_value(json_object_get(v, "s"));
        EXPECT(s && strcmp(s, "caf\xc3\xa9 \xf0\x9f\x98\x80 \"q\"") == 0, "\\u escapes to UTF-8");
        json_decref(v);
    }

    json_t *o = json_object();
    char key[32];
    for (int i = 0; i < 2000; i++) {
        snprintf(key, sizeof key, "key%d", i);
        json_object_set_new(o, key, json_integer(i));
    }
    int found = 0;
    for (int i = 0; i < 2000; i++) {
        snprintf(key, sizeof key, "key%d", i);
        found += json_integer_value(json_object_get(o, key)) == i;
    }
    EXPECT(json_object_size(o) == 2000 && found == 2000, "2,000 keys in an object");
    json_decref(o);

    json_t *p = json_pack("{s:s, s:I, s:[b,n]}", "id", "abc", "n", (json_int_t)42, "l", 1);
    const char *id = NULL;
    json_int_t n = 0;
    int b = 0;
    EXPECT(p && json_unpack(p, "{s:s, s:I, s:[b,n]}", "id", &id, "n", &n, "l", &b) == 0
           && strcmp(id, "abc") == 0 && n == 42 && b == 1, "json_pack/json_unpack round trip");
    json_decref(p);

    v = json_loads("{\"x\": 1.5}", 0, &err);
    EXPECT(!v && err.line == 1, "a number with a fraction is refused");
    json_decref(v);
    v = json_loads("[1e3]", 0, &err);
    EXPECT(!v, "a number with an exponent is refused");
    json_decref(v);
    v = json_loads("[\"\xff\"]", 0, &err);
    EXPECT(!v, "invalid UTF-8 is refused");
    json_decref(v);
    v = json_loads("{\n  \"a\": [1,\n  2,,]\n}", 0, &err);
    EXPECT(!v && err.line == 3 && err.column == 5, "a syntax error says line 3, column 5");
    json_decref(v);
    EXPECT(json_load_file("/etc/passwd", 0, &err) == NULL, "no files on the guest");

    EXPECT(live == 0, "jansson's allocations are all freed");
    if (failures) return 1;
    puts("SUCCESS");
    return 0;
}
