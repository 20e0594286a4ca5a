/*
 * gf_mp - zero-copy MessagePack validation and reading (see gf_mp.h).
 *
 * Bytes from outside the process are checked once, in place, by
 * gf_mp_check / gf_mp_check_batch: every declared length is compared with
 * the bytes that are left before it is used (written as `n > left`, never
 * `p + n > end`, so a huge n cannot wrap a pointer), a container's element
 * count is compared with the bytes left (each element takes at least one
 * byte, so an array32 declaring four billion elements in ten bytes is
 * refused at its header, without a loop and without allocating), nesting is
 * bounded, and 0xc1 and the ext types are refused. The walk is iterative
 * with a small stack of pending element counts, so the C stack never grows
 * with the input.
 *
 * Once bytes are validated, gf_mp_read and gf_mp_skip walk them without
 * checks: they are the hot path of every record read.
 */
#include "gf_mp.h"

#include <string.h>

/* Big-endian loads (MessagePack is big-endian) without alignment needs. */
static inline uint16_t load16(const uint8_t *p)
{
    return (uint16_t)((uint16_t)p[0] << 8 | p[1]);
}

static inline uint32_t load32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
           p[3];
}

static inline uint64_t load64(const uint8_t *p)
{
    return (uint64_t)load32(p) << 32 | load32(p + 4);
}

/*
 * One object's header, as far as the validator needs it: how many bytes
 * the header takes, how many payload bytes follow it (strings, bins,
 * scalars), and how many child objects follow it (2 per map pair).
 */
typedef struct mp_head {
    size_t hdr;     /* header bytes, including the type byte */
    uint64_t bytes; /* payload bytes after the header */
    uint64_t items; /* child objects after the header */
    int container;  /* 1 array, 2 map, 0 scalar */
} mp_head;

/*
 * Parse the header at p (left > 0 bytes available). Returns 0, or -1 when
 * the header itself is truncated or the type byte is refused.
 */
static int parse_head(const uint8_t *p, size_t left, mp_head *h)
{
    uint8_t c = p[0];
    h->bytes = 0;
    h->items = 0;
    h->container = 0;
    h->hdr = 1;
    if (c <= 0x7f || c >= 0xe0 || c == 0xc0 || c == 0xc2 || c == 0xc3)
        return 0;
    if (c >= 0x80 && c <= 0x8f) {
        h->items = 2u * (c & 0x0fu);
        h->container = 2;
        return 0;
    }
    if (c >= 0x90 && c <= 0x9f) {
        h->items = c & 0x0fu;
        h->container = 1;
        return 0;
    }
    if (c >= 0xa0 && c <= 0xbf) {
        h->bytes = c & 0x1fu;
        return 0;
    }
    switch (c) {
    case 0xcc:
    case 0xd0:
        h->bytes = 1;
        return 0;
    case 0xcd:
    case 0xd1:
        h->bytes = 2;
        return 0;
    case 0xce:
    case 0xd2:
    case 0xca:
        h->bytes = 4;
        return 0;
    case 0xcf:
    case 0xd3:
    case 0xcb:
        h->bytes = 8;
        return 0;
    case 0xc4:
    case 0xd9: /* bin8, str8 */
        if (left < 2)
            return -1;
        h->hdr = 2;
        h->bytes = p[1];
        return 0;
    case 0xc5:
    case 0xda: /* bin16, str16 */
        if (left < 3)
            return -1;
        h->hdr = 3;
        h->bytes = load16(p + 1);
        return 0;
    case 0xc6:
    case 0xdb: /* bin32, str32 */
        if (left < 5)
            return -1;
        h->hdr = 5;
        h->bytes = load32(p + 1);
        return 0;
    case 0xdc: /* array16 */
        if (left < 3)
            return -1;
        h->hdr = 3;
        h->items = load16(p + 1);
        h->container = 1;
        return 0;
    case 0xdd: /* array32 */
        if (left < 5)
            return -1;
        h->hdr = 5;
        h->items = load32(p + 1);
        h->container = 1;
        return 0;
    case 0xde: /* map16 */
        if (left < 3)
            return -1;
        h->hdr = 3;
        h->items = 2u * (uint64_t)load16(p + 1);
        h->container = 2;
        return 0;
    case 0xdf: /* map32 */
        if (left < 5)
            return -1;
        h->hdr = 5;
        h->items = 2u * (uint64_t)load32(p + 1);
        h->container = 2;
        return 0;
    default:
        /* 0xc1 (never used), ext 0xc7-0xc9, fixext 0xd4-0xd8 */
        return -1;
    }
}

long gf_mp_check(const uint8_t *p, const uint8_t *end, unsigned max_depth)
{
    /* pending[d]: objects still to read at nesting level d (level 0 is the
       top, where exactly one object is expected) */
    uint64_t pending[GF_MP_MAX_DEPTH + 2];
    unsigned depth = 0;
    const uint8_t *start = p;

    if (!p || !end || end < p)
        return -1;
    if (max_depth > GF_MP_MAX_DEPTH)
        max_depth = GF_MP_MAX_DEPTH;
    pending[0] = 1;
    for (;;) {
        while (pending[depth] == 0) {
            if (depth == 0)
                return (long)(p - start);
            depth--;
        }
        pending[depth]--;

        size_t left = (size_t)(end - p);
        mp_head h;
        if (left == 0 || parse_head(p, left, &h) != 0)
            return -1;
        p += h.hdr; /* parse_head made sure the header fits */
        left -= h.hdr;
        if (h.bytes > left)
            return -1;
        p += h.bytes;
        left -= (size_t)h.bytes;
        if (h.container) {
            if (depth + 1 > max_depth)
                return -1;
            /* every child takes at least one byte: refuse bombs here */
            if (h.items > left)
                return -1;
            pending[++depth] = h.items;
        }
    }
}

/* True for the type bytes of strings: fixstr, str8, str16, str32. */
static inline bool is_str(uint8_t c)
{
    return (c >= 0xa0 && c <= 0xbf) || c == 0xd9 || c == 0xda || c == 0xdb;
}

/*
 * Bytes taken by the scalar at p, header and payload, when the `left` bytes
 * from p hold it whole; 0 when p is a container or a refused byte (the
 * caller hands those to gf_mp_check), -1 when the scalar is truncated.
 */
static inline long scalar_check(const uint8_t *p, size_t left)
{
    size_t n = gf_mp_fixed_size(p[0]), hdr;
    uint64_t len;
    if (n)
        return n <= left ? (long)n : -1;
    switch (p[0]) {
    case 0xc4:
    case 0xd9:
        hdr = 2;
        break;
    case 0xc5:
    case 0xda:
        hdr = 3;
        break;
    case 0xc6:
    case 0xdb:
        hdr = 5;
        break;
    default:
        return 0;
    }
    if (hdr > left)
        return -1;
    len = hdr == 2 ? p[1] : hdr == 3 ? load16(p + 1) : load32(p + 1);
    return len <= left - hdr ? (long)(hdr + len) : -1;
}

/* The largest object gf_mp_fixed_size gives a size for (a 31-byte fixstr). */
#define MP_FIXED_MAX 32

/*
 * The fast part of checking a map's pairs: while at least two of the
 * largest fixed-size objects are left before `end`, a pair whose key is a
 * fixstr and whose value has a fixed size needs no bounds check at all.
 * Stops at the first other pair; *pairs counts the pairs still unchecked.
 */
static inline const uint8_t *flat_pairs(const uint8_t *p, const uint8_t *end,
                                        uint64_t *pairs)
{
    uint64_t left = *pairs;
    while (left > 0 && end - p >= 2 * MP_FIXED_MAX) {
        uint8_t k = p[0];
        if (k < 0xa0 || k > 0xbf)
            break;
        size_t v = gf_mp_fixed_size(p[1 + (k & 0x1fu)]);
        if (v == 0)
            break;
        p += 1 + (k & 0x1fu) + v;
        left--;
    }
    *pairs = left;
    return p;
}

/*
 * The batch check is the first thing every consumer does with a batch, so
 * it is written for what batches hold: flat maps of string keys and scalar
 * values, checked pair by pair without the general walk's stack (the
 * flat_pairs fast path, then scalar_check). Nested values go through the
 * general gf_mp_check.
 */
int gf_mp_check_batch(const uint8_t *p, size_t len, uint32_t count,
                      const char **why)
{
    const char *dummy;
    if (!why)
        why = &dummy;
    if (!p) {
        if (len == 0 && count == 0)
            return 0;
        *why = len ? "no payload" : "fewer records than the header's count";
        return -1;
    }
    const uint8_t *end = p + len;
    if (count > len) {
        /* a record takes at least one byte */
        *why = "record count larger than the payload";
        return -1;
    }
    for (uint32_t r = 0; r < count; r++) {
        size_t left = (size_t)(end - p);
        mp_head h;
        if (left == 0) {
            *why = "fewer records than the header's count";
            return -1;
        }
        if (parse_head(p, left, &h) != 0 || h.hdr > left) {
            *why = "truncated or malformed record";
            return -1;
        }
        if (h.container != 2) {
            *why = "record is not a map";
            return -1;
        }
        p += h.hdr;
        left -= h.hdr;
        if (h.items > left)
            goto truncated;
        uint64_t pairs = h.items / 2;
        p = flat_pairs(p, end, &pairs);
        for (uint64_t i = 0; i < pairs; i++) {
            if (p == end)
                goto truncated;
            if (!is_str(p[0])) {
                *why = "record key is not a string";
                return -1;
            }
            long n = scalar_check(p, (size_t)(end - p));
            if (n < 0)
                goto truncated;
            p += n;
            if (p == end)
                goto truncated;
            n = scalar_check(p, (size_t)(end - p));
            if (n == 0)
                n = gf_mp_check(p, end, GF_MP_MAX_DEPTH - 1);
            if (n < 0)
                goto truncated;
            p += n;
        }
    }
    if (p != end) {
        *why = "bytes left after the last record";
        return -1;
    }
    return 0;

truncated:
    *why = "truncated or malformed record";
    return -1;
}

/* Bytes of a validated scalar at p (header and payload), or 0 for a
   container. */
static inline size_t scalar_size(const uint8_t *p)
{
    uint8_t c = p[0];
    size_t n = gf_mp_fixed_size(c);
    if (n)
        return n;
    switch (c) {
    case 0xc4:
    case 0xd9:
        return 2u + p[1];
    case 0xc5:
    case 0xda:
        return 3u + load16(p + 1);
    case 0xc6:
    case 0xdb:
        return 5u + (size_t)load32(p + 1);
    default:
        return 0; /* a container */
    }
}

/* Header size and child object count of a validated container at p. */
static inline size_t container_head(const uint8_t *p, uint64_t *items)
{
    uint8_t c = p[0];
    if (c >= 0x80 && c <= 0x8f) {
        *items = 2u * (c & 0x0fu);
        return 1;
    }
    if (c >= 0x90 && c <= 0x9f) {
        *items = c & 0x0fu;
        return 1;
    }
    switch (c) {
    case 0xdc:
        *items = load16(p + 1);
        return 3;
    case 0xdd:
        *items = load32(p + 1);
        return 5;
    case 0xde:
        *items = 2u * (uint64_t)load16(p + 1);
        return 3;
    default:
        *items = 2u * (uint64_t)load32(p + 1);
        return 5; /* 0xdf */
    }
}

const uint8_t *gf_mp_skip(const uint8_t *p)
{
    size_t n = scalar_size(p);
    if (n)
        return p + n;
    uint64_t owed = 1;
    if ((p[0] >= 0x80 && p[0] <= 0x8f) || p[0] == 0xde || p[0] == 0xdf) {
        /* a map, a record most often: pairs of a fixed-size key and value
           are skipped a pair at a time */
        uint64_t pairs;
        p += container_head(p, &pairs);
        pairs /= 2;
        for (; pairs > 0; pairs--) {
            size_t k = gf_mp_fixed_size(p[0]), v;
            if (k == 0 || (v = gf_mp_fixed_size(p[k])) == 0)
                break;
            p += k + v;
        }
        owed = 2 * pairs;
    }
    /* a container: count the objects still owed; validated input keeps
       this finite */
    while (owed) {
        owed--;
        n = scalar_size(p);
        if (n) {
            p += n;
        } else {
            uint64_t items;
            p += container_head(p, &items);
            owed += items;
        }
    }
    return p;
}

const uint8_t *gf_mp_read(const uint8_t *p, gf_value *v)
{
    uint8_t c = p[0];
    v->raw = p;
    v->n = 0;
    if (c <= 0x7f) {
        v->type = GF_T_INT;
        v->v.i = c;
        v->raw_len = 1;
        return p + 1;
    }
    if (c >= 0xe0) {
        v->type = GF_T_INT;
        v->v.i = (int8_t)c;
        v->raw_len = 1;
        return p + 1;
    }
    if (c >= 0xa0 && c <= 0xbf) {
        v->type = GF_T_STR;
        v->v.s.ptr = (const char *)p + 1;
        v->v.s.len = c & 0x1fu;
        v->raw_len = 1 + v->v.s.len;
        return p + v->raw_len;
    }
    if (c <= 0x9f) {
        uint64_t items;
        container_head(p, &items);
        v->type = c <= 0x8f ? GF_T_MAP : GF_T_ARRAY;
        v->n = (uint32_t)(c <= 0x8f ? items / 2 : items);
        const uint8_t *e = gf_mp_skip(p);
        v->raw_len = (size_t)(e - p);
        return e;
    }
    const uint8_t *e;
    switch (c) {
    case 0xc0:
        v->type = GF_T_NIL;
        e = p + 1;
        break;
    case 0xc2:
    case 0xc3:
        v->type = GF_T_BOOL;
        v->v.b = c == 0xc3;
        e = p + 1;
        break;
    case 0xcc:
        v->type = GF_T_INT;
        v->v.i = p[1];
        e = p + 2;
        break;
    case 0xcd:
        v->type = GF_T_INT;
        v->v.i = load16(p + 1);
        e = p + 3;
        break;
    case 0xce:
        v->type = GF_T_INT;
        v->v.i = load32(p + 1);
        e = p + 5;
        break;
    case 0xcf: {
        uint64_t u = load64(p + 1);
        if (u > (uint64_t)INT64_MAX) {
            v->type = GF_T_FLOAT;
            v->v.f = (double)u;
        } else {
            v->type = GF_T_INT;
            v->v.i = (int64_t)u;
        }
        e = p + 9;
        break;
    }
    case 0xd0:
        v->type = GF_T_INT;
        v->v.i = (int8_t)p[1];
        e = p + 2;
        break;
    case 0xd1:
        v->type = GF_T_INT;
        v->v.i = (int16_t)load16(p + 1);
        e = p + 3;
        break;
    case 0xd2:
        v->type = GF_T_INT;
        v->v.i = (int32_t)load32(p + 1);
        e = p + 5;
        break;
    case 0xd3:
        v->type = GF_T_INT;
        v->v.i = (int64_t)load64(p + 1);
        e = p + 9;
        break;
    case 0xca: {
        uint32_t u = load32(p + 1);
        float f;
        memcpy(&f, &u, sizeof f);
        v->type = GF_T_FLOAT;
        v->v.f = f;
        e = p + 5;
        break;
    }
    case 0xcb: {
        uint64_t u = load64(p + 1);
        double d;
        memcpy(&d, &u, sizeof d);
        v->type = GF_T_FLOAT;
        v->v.f = d;
        e = p + 9;
        break;
    }
    case 0xd9:
    case 0xda:
    case 0xdb:
    case 0xc4:
    case 0xc5:
    case 0xc6: {
        size_t hdr, len;
        if (c == 0xd9 || c == 0xc4) {
            hdr = 2;
            len = p[1];
        } else if (c == 0xda || c == 0xc5) {
            hdr = 3;
            len = load16(p + 1);
        } else {
            hdr = 5;
            len = load32(p + 1);
        }
        v->type = c >= 0xd9 ? GF_T_STR : GF_T_BIN;
        v->v.s.ptr = (const char *)p + hdr;
        v->v.s.len = len;
        e = p + hdr + len;
        break;
    }
    default: { /* array16/32, map16/32 */
        uint64_t items;
        container_head(p, &items);
        v->type = (c == 0xdc || c == 0xdd) ? GF_T_ARRAY : GF_T_MAP;
        v->n = (uint32_t)(v->type == GF_T_MAP ? items / 2 : items);
        e = gf_mp_skip(p);
        break;
    }
    }
    v->raw_len = (size_t)(e - p);
    return e;
}

bool gf_mp_batch_next(const uint8_t **pos, const uint8_t *end, gf_record *rec)
{
    if (*pos >= end)
        return false;
    const uint8_t *e = gf_mp_skip(*pos);
    rec->data = *pos;
    rec->len = (size_t)(e - *pos);
    uint64_t items;
    container_head(*pos, &items);
    rec->nfields = (uint32_t)(items / 2);
    *pos = e;
    return true;
}
