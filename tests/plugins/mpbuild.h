/*
 * mpbuild.h - a tiny MessagePack writer for plugin tests that push records
 * as bytes (gf_harness_push) rather than JSON: fast enough for benchmarks
 * of a million records, and exact about types (int vs float).
 */
#ifndef MPBUILD_H
#define MPBUILD_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct mpb {
    uint8_t *p;
    size_t len, cap;
} mpb;

static inline void mpb_put(mpb *b, const void *d, size_t n)
{
    if (b->len + n > b->cap) {
        b->cap = (b->len + n) * 2 + 64;
        b->p = realloc(b->p, b->cap);
        if (!b->p)
            abort();
    }
    memcpy(b->p + b->len, d, n);
    b->len += n;
}

static inline void mpb_byte(mpb *b, uint8_t c)
{
    mpb_put(b, &c, 1);
}

static inline void mpb_be(mpb *b, uint64_t v, int bytes)
{
    for (int i = bytes - 1; i >= 0; i--)
        mpb_byte(b, (uint8_t)(v >> (8 * i)));
}

static inline void mpb_map(mpb *b, uint32_t n)
{
    if (n < 16) {
        mpb_byte(b, (uint8_t)(0x80 | n));
    } else {
        mpb_byte(b, 0xde);
        mpb_be(b, n, 2);
    }
}

static inline void mpb_strn(mpb *b, const char *s, size_t n)
{
    if (n < 32) {
        mpb_byte(b, (uint8_t)(0xa0 | n));
    } else if (n < 256) {
        mpb_byte(b, 0xd9);
        mpb_be(b, n, 1);
    } else {
        mpb_byte(b, 0xda);
        mpb_be(b, n, 2);
    }
    mpb_put(b, s, n);
}

static inline void mpb_str(mpb *b, const char *s)
{
    mpb_strn(b, s, strlen(s));
}

static inline void mpb_int(mpb *b, int64_t v)
{
    if (v >= 0 && v < 128) {
        mpb_byte(b, (uint8_t)v);
    } else if (v < 0 && v >= -32) {
        mpb_byte(b, (uint8_t)(0xe0 | (v + 32)));
    } else {
        mpb_byte(b, 0xd3);
        mpb_be(b, (uint64_t)v, 8);
    }
}

static inline void mpb_float(mpb *b, double d)
{
    uint64_t u;
    memcpy(&u, &d, 8);
    mpb_byte(b, 0xcb);
    mpb_be(b, u, 8);
}

static inline void mpb_bool(mpb *b, bool v)
{
    mpb_byte(b, v ? 0xc3 : 0xc2);
}
static inline void mpb_nil(mpb *b)
{
    mpb_byte(b, 0xc0);
}

#endif
