/*
 * gf_record - reading fields of validated records (see gf_record.h), the
 * reader half of the gf_host table.
 *
 * Records are small maps (a dozen or two fields), so a lookup is a linear
 * scan over the keys: compare lengths first (most keys differ there), then
 * memcmp; values that are not wanted are skipped with gf_mp_skip_fast.
 * Short string keys and the commonest values (short strings, small
 * integers) are decoded inline: every step of a walk waits for the one
 * before it, so a call per field is what a lookup would otherwise cost. Nothing
 * is allocated and nothing is decoded except the value that is returned. Every
 * function assumes its input was validated (gf_mp_check_batch) or written by
 * gf_out.
 */
#include "gf_record.h"

#include <string.h>

#include "gf_mp.h"

static inline uint32_t load16(const uint8_t *p)
{
    return (uint32_t)p[0] << 8 | p[1];
}

static inline uint32_t load32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
           p[3];
}

/* Header size of the validated map or array at p; its count in *n
   (pairs for a map, elements for an array). */
static inline size_t container_hdr(const uint8_t *p, uint32_t *n)
{
    uint8_t c = p[0];
    if (c >= 0x80 && c <= 0x9f) {
        *n = c & 0x0fu;
        return 1;
    }
    if (c == 0xdc || c == 0xde) {
        *n = load16(p + 1);
        return 3;
    }
    *n = load32(p + 1);
    return 5;
}

/*
 * Read a key at p: when it is a string, its bytes into *k and true; the
 * position after it is returned through *next either way.
 */
static inline bool read_key(const uint8_t *p, gf_str *k, const uint8_t **next)
{
    uint8_t c = p[0];
    if (c >= 0xa0 && c <= 0xbf) {
        k->ptr = (const char *)p + 1;
        k->len = c & 0x1fu;
    } else if (c == 0xd9) {
        k->ptr = (const char *)p + 2;
        k->len = p[1];
    } else if (c == 0xda) {
        k->ptr = (const char *)p + 3;
        k->len = load16(p + 1);
    } else if (c == 0xdb) {
        k->ptr = (const char *)p + 5;
        k->len = load32(p + 1);
    } else {
        *next = gf_mp_skip(p);
        return false;
    }
    *next = (const uint8_t *)k->ptr + k->len;
    return true;
}

/* gf_mp_read with the commonest values of records inline: short strings
   and small non-negative integers. */
static inline const uint8_t *read_value(const uint8_t *p, gf_value *v)
{
    uint8_t c = p[0];
    if (c >= 0xa0 && c <= 0xbf) {
        v->type = GF_T_STR;
        v->n = 0;
        v->v.s.ptr = (const char *)p + 1;
        v->v.s.len = c & 0x1fu;
        v->raw = p;
        v->raw_len = 1 + v->v.s.len;
        return p + v->raw_len;
    }
    if (c <= 0x7f) {
        v->type = GF_T_INT;
        v->n = 0;
        v->v.i = c;
        v->raw = p;
        v->raw_len = 1;
        return p + 1;
    }
    return gf_mp_read(p, v);
}

static void set_nil(gf_value *v)
{
    memset(v, 0, sizeof *v);
    v->type = GF_T_NIL;
}

bool gf_record_get_n(const gf_record *rec, const char *key, size_t key_len,
                     gf_value *out)
{
    if (!rec || !rec->data || !rec->len || !key) {
        if (out)
            set_nil(out);
        return false;
    }
    uint32_t n;
    const uint8_t *p = rec->data + container_hdr(rec->data, &n);
    for (uint32_t i = 0; i < n; i++) {
        gf_str k;
        const uint8_t *next;
        if (p[0] >= 0xa0 && p[0] <= 0xbf) { /* fixstr: the usual key */
            k.ptr = (const char *)p + 1;
            k.len = p[0] & 0x1fu;
            next = p + 1 + k.len;
        } else if (!read_key(p, &k, &next)) {
            p = gf_mp_skip_fast(next);
            continue;
        }
        if (k.len == key_len &&
            (key_len == 0 ||
             (k.ptr[0] == key[0] && memcmp(k.ptr, key, key_len) == 0))) {
            if (out)
                read_value(next, out);
            return true;
        }
        p = gf_mp_skip_fast(next);
    }
    if (out)
        set_nil(out);
    return false;
}

bool gf_record_get(const gf_record *rec, const char *key, gf_value *out)
{
    return gf_record_get_n(rec, key, key ? strlen(key) : 0, out);
}

bool gf_record_next(const gf_record *rec, gf_iter *it, gf_str *key,
                    gf_value *val)
{
    if (!it->started) {
        if (!rec || !rec->data || !rec->len)
            return false;
        uint32_t n;
        it->pos = rec->data + container_hdr(rec->data, &n);
        it->left = n;
        it->started = 1;
    }
    while (it->left > 0) {
        gf_str k;
        const uint8_t *p = it->pos, *next;
        it->left--;
        if (p[0] >= 0xa0 && p[0] <= 0xbf) { /* fixstr: the usual key */
            k.ptr = (const char *)p + 1;
            k.len = p[0] & 0x1fu;
            next = p + 1 + k.len;
        } else if (!read_key(p, &k, &next)) {
            /* records have string keys; skip any other pair */
            it->pos = gf_mp_skip_fast(next);
            continue;
        }
        if (key)
            *key = k;
        it->pos = val ? read_value(next, val) : gf_mp_skip_fast(next);
        return true;
    }
    return false;
}

bool gf_value_elem(const gf_value *array, gf_iter *it, gf_value *out)
{
    if (!it->started) {
        if (!array || array->type != GF_T_ARRAY || !array->raw)
            return false;
        uint32_t n;
        it->pos = array->raw + container_hdr(array->raw, &n);
        it->left = n;
        it->started = 1;
    }
    if (it->left == 0)
        return false;
    it->left--;
    gf_value tmp;
    it->pos = gf_mp_read(it->pos, out ? out : &tmp);
    return true;
}

bool gf_value_entry(const gf_value *map, gf_iter *it, gf_value *key,
                    gf_value *val)
{
    if (!it->started) {
        if (!map || map->type != GF_T_MAP || !map->raw)
            return false;
        uint32_t n;
        it->pos = map->raw + container_hdr(map->raw, &n);
        it->left = n;
        it->started = 1;
    }
    if (it->left == 0)
        return false;
    it->left--;
    gf_value tmp;
    it->pos = gf_mp_read(it->pos, key ? key : &tmp);
    it->pos = gf_mp_read(it->pos, val ? val : &tmp);
    return true;
}

void gf_record_view(gf_record *rec, const uint8_t *p, size_t len)
{
    rec->data = p;
    rec->len = len;
    rec->nfields = 0;
    if (p && len) {
        uint32_t n;
        container_hdr(p, &n);
        rec->nfields = n;
    }
}
