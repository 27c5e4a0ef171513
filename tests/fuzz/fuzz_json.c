/*
 * Fuzz target of JSON bodies (json.h): the nesting check that runs before
 * jansson's parser, then the parser with the same flags as uw_req_json.
 * A text the check passes must parse without exhausting a small stack
 * (the depth limit is what keeps it small).  A violation traps (or
 * crashes the stack).
 */
#include <stdint.h>
#include <stdlib.h>

#include <uweb/json.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int line = 0, col = 0;
    if (uw_json_depth_check((const char *)data, size, 32, &line, &col) != 0) {
        if (line < 1 || col < 1) __builtin_trap();
        return 0;
    }
    json_error_t err;
    json_t *j = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &err);
    if (j) {
        char *s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
        free(s);
        json_decref(j);
    } else if (err.line < -1) {
        __builtin_trap();
    }
    return 0;
}
