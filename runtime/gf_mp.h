/*
 * gf_mp - zero-copy MessagePack reading and validation.
 *
 * msgpack-c's unpacker allocates a zone per object and trusts declared
 * lengths; the runtime instead validates bytes in place (every declared
 * length checked against the end of the buffer, nesting depth bounded) and
 * then reads values as views into the same bytes. Writing uses msgpack-c's
 * packer (see gf_record.c).
 */
#ifndef GF_MP_H
#define GF_MP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gigflow/record.h>

/* Deepest nesting accepted in a record (a map at the top is depth 1). */
#define GF_MP_MAX_DEPTH 32

/*
 * Validate one MessagePack object starting at p, ending no later than end.
 * Returns the number of bytes it occupies, or -1 when it is truncated,
 * malformed, uses a reserved byte (0xc1), or nests deeper than max_depth.
 * Ext types are refused.
 */
long gf_mp_check(const uint8_t *p, const uint8_t *end, unsigned max_depth);

/*
 * Validate a batch payload: exactly `count` records laid end to end filling
 * [p, p+len) with no byte left over; each a map with string keys.
 * Returns 0, or -1 with *why set to a static description.
 */
int gf_mp_check_batch(const uint8_t *p, size_t len, uint32_t count,
                      const char **why);

/*
 * Decode the already-validated object at p into *v (a view), returning the
 * pointer just past it. Only call on validated bytes.
 */
const uint8_t *gf_mp_read(const uint8_t *p, gf_value *v);
/* Skip one already-validated object. */
const uint8_t *gf_mp_skip(const uint8_t *p);

/*
 * Size of an object whose type byte `c` alone gives it: the fixed-size
 * scalars and fixstr, header included (at most 32 bytes); 0 for anything
 * else. Written as branches, not a table: walking MessagePack is a chain
 * of dependent loads (each object's size says where the next one starts),
 * and records of one stream share a layout, so well-predicted branches let
 * the CPU run ahead where a table would add a load to every link.
 * (Added by the perf helper, for the inline fast paths below.)
 */
static inline size_t gf_mp_fixed_size(uint8_t c)
{
    if (c <= 0x7f || c >= 0xe0)
        return 1; /* fixint */
    if (c >= 0xa0 && c <= 0xbf)
        return 1u + (c & 0x1fu); /* fixstr */
    switch (c) {
    case 0xc0: /* nil, false, true */
    case 0xc2:
    case 0xc3:
        return 1;
    case 0xcc: /* uint8, int8 */
    case 0xd0:
        return 2;
    case 0xcd: /* uint16, int16 */
    case 0xd1:
        return 3;
    case 0xca: /* float32, uint32, int32 */
    case 0xce:
    case 0xd2:
        return 5;
    case 0xcb: /* float64, uint64, int64 */
    case 0xcf:
    case 0xd3:
        return 9;
    default:
        return 0;
    }
}

/* gf_mp_skip with the common case inline: a fixed-size scalar or fixstr. */
static inline const uint8_t *gf_mp_skip_fast(const uint8_t *p)
{
    size_t n = gf_mp_fixed_size(p[0]);
    return n ? p + n : gf_mp_skip(p);
}

/*
 * Iterate the records of a validated batch: set *pos to the payload start
 * first; returns false at `end`.
 */
bool gf_mp_batch_next(const uint8_t **pos, const uint8_t *end, gf_record *rec);

#endif
