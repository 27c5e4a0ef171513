/*
 * Fuzz target of the PROXY protocol parser and the address code of
 * src/http/proxy.c.
 *
 * Input: the first bytes of a connection.  They are fed as the server
 * reads them (the bytes the parser asks for, never more): it must never
 * ask past the header it then reports, a source it reports must be an
 * address that reads back to itself, and fed all at once the input gives
 * the same verdict.  The first 16 bytes, taken as an IPv6 address, must
 * write out and parse back to themselves, and the input as text must
 * parse as an address only if it writes back to an address.  A violation
 * traps.
 */
#include "../../src/http/http_internal.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void check_peer(const char *peer)
{
    if (!peer[0]) return;
    const char *a = peer, *end;
    if (peer[0] == '[') a++, end = strchr(peer, ']');
    else end = strchr(peer, ':');
    if (!end) __builtin_trap();
    uint8_t bin[16];
    char back[64];
    if (!uw__ip_parse(a, (size_t)(end - a), bin)) __builtin_trap();
    uw__ip_format(bin, back, sizeof back);
    if (strlen(back) != (size_t)(end - a) || memcmp(back, a, (size_t)(end - a)) != 0) __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char peer[64], peer2[64];
    size_t have = 0, need = 0;
    ssize_t r;
    while ((r = uw__proxy_parse(data, have, &need, peer, sizeof peer)) == 0) {
        if (need == 0 || need > 16 + 216) __builtin_trap();
        if (have + need > size) break;
        have += need;
    }
    if (r > 0) {
        if ((size_t)r < have) __builtin_trap();       /* read past the header */
        check_peer(peer);
        size_t need2;
        ssize_t r2 = uw__proxy_parse(data, size, &need2, peer2, sizeof peer2);
        if (r2 != r || strcmp(peer, peer2) != 0) __builtin_trap();
    }
    if (size >= 16) {
        char text[64];
        uint8_t back[16];
        uw__ip_format(data, text, sizeof text);
        if (!uw__ip_parse(text, strlen(text), back)) __builtin_trap();
        /* a mapped IPv4 address writes as dotted quad: same 16 bytes */
        if (memcmp(back, data, 16) != 0) __builtin_trap();
    }
    uint8_t a[16];
    size_t n = size < 64 ? size : 64;
    if (uw__ip_parse((const char *)data, n, a)) {
        char text[64];
        uint8_t b[16];
        uw__ip_format(a, text, sizeof text);
        if (!uw__ip_parse(text, strlen(text), b) || memcmp(a, b, 16) != 0) __builtin_trap();
    }
    uw_cidr c;
    char s[80];
    memcpy(s, data, n);
    s[n] = 0;
    if (uw_cidr_parse(s, &c) == UW_OK && c.bits > 128) __builtin_trap();
    return 0;
}
