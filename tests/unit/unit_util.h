/*
 * unit_util.h - helpers shared by the unit tests: building MessagePack with
 * msgpack-c (an encoder independent of gigflow's) and exact-size copies of
 * byte strings, so that AddressSanitizer catches any read past the end.
 */
#ifndef GF_UNIT_UTIL_H
#define GF_UNIT_UTIL_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <msgpack.h>

/* A heap copy of exactly n bytes (at least one allocated); free() it. */
static inline uint8_t *exact_copy(const void *p, size_t n)
{
    uint8_t *c = malloc(n ? n : 1);
    if (c && n)
        memcpy(c, p, n);
    return c;
}

/* Pack a string with msgpack-c. */
static inline void pk_str(msgpack_packer *pk, const char *s)
{
    size_t n = strlen(s);
    msgpack_pack_str(pk, n);
    msgpack_pack_str_body(pk, s, n);
}

#endif
