/*
 * gf_out - the record writer (see gf_out.h and the writer functions in
 * gigflow/plugin.h). This is the hot path of every ingest: begin, a dozen
 * or more set_* calls and end per record, millions of times a second.
 *
 * The open record is written straight into the batch, where it will be
 * sent from: begin() writes a one-byte map header placeholder, each new
 * field is appended as key+value, and end() writes the real pair count into
 * the header (moving the body up two or four bytes in the rare record with
 * more than 15 fields). A small array of field offsets (reused from record
 * to record, so nothing is allocated per record once warm) lets set_* find
 * a key set earlier and replace its value in place, and unset() cut a pair
 * out. begin_copy() copies the source record's pairs byte for byte into the
 * batch, so that untouched fields are never re-encoded, and indexes them
 * only when needed: setting a key the copy does not have (a classify stage
 * adding a field) costs a vector search for the key's bytes (may_hold_key)
 * and, only when they occur, one scan of the copied keys; setting a key it
 * has,
 * or unsetting one, indexes the copied pairs once, and from then on
 * overriding, unsetting and appending work as on a new record.
 *
 * Encoding is hand-written rather than msgpack-c's packer: each value is
 * formed in a few bytes on the stack and copied once into space already
 * reserved, where msgpack_pack_* makes one write-callback call per header
 * and per body. tests/bench/bench_record measures both on the same 15-field
 * records: gf_out about 5.7-5.9 million records/s, msgpack-c's packer into
 * a gf_buf about 4.3-4.6 million (1.3x slower, although gf_out also looks
 * for a key set twice on every set, which the packer loop does not).
 * The bytes are the same: smallest integer form
 * (unsigned forms for non-negative values, as msgpack-c does), str8 for
 * strings of 32-255 bytes, and every float as float64.
 *
 * Errors (out of memory, invalid set_raw bytes, a bad key) make out->status
 * negative; it is sticky, the open record is discarded at end(), and end()
 * returns the status so that the callback stops the run.
 */
#include "gf_out.h"

#include <errno.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#include <stdint.h>
#include <string.h>

#include "gf_alloc.h"
#include "gf_mp.h"

/* The first allocation of an empty batch takes this much more than
   batch_bytes, so a batch usually fills without a realloc. */
#define GF_OUT_SLACK 4096
/* Never pre-allocate more than this for one batch. */
#define GF_OUT_MAX_PREALLOC (1u << 20)
#define GF_OUT_FIELDS_MIN 32

/* --- encoders ----------------------------------------------------------- */

static inline void store16(uint8_t *b, uint32_t v)
{
    b[0] = (uint8_t)(v >> 8);
    b[1] = (uint8_t)v;
}

static inline void store32(uint8_t *b, uint32_t v)
{
    b[0] = (uint8_t)(v >> 24);
    b[1] = (uint8_t)(v >> 16);
    b[2] = (uint8_t)(v >> 8);
    b[3] = (uint8_t)v;
}

static inline void store64(uint8_t *b, uint64_t v)
{
    store32(b, (uint32_t)(v >> 32));
    store32(b + 4, (uint32_t)v);
}

/* String header for n bytes (n <= UINT32_MAX) into b[5]; its size. */
static inline size_t enc_str_hdr(uint8_t *b, size_t n)
{
    if (n < 32) {
        b[0] = (uint8_t)(0xa0 | n);
        return 1;
    }
    if (n < 256) {
        b[0] = 0xd9;
        b[1] = (uint8_t)n;
        return 2;
    }
    if (n < 65536) {
        b[0] = 0xda;
        store16(b + 1, (uint32_t)n);
        return 3;
    }
    b[0] = 0xdb;
    store32(b + 1, (uint32_t)n);
    return 5;
}

static inline size_t enc_bin_hdr(uint8_t *b, size_t n)
{
    if (n < 256) {
        b[0] = 0xc4;
        b[1] = (uint8_t)n;
        return 2;
    }
    if (n < 65536) {
        b[0] = 0xc5;
        store16(b + 1, (uint32_t)n);
        return 3;
    }
    b[0] = 0xc6;
    store32(b + 1, (uint32_t)n);
    return 5;
}

/* The smallest encoding of v into b[9]; its size. */
static inline size_t enc_int(uint8_t *b, int64_t v)
{
    if (v >= 0) {
        if (v < 128) {
            b[0] = (uint8_t)v;
            return 1;
        }
        if (v <= 0xff) {
            b[0] = 0xcc;
            b[1] = (uint8_t)v;
            return 2;
        }
        if (v <= 0xffff) {
            b[0] = 0xcd;
            store16(b + 1, (uint32_t)v);
            return 3;
        }
        if (v <= 0xffffffffLL) {
            b[0] = 0xce;
            store32(b + 1, (uint32_t)v);
            return 5;
        }
        b[0] = 0xcf;
        store64(b + 1, (uint64_t)v);
        return 9;
    }
    if (v >= -32) {
        b[0] = (uint8_t)(int8_t)v;
        return 1;
    }
    if (v >= INT8_MIN) {
        b[0] = 0xd0;
        b[1] = (uint8_t)(int8_t)v;
        return 2;
    }
    if (v >= INT16_MIN) {
        b[0] = 0xd1;
        store16(b + 1, (uint16_t)(int16_t)v);
        return 3;
    }
    if (v >= INT32_MIN) {
        b[0] = 0xd2;
        store32(b + 1, (uint32_t)(int32_t)v);
        return 5;
    }
    b[0] = 0xd3;
    store64(b + 1, (uint64_t)v);
    return 9;
}

static inline size_t enc_float(uint8_t *b, double v)
{
    uint64_t u;
    memcpy(&u, &v, sizeof u);
    b[0] = 0xcb;
    store64(b + 1, u);
    return 9;
}

/* --- the batch and the open record ---------------------------------------- */

static void fail(gf_out *out, int err)
{
    if (out->status == 0)
        out->status = err;
}

/* Room for n more bytes in the batch. An empty batch gets batch_bytes and
   some slack at once, so that filling it rarely reallocates. */
static inline int reserve(gf_out *out, size_t n)
{
    gf_buf *b = &out->batch;
    if (b->cap - b->len >= n)
        return 0;
    if (b->cap == 0) {
        size_t want = out->batch_bytes + GF_OUT_SLACK;
        if (want > GF_OUT_MAX_PREALLOC || want < out->batch_bytes)
            want = GF_OUT_MAX_PREALLOC;
        if (want < n)
            want = n;
        return gf_buf_reserve(b, want);
    }
    return gf_buf_reserve(b, n);
}

/* Is p inside the batch's bytes? (Then a realloc or move would invalidate
   it.) */
static inline bool in_batch(const gf_out *out, const void *p)
{
    uintptr_t a = (uintptr_t)p, d = (uintptr_t)out->batch.data;
    return p && out->batch.data && a >= d && a < d + out->batch.len;
}

static inline bool writable(gf_out *out)
{
    return out->open && out->status == 0;
}

/* Index of the field named key[0..klen) among the indexed fields, or -1. */
static inline long find_indexed(const gf_out *out, const char *key, size_t klen)
{
    const uint8_t *base = out->batch.data + out->rec_start;
    const gf_out_field *f = out->fields;
    for (size_t i = 0; i < out->nfields; i++)
        if (f[i].key_len == klen &&
            (klen == 0 || (base[f[i].key_off] == (uint8_t)key[0] &&
                           memcmp(base + f[i].key_off, key, klen) == 0)))
            return (long)i;
    return -1;
}

#if defined(__SSE2__)
/*
 * Can key[0..klen) (1 <= klen <= 31) be a key anywhere in [p, end)? The
 * first byte of a key follows the last byte of its header, which is
 * 0xa0|klen for a fixstr and klen itself for str8/16/32. Where no such
 * pair of bytes occurs the key is certainly absent: sixteen positions
 * compared at a time, with none of the dependent loads of a walk over the
 * pairs (a classify stage adding a field asks this for every record).
 */
static bool may_hold_key(const uint8_t *p, const uint8_t *end, const char *key,
                         size_t klen)
{
    const __m128i fix = _mm_set1_epi8((char)(0xa0 | klen)),
                  len = _mm_set1_epi8((char)klen),
                  first = _mm_set1_epi8(key[0]);
    for (; end - p >= 17; p += 16) {
        __m128i a = _mm_loadu_si128((const __m128i *)(const void *)p);
        __m128i b = _mm_loadu_si128((const __m128i *)(const void *)(p + 1));
        __m128i hdr =
            _mm_or_si128(_mm_cmpeq_epi8(a, fix), _mm_cmpeq_epi8(a, len));
        if (_mm_movemask_epi8(_mm_and_si128(hdr, _mm_cmpeq_epi8(b, first))))
            return true;
    }
    for (; end - p >= 2; p++)
        if ((p[0] == (0xa0 | klen) || p[0] == klen) && p[1] == (uint8_t)key[0])
            return true;
    return false;
}
#endif

/* Is key[0..klen) among the copied pairs not yet indexed? One scan of
   their keys, skipping the values. */
static bool in_unindexed(const gf_out *out, const char *key, size_t klen)
{
    const uint8_t *p = out->batch.data + out->rec_start + 1;
#if defined(__SSE2__)
    if (klen >= 1 && klen <= 31 &&
        !may_hold_key(p, out->batch.data + out->batch.len, key, klen))
        return false;
#endif
    for (uint32_t i = 0; i < out->unindexed; i++) {
        gf_value k;
        const uint8_t *v;
        if (p[0] >= 0xa0 && p[0] <= 0xbf) { /* fixstr: the usual key */
            k.type = GF_T_STR;
            k.v.s.ptr = (const char *)p + 1;
            k.v.s.len = p[0] & 0x1fu;
            v = p + 1 + k.v.s.len;
        } else {
            v = gf_mp_read(p, &k);
        }
        if (k.type == GF_T_STR && k.v.s.len == klen &&
            (klen == 0 ||
             (k.v.s.ptr[0] == key[0] && memcmp(k.v.s.ptr, key, klen) == 0)))
            return true;
        p = gf_mp_skip_fast(v);
    }
    return false;
}

static int index_copied(gf_out *out);

/*
 * Index of the field named key[0..klen) in the open record, or -1. Found
 * among the copied pairs, those are indexed first. -2 when out of memory.
 */
static long find_field(gf_out *out, const char *key, size_t klen)
{
    long i = find_indexed(out, key, klen);
    if (i >= 0 || out->unindexed == 0 || !in_unindexed(out, key, klen))
        return i;
    if (index_copied(out) != 0)
        return -2;
    return find_indexed(out, key, klen);
}

static int grow_fields(gf_out *out)
{
    size_t cap = out->capfields ? out->capfields * 2 : GF_OUT_FIELDS_MIN;
    gf_out_field *f = gf_realloc(out->fields, cap * sizeof *f);
    if (!f)
        return -ENOMEM;
    out->fields = f;
    out->capfields = cap;
    return 0;
}

/* Start a record at the end of the batch (discarding one still open). */
static void open_record(gf_out *out)
{
    if (out->open)
        out->batch.len = out->rec_start;
    out->open = true;
    out->src = NULL;
    out->nfields = 0;
    out->unindexed = 0;
    out->rec_start = out->batch.len;
    if (out->status != 0)
        return;
    if (reserve(out, 1) != 0) {
        fail(out, -ENOMEM);
        return;
    }
    out->batch.data[out->batch.len++] = 0x80; /* fixed at end() */
}

void gf_out_begin(gf_out *out)
{
    open_record(out);
}

/*
 * Index the copied pairs (put them in `fields` ahead of the fields set
 * after the copy, which they precede in the record). Returns 0 or -ENOMEM.
 */
static int index_copied(gf_out *out)
{
    uint32_t n = out->unindexed;
    while (out->capfields - out->nfields < n)
        if (grow_fields(out) != 0)
            return -ENOMEM;
    memmove(out->fields + n, out->fields, out->nfields * sizeof *out->fields);
    const uint8_t *base = out->batch.data + out->rec_start, *p = base + 1;
    for (uint32_t i = 0; i < n; i++) {
        gf_out_field *f = &out->fields[i];
        const uint8_t *v;
        if (p[0] >= 0xa0 && p[0] <= 0xbf) { /* fixstr: the usual key */
            f->key_off = (uint32_t)(p + 1 - base);
            f->key_len = p[0] & 0x1fu;
            v = p + 1 + f->key_len;
        } else {
            gf_value k;
            v = gf_mp_read(p, &k);
            if (k.type == GF_T_STR) {
                f->key_off = (uint32_t)((const uint8_t *)k.v.s.ptr - base);
                f->key_len = (uint32_t)k.v.s.len;
            } else {
                /* not a string: a length no key of ours can have */
                f->key_off = (uint32_t)(p - base);
                f->key_len = UINT32_MAX;
            }
        }
        const uint8_t *e = gf_mp_skip_fast(v);
        f->val_off = (uint32_t)(v - base);
        f->val_len = (uint32_t)(e - v);
        f->removed = false;
        p = e;
    }
    out->nfields += n;
    out->unindexed = 0;
    return 0;
}

/* Header size and pair count of the map at p, or 0 when p is no map. */
static size_t map_head(const uint8_t *p, uint32_t *npairs)
{
    if (p[0] >= 0x80 && p[0] <= 0x8f) {
        *npairs = p[0] & 0x0fu;
        return 1;
    }
    if (p[0] == 0xde) {
        *npairs = (uint32_t)p[1] << 8 | p[2];
        return 3;
    }
    if (p[0] == 0xdf) {
        *npairs = (uint32_t)p[1] << 24 | (uint32_t)p[2] << 16 |
                  (uint32_t)p[3] << 8 | p[4];
        return 5;
    }
    return 0;
}

/* The pairs are copied in one memcpy and indexed later, when needed. */
void gf_out_begin_copy(gf_out *out, const gf_record *src)
{
    open_record(out);
    if (!src || !src->data || src->len == 0)
        return;
    if (out->status != 0)
        return;
    const uint8_t *data = src->data;
    size_t len = src->len;
    if (len > UINT32_MAX) {
        fail(out, -E2BIG);
        return;
    }
    uint32_t npairs;
    size_t hdr = map_head(data, &npairs);
    if (hdr == 0 || hdr > len) {
        fail(out, -EINVAL);
        return;
    }
    size_t off = 0;
    bool alias = in_batch(out, data);
    if (alias) /* copying a record of this very batch: the batch may move */
        off = (size_t)(data - out->batch.data);
    if (reserve(out, len - hdr) != 0) {
        fail(out, -ENOMEM);
        return;
    }
    if (alias)
        data = out->batch.data + off;
    memcpy(out->batch.data + out->batch.len, data + hdr, len - hdr);
    out->batch.len += len - hdr;
    out->unindexed = npairs;
    out->src = src;
}

/*
 * Set key to the value made of hdr[0..hlen) followed by pay[0..plen):
 * replace the value in place when the key is set already, else append the
 * pair. The value bytes may live in this batch (a value read from a record
 * emitted earlier): they are re-found after the batch moves.
 */
static void put(gf_out *out, const char *key, size_t klen, const uint8_t *hdr,
                size_t hlen, const void *pay, size_t plen)
{
    if (klen > UINT32_MAX - 5 || plen > UINT32_MAX - 9) {
        fail(out, -E2BIG);
        return;
    }
    size_t vlen = hlen + plen;
    size_t reclen = out->batch.len - out->rec_start;
    const uint8_t *payb = pay;
    size_t pay_off = 0;
    bool pay_alias = plen && in_batch(out, pay);
    if (pay_alias) {
        pay_off = (size_t)(payb - out->batch.data);
        if (pay_off >= out->rec_start) {
            /* inside the open record itself: take a copy first */
            gf_buf_clear(&out->scratch);
            if (gf_buf_append(&out->scratch, pay, plen) != 0) {
                fail(out, -ENOMEM);
                return;
            }
            payb = out->scratch.data;
            pay_alias = false;
        }
    }

    long idx = find_field(out, key, klen);
    if (idx == -2) {
        fail(out, -ENOMEM);
        return;
    }
    if (idx < 0) {
        uint8_t kh[5];
        size_t khl = enc_str_hdr(kh, klen);
        size_t add = khl + klen + vlen;
        if (reclen + add > UINT32_MAX) {
            fail(out, -E2BIG);
            return;
        }
        size_t key_off = 0;
        bool key_alias = in_batch(out, key);
        if (key_alias)
            key_off = (size_t)((const uint8_t *)key - out->batch.data);
        if (reserve(out, add) != 0 ||
            (out->nfields == out->capfields && grow_fields(out) != 0)) {
            fail(out, -ENOMEM);
            return;
        }
        if (pay_alias)
            payb = out->batch.data + pay_off;
        if (key_alias)
            key = (const char *)out->batch.data + key_off;
        uint8_t *w = out->batch.data + out->batch.len;
        /* headers are a few bytes: copied inline, not through memcpy */
        for (size_t i = 0; i < khl; i++)
            w[i] = kh[i];
        memcpy(w + khl, key, klen);
        uint8_t *v = w + khl + klen;
        for (size_t i = 0; i < hlen; i++)
            v[i] = hdr[i];
        if (plen)
            memcpy(v + hlen, payb, plen);
        gf_out_field *f = &out->fields[out->nfields++];
        f->key_off = (uint32_t)(reclen + khl);
        f->key_len = (uint32_t)klen;
        f->val_off = (uint32_t)(reclen + khl + klen);
        f->val_len = (uint32_t)vlen;
        f->removed = false;
        out->batch.len += add;
        return;
    }

    gf_out_field *f = &out->fields[idx];
    size_t old = f->val_len;
    if (vlen > old) {
        size_t d = vlen - old;
        if (reclen + d > UINT32_MAX) {
            fail(out, -E2BIG);
            return;
        }
        if (reserve(out, d) != 0) {
            fail(out, -ENOMEM);
            return;
        }
        if (pay_alias)
            payb = out->batch.data + pay_off;
    }
    uint8_t *base = out->batch.data + out->rec_start;
    uint8_t *tail = base + f->val_off + old;
    size_t tail_len = reclen - (f->val_off + old);
    if (vlen != old && tail_len)
        memmove(base + f->val_off + vlen, tail, tail_len);
    if (hlen)
        memcpy(base + f->val_off, hdr, hlen);
    if (plen)
        memcpy(base + f->val_off + hlen, payb, plen);
    f->val_len = (uint32_t)vlen;
    if (vlen != old) {
        /* offsets after the value move by the difference (mod 2^32) */
        uint32_t delta = (uint32_t)vlen - (uint32_t)old;
        for (size_t j = (size_t)idx + 1; j < out->nfields; j++) {
            out->fields[j].key_off += delta;
            out->fields[j].val_off += delta;
        }
        out->batch.len = out->batch.len + vlen - old;
    }
}

/* Common entry checks of the set functions: returns the key's length, or
   SIZE_MAX when nothing should be written. */
static inline size_t set_key(gf_out *out, const char *key)
{
    if (!writable(out))
        return SIZE_MAX;
    if (!key) {
        fail(out, -EINVAL);
        return SIZE_MAX;
    }
    return strlen(key);
}

void gf_out_set_str(gf_out *out, const char *key, const char *s, size_t len)
{
    size_t klen = set_key(out, key);
    if (klen == SIZE_MAX)
        return;
    if (len > UINT32_MAX || (!s && len)) {
        fail(out, -EINVAL);
        return;
    }
    uint8_t h[5];
    size_t hl = enc_str_hdr(h, len);
    put(out, key, klen, h, hl, s, len);
}

void gf_out_set_int(gf_out *out, const char *key, int64_t v)
{
    size_t klen = set_key(out, key);
    if (klen == SIZE_MAX)
        return;
    uint8_t h[9];
    put(out, key, klen, h, enc_int(h, v), NULL, 0);
}

void gf_out_set_float(gf_out *out, const char *key, double v)
{
    size_t klen = set_key(out, key);
    if (klen == SIZE_MAX)
        return;
    uint8_t h[9];
    put(out, key, klen, h, enc_float(h, v), NULL, 0);
}

void gf_out_set_bool(gf_out *out, const char *key, bool v)
{
    size_t klen = set_key(out, key);
    if (klen == SIZE_MAX)
        return;
    uint8_t h = v ? 0xc3 : 0xc2;
    put(out, key, klen, &h, 1, NULL, 0);
}

void gf_out_set_nil(gf_out *out, const char *key)
{
    size_t klen = set_key(out, key);
    if (klen == SIZE_MAX)
        return;
    uint8_t h = 0xc0;
    put(out, key, klen, &h, 1, NULL, 0);
}

void gf_out_set_raw(gf_out *out, const char *key, const void *mp, size_t len)
{
    size_t klen = set_key(out, key);
    if (klen == SIZE_MAX)
        return;
    const uint8_t *p = mp;
    if (!p || len == 0 ||
        gf_mp_check(p, p + len, GF_MP_MAX_DEPTH - 1) != (long)len) {
        fail(out, -EINVAL);
        return;
    }
    put(out, key, klen, NULL, 0, p, len);
}

void gf_out_set_value(gf_out *out, const char *key, const gf_value *v)
{
    size_t klen = set_key(out, key);
    if (klen == SIZE_MAX)
        return;
    if (!v) {
        uint8_t h = 0xc0;
        put(out, key, klen, &h, 1, NULL, 0);
        return;
    }
    if (v->raw && v->raw_len) {
        /* the encoded bytes as they are, checked: a gf_value can be made
           by hand */
        if (gf_mp_check(v->raw, v->raw + v->raw_len, GF_MP_MAX_DEPTH - 1) !=
            (long)v->raw_len) {
            fail(out, -EINVAL);
            return;
        }
        put(out, key, klen, NULL, 0, v->raw, v->raw_len);
        return;
    }
    uint8_t h[9];
    switch (v->type) {
    case GF_T_NIL:
        h[0] = 0xc0;
        put(out, key, klen, h, 1, NULL, 0);
        return;
    case GF_T_BOOL:
        h[0] = v->v.b ? 0xc3 : 0xc2;
        put(out, key, klen, h, 1, NULL, 0);
        return;
    case GF_T_INT:
        put(out, key, klen, h, enc_int(h, v->v.i), NULL, 0);
        return;
    case GF_T_FLOAT:
        put(out, key, klen, h, enc_float(h, v->v.f), NULL, 0);
        return;
    case GF_T_STR:
    case GF_T_BIN:
        if (v->v.s.len > UINT32_MAX || (!v->v.s.ptr && v->v.s.len)) {
            fail(out, -EINVAL);
            return;
        }
        put(out, key, klen, h,
            v->type == GF_T_STR ? enc_str_hdr(h, v->v.s.len)
                                : enc_bin_hdr(h, v->v.s.len),
            v->v.s.ptr, v->v.s.len);
        return;
    default:
        /* an array or map without its bytes cannot be written */
        fail(out, -EINVAL);
        return;
    }
}

void gf_out_unset(gf_out *out, const char *key)
{
    size_t klen = set_key(out, key);
    if (klen == SIZE_MAX)
        return;
    if (out->unindexed > 0 && index_copied(out) != 0) {
        fail(out, -ENOMEM);
        return;
    }
    long idx = find_indexed(out, key, klen);
    if (idx < 0)
        return;
    uint8_t *base = out->batch.data + out->rec_start;
    size_t reclen = out->batch.len - out->rec_start;
    size_t start = idx == 0 ? 1
                            : (size_t)out->fields[idx - 1].val_off +
                                  out->fields[idx - 1].val_len;
    size_t stop = (size_t)out->fields[idx].val_off + out->fields[idx].val_len;
    uint32_t gone = (uint32_t)(stop - start);
    memmove(base + start, base + stop, reclen - stop);
    out->batch.len -= gone;
    for (size_t j = (size_t)idx + 1; j < out->nfields; j++) {
        out->fields[j].key_off -= gone;
        out->fields[j].val_off -= gone;
        out->fields[j - 1] = out->fields[j];
    }
    out->nfields--;
}

/*
 * Give the record just counted (the batch's nrec-th) the current position,
 * after zeros for the records before it that had none, growing the array.
 * Returns 0 or -ENOMEM. The usual case (room, no gap) is inline in
 * after_record; this stays out of line so that after_record stays small
 * enough to be inlined into end() and emit().
 */
__attribute__((noinline, cold)) static int note_position(gf_out *out)
{
    uint32_t k = out->nrec - 1;
    if (k >= out->cappos) {
        uint32_t cap = out->cappos          ? out->cappos * 2
                       : out->pos_hint > 64 ? out->pos_hint + out->pos_hint / 4
                                            : 64;
        while (cap <= k)
            cap *= 2;
        gf_srcpos *p = gf_realloc(out->pos, (size_t)cap * sizeof *p);
        if (!p)
            return -ENOMEM;
        out->pos = p;
        out->cappos = cap;
    }
    if (out->npos < k)
        memset(out->pos + out->npos, 0, (k - out->npos) * sizeof *out->pos);
    out->pos[k] = out->cur;
    out->npos = k + 1;
    return 0;
}

/* After a record was added: note its position, hand a full batch to
   on_full. */
static inline int after_record(gf_out *out)
{
    uint32_t k = out->nrec++;
    out->records++;
    /* nothing to note while every position of the batch is unknown */
    if ((out->npos | out->cur.file | out->cur.line) != 0) {
        if (out->npos == k && k < out->cappos) {
            out->pos[k] = out->cur;
            out->npos = k + 1;
        } else if (note_position(out) != 0) {
            fail(out, -ENOMEM);
            return -ENOMEM;
        }
    }
    if (out->on_full && out->batch.len >= out->batch_bytes) {
        int r = out->on_full(out, out->arg);
        if (out->batch.len == 0)
            out->nrec = out->npos = 0;
        if (r < 0) {
            fail(out, r);
            return r;
        }
    }
    return 0;
}

int gf_out_end(gf_out *out)
{
    if (!out->open)
        return out->status < 0 ? out->status : -EINVAL;
    out->open = false;
    if (out->status != 0) {
        out->batch.len = out->rec_start;
        return out->status;
    }
    size_t n = out->nfields + out->unindexed;
    uint8_t *rec;
    if (n <= 15) {
        out->batch.data[out->rec_start] = (uint8_t)(0x80 | n);
    } else {
        size_t hl = n <= 0xffff ? 3 : 5;
        if (n > UINT32_MAX || reserve(out, hl - 1) != 0) {
            out->batch.len = out->rec_start;
            fail(out, -ENOMEM);
            return out->status;
        }
        rec = out->batch.data + out->rec_start;
        memmove(rec + hl, rec + 1, out->batch.len - out->rec_start - 1);
        out->batch.len += hl - 1;
        if (hl == 3) {
            rec[0] = 0xde;
            store16(rec + 1, (uint32_t)n);
        } else {
            rec[0] = 0xdf;
            store32(rec + 1, (uint32_t)n);
        }
    }
    return after_record(out);
}

int gf_out_emit(gf_out *out, const gf_record *rec)
{
    if (out->open) {
        /* like begin(): a record left open is abandoned */
        out->batch.len = out->rec_start;
        out->open = false;
    }
    if (out->status != 0)
        return out->status;
    if (!rec || !rec->data || rec->len == 0)
        return -EINVAL;
    const uint8_t *data = rec->data;
    size_t off = 0;
    bool alias = in_batch(out, data);
    if (alias)
        off = (size_t)(data - out->batch.data);
    if (reserve(out, rec->len) != 0) {
        fail(out, -ENOMEM);
        return out->status;
    }
    if (alias)
        data = out->batch.data + off;
    memcpy(out->batch.data + out->batch.len, data, rec->len);
    out->batch.len += rec->len;
    return after_record(out);
}

/* --- the batch --------------------------------------------------------- */

int gf_out_init(gf_out *out, size_t batch_bytes, gf_out_full_fn on_full,
                void *arg)
{
    memset(out, 0, sizeof *out);
    out->batch_bytes = batch_bytes;
    out->on_full = on_full;
    out->arg = arg;
    if (grow_fields(out) != 0)
        return -ENOMEM;
    return 0;
}

/*
 * Move the open record's bytes out of the batch into scratch (so that the
 * ended records can be handed over), and back. The field offsets count from
 * the record's start, so they stay valid.
 */
static int stash_open(gf_out *out)
{
    gf_buf_clear(&out->scratch);
    if (gf_buf_append(&out->scratch, out->batch.data + out->rec_start,
                      out->batch.len - out->rec_start) != 0)
        return -ENOMEM;
    out->batch.len = out->rec_start;
    return 0;
}

static int unstash_open(gf_out *out)
{
    out->rec_start = out->batch.len;
    if (gf_buf_append(&out->batch, out->scratch.data, out->scratch.len) != 0)
        return -ENOMEM;
    return 0;
}

int gf_out_flush(gf_out *out)
{
    if (out->nrec == 0 || !out->on_full)
        return 0;
    bool open = out->open && out->status == 0;
    if (open && stash_open(out) != 0) {
        fail(out, -ENOMEM);
        return out->status;
    }
    if (out->open && !open) /* open but failed: nothing to keep */
        out->batch.len = out->rec_start;
    int r = out->on_full(out, out->arg);
    if (out->batch.len == 0)
        out->nrec = out->npos = 0;
    if (open && unstash_open(out) != 0)
        fail(out, -ENOMEM);
    if (!open && out->open)
        out->rec_start = out->batch.len;
    if (r < 0)
        fail(out, r);
    return r;
}

/* gf_out_take without a word about positions. */
static uint8_t *take_batch(gf_out *out, size_t *len, uint32_t *nrec)
{
    size_t done = out->open ? out->rec_start : out->batch.len;
    *len = 0;
    *nrec = 0;
    if (done == 0)
        return NULL;
    gf_buf keep = {0};
    if (out->open && gf_buf_append(&keep, out->batch.data + out->rec_start,
                                   out->batch.len - out->rec_start) != 0)
        return NULL;
    uint8_t *data = out->batch.data;
    *len = done;
    *nrec = out->nrec;
    out->batch = keep;
    out->nrec = 0;
    out->rec_start = 0;
    return data;
}

uint8_t *gf_out_take(gf_out *out, size_t *len, uint32_t *nrec)
{
    uint8_t *data = take_batch(out, len, nrec);
    if (data)
        out->npos = 0; /* dropped; the array is reused */
    return data;
}

uint8_t *gf_out_take_pos(gf_out *out, size_t *len, uint32_t *nrec,
                         gf_srcpos **pos)
{
    *pos = NULL;
    uint8_t *data = take_batch(out, len, nrec);
    if (!data)
        return NULL;
    out->pos_hint = *nrec;
    if (out->npos) {
        /* npos == *nrec: every record ended has its entry */
        *pos = out->pos;
        out->pos = NULL;
        out->npos = out->cappos = 0;
    }
    return data;
}

/* set_position's file for a string other than the one passed last: by
   its text (the last name), else from the table; into out->cur.file. Out
   of line, so that the usual call (the same string again) is a few
   instructions without a stack frame. */
__attribute__((noinline)) static void position_file(gf_out *out,
                                                    const char *file)
{
    uint32_t f = 0;
    out->pos_arg = NULL;
    if (file && out->srcpos) {
        if (out->pos_name && strcmp(file, out->pos_name) == 0)
            f = out->pos_file;
        else if ((f = gf_srcpos_intern(out->srcpos, file, &out->pos_name)))
            out->pos_file = f;
        if (f)
            out->pos_arg = file;
    }
    out->cur.file = f;
}

void gf_out_set_position(gf_out *out, const char *file, uint64_t line)
{
    out->cur.line = line <= UINT32_MAX ? (uint32_t)line : 0;
    /* per record: the string passed last is known by its address
       (pos_arg is set only while pos_file is its index) */
    if (file && file == out->pos_arg)
        out->cur.file = out->pos_file;
    else
        position_file(out, file);
}

void gf_out_release(gf_out *out)
{
    if (!out)
        return;
    gf_buf_free(&out->batch);
    gf_buf_free(&out->scratch);
    gf_free(out->fields);
    out->fields = NULL;
    gf_free(out->pos);
    out->pos = NULL;
    out->npos = out->cappos = 0;
    out->nfields = out->capfields = 0;
    out->nrec = 0;
    out->open = false;
}
