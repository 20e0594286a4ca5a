/*
 * gf_json - JSON at the edges (see gf_json.h).
 *
 * Rendering walks a validated record and appends JSON text to a gf_buf:
 * strings escaped (control characters as \n, \t or \u00XX), invalid UTF-8
 * replaced byte run by byte run with U+FFFD (the "maximal subpart" rule of
 * Unicode and WHATWG), floats in the shortest %.15g/%.16g/%.17g form that
 * reads back to the same double (float32 values: the shortest form that
 * reads back to the same float), nan and infinities (which JSON cannot
 * hold, as null), binary values as base64 strings, nested arrays and maps
 * as JSON arrays and objects (a map key that is not a string is rendered
 * and quoted).
 *
 * Parsing JSON text into fields uses jansson (json_loadb, a JSON object at
 * the top, NUL allowed inside strings). The whole text is parsed and
 * checked before the first field is set, so a bad line leaves the open
 * record untouched; nested arrays and objects are packed with msgpack-c's
 * packer (not a hot path) and set with gf_out_set_raw. Jansson allocates
 * through gf_alloc, so allocation-failure tests reach it too.
 */
#include "gf_json.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <msgpack.h>

#include "gf_alloc.h"
#include "gf_mp.h"
#include "gf_out.h"
#include "gf_record.h"

/* --- records to JSON ------------------------------------------------------ */

static const char hexdig[] = "0123456789abcdef";

/*
 * Length of the valid UTF-8 sequence at s (n bytes left), or 0 when it is
 * invalid; then *bad is the length of its maximal invalid subpart (>= 1),
 * the bytes one U+FFFD replaces.
 */
static size_t utf8_seq(const uint8_t *s, size_t n, size_t *bad)
{
    uint8_t c = s[0];
    size_t need;
    uint8_t lo = 0x80, hi = 0xbf; /* bounds of the second byte */
    if (c >= 0xc2 && c <= 0xdf) {
        need = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
        need = 3;
        if (c == 0xe0)
            lo = 0xa0; /* overlong */
        else if (c == 0xed)
            hi = 0x9f; /* surrogates */
    } else if (c >= 0xf0 && c <= 0xf4) {
        need = 4;
        if (c == 0xf0)
            lo = 0x90; /* overlong */
        else if (c == 0xf4)
            hi = 0x8f; /* above U+10FFFF */
    } else {
        *bad = 1;
        return 0;
    }
    size_t i = 1;
    for (; i < need; i++) {
        if (i >= n)
            break;
        uint8_t b = s[i];
        if (i == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xbf))
            break;
    }
    if (i == need)
        return need;
    *bad = i;
    return 0;
}

int gf_json_string(gf_buf *b, const char *str, size_t len)
{
    const uint8_t *s = (const uint8_t *)str;
    /* worst case 6 bytes per input byte (\u00XX), plus quotes */
    if (len > (SIZE_MAX - 2) / 6 || gf_buf_reserve(b, len + 2) != 0)
        return -ENOMEM;
    b->data[b->len++] = '"';
    size_t i = 0;
    while (i < len) {
        /* copy a run of plain ASCII at once */
        size_t j = i;
        while (j < len && s[j] >= 0x20 && s[j] < 0x80 && s[j] != '"' &&
               s[j] != '\\')
            j++;
        if (j > i) {
            if (gf_buf_append(b, s + i, j - i) != 0)
                return -ENOMEM;
            i = j;
            continue;
        }
        uint8_t c = s[i];
        char esc[8];
        size_t el = 0;
        if (c < 0x80) {
            esc[0] = '\\';
            el = 2;
            switch (c) {
            case '"':
                esc[1] = '"';
                break;
            case '\\':
                esc[1] = '\\';
                break;
            case '\n':
                esc[1] = 'n';
                break;
            case '\r':
                esc[1] = 'r';
                break;
            case '\t':
                esc[1] = 't';
                break;
            case '\b':
                esc[1] = 'b';
                break;
            case '\f':
                esc[1] = 'f';
                break;
            default:
                memcpy(esc, "\\u00", 4);
                esc[4] = hexdig[c >> 4];
                esc[5] = hexdig[c & 15];
                el = 6;
            }
            if (gf_buf_append(b, esc, el) != 0)
                return -ENOMEM;
            i++;
            continue;
        }
        size_t bad = 0;
        size_t n = utf8_seq(s + i, len - i, &bad);
        if (n) {
            if (gf_buf_append(b, s + i, n) != 0)
                return -ENOMEM;
            i += n;
        } else {
            if (gf_buf_append(b, "\xef\xbf\xbd", 3) != 0)
                return -ENOMEM;
            i += bad;
        }
    }
    return gf_buf_append(b, "\"", 1);
}

/*
 * The shortest of %.15g, %.16g, %.17g that reads back as v; a value that
 * was encoded as float32 the shortest of %.6g .. %.9g that reads back as
 * that float (so 0.1f is "0.1", not "0.100000001490116").
 */
static int put_double(gf_buf *b, double v, bool is_f32)
{
    if (!isfinite(v))
        return gf_buf_append(b, "null", 4);
    char tmp[40];
    if (is_f32) {
        for (int prec = 6; prec <= 9; prec++) {
            snprintf(tmp, sizeof tmp, "%.*g", prec, v);
            if (prec == 9 || strtof(tmp, NULL) == (float)v)
                break;
        }
        return gf_buf_puts(b, tmp);
    }
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*g", prec, v);
        if (prec == 17 || strtod(tmp, NULL) == v)
            break;
    }
    return gf_buf_puts(b, tmp);
}

static int put_base64(gf_buf *b, const uint8_t *s, size_t n)
{
    static const char tab[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t out = (n + 2) / 3 * 4;
    if (gf_buf_reserve(b, out + 2) != 0)
        return -ENOMEM;
    char *w = (char *)b->data + b->len;
    *w++ = '"';
    size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t x = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];
        *w++ = tab[x >> 18];
        *w++ = tab[(x >> 12) & 63];
        *w++ = tab[(x >> 6) & 63];
        *w++ = tab[x & 63];
    }
    if (n - i == 1) {
        uint32_t x = (uint32_t)s[i] << 16;
        *w++ = tab[x >> 18];
        *w++ = tab[(x >> 12) & 63];
        *w++ = '=';
        *w++ = '=';
    } else if (n - i == 2) {
        uint32_t x = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8;
        *w++ = tab[x >> 18];
        *w++ = tab[(x >> 12) & 63];
        *w++ = tab[(x >> 6) & 63];
        *w++ = '=';
    }
    *w++ = '"';
    b->len = (size_t)((uint8_t *)w - b->data);
    return 0;
}

/* A map key: strings as they are, anything else rendered then quoted. */
static int put_key(gf_buf *b, const gf_value *k)
{
    if (k->type == GF_T_STR)
        return gf_json_string(b, k->v.s.ptr, k->v.s.len);
    gf_buf tmp = {0};
    int r = gf_json_value(&tmp, k);
    if (r == 0)
        r = gf_json_string(b, (const char *)tmp.data, tmp.len);
    gf_buf_free(&tmp);
    return r;
}

int gf_json_value(gf_buf *b, const gf_value *v)
{
    switch (v->type) {
    case GF_T_NIL:
        return gf_buf_append(b, "null", 4);
    case GF_T_BOOL:
        return v->v.b ? gf_buf_append(b, "true", 4)
                      : gf_buf_append(b, "false", 5);
    case GF_T_INT: {
        char tmp[24];
        int n = snprintf(tmp, sizeof tmp, "%" PRId64, v->v.i);
        return gf_buf_append(b, tmp, (size_t)n);
    }
    case GF_T_FLOAT:
        return put_double(b, v->v.f, v->raw && v->raw[0] == 0xca);
    case GF_T_STR:
        return gf_json_string(b, v->v.s.ptr, v->v.s.len);
    case GF_T_BIN:
        return put_base64(b, (const uint8_t *)v->v.s.ptr, v->v.s.len);
    case GF_T_ARRAY: {
        gf_iter it = {0};
        gf_value e;
        bool first = true;
        if (gf_buf_append(b, "[", 1) != 0)
            return -ENOMEM;
        while (gf_value_elem(v, &it, &e)) {
            if ((!first && gf_buf_append(b, ",", 1) != 0) ||
                gf_json_value(b, &e) != 0)
                return -ENOMEM;
            first = false;
        }
        return gf_buf_append(b, "]", 1);
    }
    case GF_T_MAP: {
        gf_iter it = {0};
        gf_value k, e;
        bool first = true;
        if (gf_buf_append(b, "{", 1) != 0)
            return -ENOMEM;
        while (gf_value_entry(v, &it, &k, &e)) {
            if ((!first && gf_buf_append(b, ",", 1) != 0) ||
                put_key(b, &k) != 0 || gf_buf_append(b, ":", 1) != 0 ||
                gf_json_value(b, &e) != 0)
                return -ENOMEM;
            first = false;
        }
        return gf_buf_append(b, "}", 1);
    }
    }
    return gf_buf_append(b, "null", 4);
}

int gf_json_record(gf_buf *b, const gf_record *rec)
{
    if (!rec || !rec->data || rec->len == 0)
        return gf_buf_append(b, "{}", 2);
    gf_value m;
    gf_mp_read(rec->data, &m);
    return gf_json_value(b, &m);
}

/* Render rec or v into the caller's buffer *buf (*cap bytes), NUL-ended. */
static long to_malloc(const gf_record *rec, const gf_value *v, char **buf,
                      size_t *cap)
{
    gf_buf b = {.data = (uint8_t *)*buf, .len = 0, .cap = *buf ? *cap : 0};
    int r = rec ? gf_json_record(&b, rec) : gf_json_value(&b, v);
    if (r == 0)
        r = gf_buf_reserve(&b, 1);
    *buf = (char *)b.data;
    *cap = b.cap;
    if (r != 0)
        return -ENOMEM;
    b.data[b.len] = '\0';
    return (long)b.len;
}

long gf_json_to_malloc(const gf_record *rec, char **buf, size_t *cap)
{
    return to_malloc(rec, NULL, buf, cap);
}

long gf_json_value_to_malloc(const gf_value *v, char **buf, size_t *cap)
{
    return to_malloc(NULL, v, buf, cap);
}

/* --- JSON to fields --------------------------------------------------------
 */

static void *json_alloc(size_t n)
{
    return gf_malloc(n);
}

static void json_free(void *p)
{
    gf_free(p);
}

static pthread_once_t json_alloc_once = PTHREAD_ONCE_INIT;

static void json_alloc_setup(void)
{
    json_set_alloc_funcs(json_alloc, json_free);
}

static int pack_write(void *data, const char *p, size_t n)
{
    return gf_buf_append(data, p, n) == 0 ? 0 : -1;
}

/* Pack a jansson value as MessagePack. Returns 0 or -1 (out of memory). */
static int pack_json(msgpack_packer *pk, json_t *j)
{
    switch (json_typeof(j)) {
    case JSON_OBJECT: {
        if (msgpack_pack_map(pk, json_object_size(j)) != 0)
            return -1;
        const char *k;
        json_t *v;
        void *it = json_object_iter(j);
        for (; it; it = json_object_iter_next(j, it)) {
            k = json_object_iter_key(it);
            size_t kl = json_object_iter_key_len(it);
            v = json_object_iter_value(it);
            if (msgpack_pack_str(pk, kl) != 0 ||
                msgpack_pack_str_body(pk, k, kl) != 0 || pack_json(pk, v) != 0)
                return -1;
        }
        return 0;
    }
    case JSON_ARRAY: {
        size_t n = json_array_size(j);
        if (msgpack_pack_array(pk, n) != 0)
            return -1;
        for (size_t i = 0; i < n; i++)
            if (pack_json(pk, json_array_get(j, i)) != 0)
                return -1;
        return 0;
    }
    case JSON_STRING: {
        size_t n = json_string_length(j);
        return msgpack_pack_str(pk, n) != 0 ||
                       msgpack_pack_str_body(pk, json_string_value(j), n) != 0
                   ? -1
                   : 0;
    }
    case JSON_INTEGER:
        return msgpack_pack_int64(pk, json_integer_value(j));
    case JSON_REAL:
        return msgpack_pack_double(pk, json_real_value(j));
    case JSON_TRUE:
        return msgpack_pack_true(pk);
    case JSON_FALSE:
        return msgpack_pack_false(pk);
    case JSON_NULL:
        return msgpack_pack_nil(pk);
    }
    return -1;
}

/* Nesting depth of j: 0 for a scalar, 1 for a flat array or object. */
static unsigned json_depth(json_t *j)
{
    unsigned d = 0;
    if (json_is_object(j)) {
        void *it = json_object_iter(j);
        for (; it; it = json_object_iter_next(j, it)) {
            unsigned c = json_depth(json_object_iter_value(it));
            if (c > d)
                d = c;
        }
        return d + 1;
    }
    if (json_is_array(j)) {
        for (size_t i = 0; i < json_array_size(j); i++) {
            unsigned c = json_depth(json_array_get(j, i));
            if (c > d)
                d = c;
        }
        return d + 1;
    }
    return 0;
}

int gf_json_set_fields(gf_out *out, const char *json, size_t len, char *err,
                       size_t errlen)
{
    char dummy[1];
    if (!err || errlen == 0) {
        err = dummy;
        errlen = sizeof dummy;
    }
    err[0] = '\0';
    if (!out || !out->open) {
        snprintf(err, errlen, "no record is open (begin() first)");
        return -1;
    }
    pthread_once(&json_alloc_once, json_alloc_setup);

    json_error_t je;
    json_t *root =
        json_loadb(json ? json : "", json ? len : 0, JSON_ALLOW_NUL, &je);
    if (!root) {
        int col = je.column > 0 ? je.column : je.position + 1;
        if (je.line > 1)
            snprintf(err, errlen, "line %d column %d: %s", je.line, col,
                     je.text);
        else
            snprintf(err, errlen, "column %d: %s", col, je.text);
        return -1;
    }
    int rc = -1;
    gf_buf packed = {0};
    if (!json_is_object(root)) {
        snprintf(err, errlen, "column 1: expected a JSON object, got %s",
                 json_is_array(root) ? "an array" : "a scalar");
        goto done_root;
    }
    /* a record is depth 1; its values may nest GF_MP_MAX_DEPTH - 1 deep */
    if (json_depth(root) > GF_MP_MAX_DEPTH) {
        snprintf(err, errlen,
                 "column 1: nested deeper than %d levels of arrays/objects",
                 GF_MP_MAX_DEPTH);
        goto done_root;
    }
    void *it = json_object_iter(root);
    for (; it; it = json_object_iter_next(root, it)) {
        const char *k = json_object_iter_key(it);
        if (json_object_iter_key_len(it) != strlen(k)) {
            snprintf(err, errlen, "key \"%s\\u0000...\" holds a NUL character",
                     k);
            goto done_root;
        }
    }
    for (it = json_object_iter(root); it;
         it = json_object_iter_next(root, it)) {
        const char *k = json_object_iter_key(it);
        json_t *v = json_object_iter_value(it);
        switch (json_typeof(v)) {
        case JSON_STRING:
            gf_out_set_str(out, k, json_string_value(v), json_string_length(v));
            break;
        case JSON_INTEGER:
            gf_out_set_int(out, k, json_integer_value(v));
            break;
        case JSON_REAL:
            gf_out_set_float(out, k, json_real_value(v));
            break;
        case JSON_TRUE:
        case JSON_FALSE:
            gf_out_set_bool(out, k, json_is_true(v));
            break;
        case JSON_NULL:
            gf_out_set_nil(out, k);
            break;
        case JSON_OBJECT:
        case JSON_ARRAY: {
            msgpack_packer pk;
            gf_buf_clear(&packed);
            msgpack_packer_init(&pk, &packed, pack_write);
            if (pack_json(&pk, v) != 0) {
                snprintf(err, errlen, "out of memory");
                goto done_root;
            }
            gf_out_set_raw(out, k, packed.data, packed.len);
            break;
        }
        }
    }
    if (out->status < 0) {
        snprintf(err, errlen, "%s",
                 out->status == -ENOMEM ? "out of memory"
                                        : "the record could not be written");
        goto done_root;
    }
    rc = 0;
done_root:
    gf_buf_free(&packed);
    json_decref(root);
    return rc;
}
