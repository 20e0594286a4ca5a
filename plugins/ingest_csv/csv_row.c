/*
 * csv_row - ingest_csv's rows into records: names the columns from the
 * header (or c1..cN, renamed by `columns`), types each cell and encodes
 * the row as a MessagePack map handed over whole; a row that cannot be a
 * record (bytes invalid in the encoding, a wrong field count, a cell not
 * of its declared type) goes to the dead letters with the file and the
 * line it starts on.
 *
 * Values: an empty cell is an absent field; `types` fixes a field's type,
 * other cells are inferred: integers (no leading zeros, within int64),
 * decimals (digits '.' digits), true/false, else text. Numbers are parsed
 * by hand without the locale; long decimals fall back to strtod_l in the
 * "C" locale.
 *
 * With `header: false` columns are named c1..cN; a `columns` key cN renames
 * column N, any other key renames the column at its position in the map.
 * A column renamed to "" is dropped.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ingest_csv.h"

static const char *const csv_type_names[] = {"", "int", "float", "bool",
                                             "string"};

int csv_type_of(const char *s)
{
    for (int t = CT_INT; t <= CT_STRING; t++)
        if (strcmp(s, csv_type_names[t]) == 0)
            return t;
    return -1;
}

/* ---- bytes -------------------------------------------------------------- */

/*
 * Offset of the first byte of s that is not valid UTF-8, or n. With
 * trunc_ok, a sequence cut off by the end of s counts as valid.
 */
static size_t csv_utf8_bad(const char *str, size_t n, bool trunc_ok)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        if (c < 0x80) {
            uint64_t w;
            while (i + 8 <= n &&
                   (memcpy(&w, s + i, 8), (w & 0x8080808080808080ull) == 0))
                i += 8;
            while (i < n && s[i] < 0x80)
                i++;
            continue;
        }
        if (c >= 0xe1 && c <= 0xef && c != 0xed && i + 2 < n &&
            (s[i + 1] & 0xc0) == 0x80 && (s[i + 2] & 0xc0) == 0x80) {
            i += 3; /* the common case: CJK and most of the BMP */
            continue;
        }
        size_t k;
        unsigned lo = 0x80, hi = 0xbf;
        if (c >= 0xc2 && c <= 0xdf)
            k = 1;
        else if (c >= 0xe0 && c <= 0xef) {
            k = 2;
            if (c == 0xe0)
                lo = 0xa0;
            else if (c == 0xed)
                hi = 0x9f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            k = 3;
            if (c == 0xf0)
                lo = 0x90;
            else if (c == 0xf4)
                hi = 0x8f;
        } else
            return i;
        for (size_t j = 1; j <= k; j++) {
            if (i + j >= n)
                return trunc_ok ? n : i;
            unsigned d = s[i + j];
            if (d < (j == 1 ? lo : 0x80) || d > (j == 1 ? hi : 0xbf))
                return i;
        }
        i += k + 1;
    }
    return n;
}

size_t csv_cut(const char *s, size_t n, size_t max)
{
    if (n <= max)
        return n;
    while (max > 0 && ((unsigned char)s[max] & 0xc0) == 0x80)
        max--;
    return max;
}

/* ---- values ------------------------------------------------------------- */

static bool csv_parse_int(const char *p, size_t n, bool strict, int64_t *out)
{
    size_t i = 0;
    bool neg = false;
    if (i < n && (p[i] == '-' || (!strict && p[i] == '+')))
        neg = p[i++] == '-';
    if (i == n || (strict && p[i] == '0' && n - i > 1))
        return false;
    uint64_t v = 0;
    if (n - i <= 19) { /* 19 digits cannot overflow 64 bits */
        for (; i < n; i++) {
            unsigned d = (unsigned)(unsigned char)p[i] - '0';
            if (d > 9)
                return false;
            v = v * 10 + d;
        }
    }
    for (; i < n; i++) {
        unsigned d = (unsigned)(unsigned char)p[i] - '0';
        if (d > 9 || __builtin_mul_overflow(v, 10, &v) ||
            __builtin_add_overflow(v, d, &v))
            return false;
    }
    if (v > (uint64_t)INT64_MAX + neg)
        return false;
    if (neg)
        *out = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
    else
        *out = (int64_t)v;
    return true;
}

static const double csv_pow10[] = {
    1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/*
 * A decimal number. strict (inference): -?(0|[1-9]d*).d+ only. Otherwise
 * (a declared float): optional sign, digits with an optional point, an
 * optional exponent. Up to 15 significant digits and a power of ten within
 * 1e22 are exact in a double, so m / 10^k is correctly rounded (Clinger's
 * fast path); anything else goes to strtod_l in the C locale.
 */
static bool csv_parse_dec(csv *c, const char *p, size_t n, bool strict,
                          double *out)
{
    size_t i = 0, digits = 0, frac = 0, sig = 0;
    bool neg = false;
    uint64_t m = 0;
    int64_t ex = 0;
    if (i < n && (p[i] == '-' || (!strict && p[i] == '+')))
        neg = p[i++] == '-';
    size_t int_start = i;
    for (; i < n && p[i] >= '0' && p[i] <= '9'; i++, digits++)
        if (sig || p[i] != '0') {
            sig++;
            if (sig <= 19)
                m = m * 10 + (uint64_t)(p[i] - '0');
        }
    if (strict && (digits == 0 || (p[int_start] == '0' && digits > 1)))
        return false;
    if (i < n && p[i] == '.') {
        for (i++; i < n && p[i] >= '0' && p[i] <= '9'; i++, frac++)
            if (sig || p[i] != '0') {
                sig++;
                if (sig <= 19)
                    m = m * 10 + (uint64_t)(p[i] - '0');
            }
        if (frac == 0 && (strict || digits == 0))
            return false;
    } else if (strict || digits == 0) {
        return false;
    }
    if (!strict && i < n && (p[i] == 'e' || p[i] == 'E')) {
        size_t j = i + 1;
        bool eneg = false;
        if (j < n && (p[j] == '-' || p[j] == '+'))
            eneg = p[j++] == '-';
        if (j == n)
            return false;
        for (; j < n && p[j] >= '0' && p[j] <= '9'; j++)
            if (ex < 100000)
                ex = ex * 10 + (p[j] - '0');
        if (eneg)
            ex = -ex;
        i = j;
    }
    if (i != n)
        return false;
    int64_t e10 = ex - (int64_t)frac;
    if (sig <= 15 && e10 >= -22 && e10 <= 22) {
        double d = (double)m;
        d = e10 < 0 ? d / csv_pow10[-e10] : d * csv_pow10[e10];
        *out = neg ? -d : d;
        return true;
    }
    char tmp[128];
    if (n >= sizeof tmp)
        return false;
    memcpy(tmp, p, n);
    tmp[n] = '\0';
    *out = strtod_l(tmp, NULL, c->cloc);
    return true;
}

/* 1 true, 0 false, -1 neither. Lenient (declared bool) adds 1 and 0. */
static int csv_parse_bool(const char *p, size_t n, bool lenient)
{
    if (n == 4 && (p[0] | 0x20) == 't' && (p[1] | 0x20) == 'r' &&
        (p[2] | 0x20) == 'u' && (p[3] | 0x20) == 'e')
        return 1;
    if (n == 5 && (p[0] | 0x20) == 'f' && (p[1] | 0x20) == 'a' &&
        (p[2] | 0x20) == 'l' && (p[3] | 0x20) == 's' && (p[4] | 0x20) == 'e')
        return 0;
    if (lenient && n == 1 && (p[0] == '1' || p[0] == '0'))
        return p[0] == '1';
    return -1;
}

/* Type one cell. Returns false when it does not fit its declared type. */
static bool csv_value(csv *c, csv_type t, const char *p, size_t n, csv_val *v)
{
    int b;
    if (t == CT_INFER) {
        unsigned char ch = (unsigned char)p[0];
        v->t = CT_STRING;
        if ((ch >= '0' && ch <= '9') || ch == '-') {
            if (csv_parse_int(p, n, true, &v->u.i))
                v->t = CT_INT;
            else if (csv_parse_dec(c, p, n, true, &v->u.f))
                v->t = CT_FLOAT;
        } else if ((ch | 0x20) == 't' || (ch | 0x20) == 'f') {
            if ((b = csv_parse_bool(p, n, false)) >= 0) {
                v->t = CT_BOOL;
                v->u.b = b;
            }
        }
        return true;
    }
    v->t = t;
    if (t == CT_STRING)
        return true;
    while (n > 0 && (p[0] == ' ' || p[0] == '\t'))
        p++, n--;
    while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
        n--;
    if (t == CT_INT)
        return csv_parse_int(p, n, false, &v->u.i);
    if (t == CT_FLOAT) {
        int64_t i;
        if (csv_parse_int(p, n, false, &i)) {
            v->u.f = (double)i;
            return true;
        }
        return csv_parse_dec(c, p, n, false, &v->u.f);
    }
    if ((b = csv_parse_bool(p, n, true)) < 0)
        return false;
    v->u.b = b;
    return true;
}

/* ---- MessagePack -------------------------------------------------------- */

/*
 * Records are encoded here as MessagePack maps and handed over whole with
 * gf_host.emit (a byte copy): keys are encoded once per column, and no
 * per-field call or duplicate-key search is paid per row. Columns never
 * repeat a key (csv_set_columns skips all but the last of a name).
 */
/* v as `bytes` (1, 2, 4 or 8) big-endian bytes; each size spelt out so
   that the compiler writes it as one swap and one store. */
static inline uint8_t *mp_be(uint8_t *w, uint64_t v, unsigned bytes)
{
    switch (bytes) {
    case 1:
        w[0] = (uint8_t)v;
        break;
    case 2:
        w[0] = (uint8_t)(v >> 8), w[1] = (uint8_t)v;
        break;
    case 4:
        w[0] = (uint8_t)(v >> 24), w[1] = (uint8_t)(v >> 16);
        w[2] = (uint8_t)(v >> 8), w[3] = (uint8_t)v;
        break;
    default:
        w[0] = (uint8_t)(v >> 56), w[1] = (uint8_t)(v >> 48);
        w[2] = (uint8_t)(v >> 40), w[3] = (uint8_t)(v >> 32);
        w[4] = (uint8_t)(v >> 24), w[5] = (uint8_t)(v >> 16);
        w[6] = (uint8_t)(v >> 8), w[7] = (uint8_t)v;
        break;
    }
    return w + bytes;
}

/*
 * Copy n bytes in blocks of CSV_PAD: a fixed-size copy is a load and a
 * store, where one of variable size is a call or a branch per size. It
 * reads and writes up to CSV_PAD - 1 bytes past the n: every buffer a cell
 * or a key is read from is allocated with CSV_PAD spare bytes (whatever
 * they hold is never used), and the record buffer keeps as many spare,
 * overwritten by what is written next.
 */
static inline uint8_t *mp_copy(uint8_t *w, const void *src, size_t n)
{
    const uint8_t *s = src;
    for (size_t i = 0; i < n; i += CSV_PAD)
        memcpy(w + i, s + i, CSV_PAD);
    return w + n;
}

/* The header of a string of n bytes. */
static inline uint8_t *mp_str_hdr(uint8_t *w, size_t n)
{
    if (n < 32)
        *w++ = (uint8_t)(0xa0 | n);
    else if (n <= 0xff)
        *w++ = 0xd9, *w++ = (uint8_t)n;
    else if (n <= 0xffff)
        *w++ = 0xda, w = mp_be(w, n, 2);
    else
        *w++ = 0xdb, w = mp_be(w, n, 4);
    return w;
}

/* A string from anywhere (names, options). */
uint8_t *csv_mp_str(uint8_t *w, const char *s, size_t n)
{
    w = mp_str_hdr(w, n);
    memcpy(w, s, n);
    return w + n;
}

static uint8_t *mp_int(uint8_t *w, int64_t v)
{
    if (v >= -32 && v <= 127) {
        *w++ = (uint8_t)v;
        return w;
    }
    if (v >= 0) {
        uint64_t u = (uint64_t)v;
        if (u <= 0xff)
            return *w++ = 0xcc, mp_be(w, u, 1);
        if (u <= 0xffff)
            return *w++ = 0xcd, mp_be(w, u, 2);
        if (u <= 0xffffffffu)
            return *w++ = 0xce, mp_be(w, u, 4);
        return *w++ = 0xcf, mp_be(w, u, 8);
    }
    if (v >= INT8_MIN)
        return *w++ = 0xd0, mp_be(w, (uint64_t)v, 1);
    if (v >= INT16_MIN)
        return *w++ = 0xd1, mp_be(w, (uint64_t)v, 2);
    if (v >= INT32_MIN)
        return *w++ = 0xd2, mp_be(w, (uint64_t)v, 4);
    return *w++ = 0xd3, mp_be(w, (uint64_t)v, 8);
}

static uint8_t *mp_float(uint8_t *w, double d)
{
    uint64_t u;
    memcpy(&u, &d, 8);
    *w++ = 0xcb;
    return mp_be(w, u, 8);
}

/* A map header for n pairs: always 5 bytes reserved, fixed up at the end. */
static size_t mp_map_hdr(uint8_t *rec, size_t n)
{
    if (n < 16) {
        rec[4] = (uint8_t)(0x80 | n);
        return 4;
    }
    if (n <= 0xffff) {
        rec[2] = 0xde;
        mp_be(rec + 3, n, 2);
        return 2;
    }
    rec[0] = 0xdf;
    mp_be(rec + 1, n, 4);
    return 0;
}

/* ---- rows --------------------------------------------------------------- */

int csv_reject(gf_ctx *ctx, csv *c, size_t len, const char *fmt, ...)
{
    char reason[512];
    int n = snprintf(reason, sizeof reason,
                     "line %llu: ", (unsigned long long)c->line);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason + n, sizeof reason - (size_t)n, fmt, ap);
    va_end(ap);
    return ctx->host->reject_raw(ctx, c->buf + c->start, len, c->file, c->line,
                                 reason);
}

/* Is key "cN" (N a column number)? */
static bool csv_is_cn(const char *key)
{
    if (key[0] != 'c' || key[1] < '1' || key[1] > '9')
        return false;
    for (key += 2; *key; key++)
        if (*key < '0' || *key > '9')
            return false;
    return true;
}

static int csv_set_columns(gf_ctx *ctx, csv *c, bool from_header)
{
    const gf_host *h = ctx->host;
    const gf_strmap *map = c->cfg->columns, *types = c->cfg->types;
    size_t n = c->nf;
    c->cols = calloc(n, sizeof *c->cols);
    if (!c->cols)
        goto fail_nomem;
    c->ncols = n;
    for (size_t i = 0; i < n; i++) {
        const csv_field *f = &c->f[i];
        char *src = from_header && f->len > 0 ? strndup(f->p, f->len) : NULL;
        if (!src && asprintf(&src, "c%zu", i + 1) < 0)
            goto fail_nomem;
        const char *name = src;
        for (size_t k = 0; map && k < map->n; k++)
            if (strcmp(map->keys[k], src) == 0 ||
                (!from_header && k == i && !csv_is_cn(map->keys[k])))
                name = map->values[k];
        c->cols[i].name = name == src ? src : strdup(name);
        if (name != src)
            free(src);
        if (!c->cols[i].name)
            goto fail_nomem;
        c->cols[i].skip = name[0] == '\0' || /* renamed to "": dropped */
                          (c->cfg->kind && strcmp(name, "kind") == 0);
        size_t nl = strlen(name);
        if (!(c->cols[i].key = calloc(1, nl + 5 + CSV_PAD)))
            goto fail_nomem;
        c->cols[i].key_len =
            (size_t)(csv_mp_str(c->cols[i].key, name, nl) - c->cols[i].key);
        c->keys_len += c->cols[i].key_len;
        for (size_t k = 0; types && k < types->n; k++)
            if (strcmp(types->keys[k], name) == 0)
                c->cols[i].type = (csv_type)csv_type_of(types->values[k]);
        for (size_t k = 0; k < i; k++)
            if (strcmp(c->cols[k].name, name) == 0) {
                h->log(ctx, GF_LOG_WARN,
                       "%s:%llu: columns %zu and %zu are "
                       "both named %s; the later one wins",
                       c->file, (unsigned long long)c->line, k + 1, i + 1,
                       name);
                c->cols[k].skip = true;
            }
    }
    for (size_t k = 0; from_header && map && k < map->n; k++) {
        size_t i = 0;
        while (i < n && (c->f[i].len != strlen(map->keys[k]) ||
                         memcmp(c->f[i].p, map->keys[k], c->f[i].len) != 0))
            i++;
        if (i == n)
            h->log(ctx, GF_LOG_WARN, "columns: %s is not in the header of %s",
                   map->keys[k], c->file);
    }
    for (size_t k = 0; types && k < types->n; k++) {
        size_t i = 0;
        while (i < n && strcmp(types->keys[k], c->cols[i].name) != 0)
            i++;
        if (i == n)
            h->log(ctx, GF_LOG_WARN, "types: %s is not a column of %s",
                   types->keys[k], c->file);
    }
    c->have_cols = true;
    return GF_OK;

fail_nomem:
    h->error(ctx, "out of memory");
    return GF_ERROR;
}

/* One scanned row: the header, or a record, or a dead letter. */
int csv_emit_row(gf_ctx *ctx, csv *c, const csv_row *r, gf_out *out)
{
    const gf_host *h = ctx->host;
    for (size_t i = 0; i < c->nf; i++)
        if (!c->f[i].p)
            c->f[i].p = c->esc + c->f[i].off;
    if (c->nf == 1 && c->f[0].len == 0)
        return GF_OK; /* a blank line */

    if (!c->have_cols && !c->cfg->header && csv_set_columns(ctx, c, false) < 0)
        return GF_ERROR; /* the first row gives the number of columns */
    const char *s = c->buf + c->start;
    if (csv_utf8_bad(s, r->content, false) != r->content) {
        for (size_t i = 0; i < c->nf; i++) {
            size_t bad = csv_utf8_bad(c->f[i].p, c->f[i].len, false);
            if (bad == c->f[i].len)
                continue;
            const char *enc = c->enc == ENC_GB18030 ? "GB18030" : "UTF-8";
            if (!c->have_cols) {
                h->error(ctx,
                         "%s:%llu: the header has bytes invalid in %s "
                         "(field %zu); set `encoding`",
                         c->file, (unsigned long long)c->line, enc, i + 1);
                return GF_ERROR;
            }
            return csv_reject(ctx, c, r->content,
                              "bytes invalid in %s in "
                              "field %zu (%s) at byte %zu",
                              enc, i + 1, i < c->ncols ? c->cols[i].name : "?",
                              bad + 1);
        }
    }
    if (!c->have_cols) /* the header */
        return csv_set_columns(ctx, c, true);
    if (c->nf != c->ncols)
        return csv_reject(ctx, c, r->content, "%zu fields, %s has %zu", c->nf,
                          c->cfg->header ? "header" : "the first row",
                          c->ncols);
    /* at most: map header, kind, every key, 9 bytes of value header or
       number per cell, and the cells' text (no longer than the row) */
    size_t need =
        5 + c->kind_mp_len + c->keys_len + 9 * c->nf + r->content + CSV_PAD;
    if (need > c->rec_cap) {
        uint8_t *p = realloc(c->rec, need);
        if (!p) {
            h->error(ctx, "out of memory");
            return GF_ERROR;
        }
        c->rec = p;
        c->rec_cap = need;
    }
    /* type and encode each cell in one pass; a cell that does not fit its
       declared type abandons the record */
    uint8_t *w = c->rec + 5;
    size_t pairs = 0;
    if (c->kind_mp_len) {
        memcpy(w, c->kind_mp, c->kind_mp_len);
        w += c->kind_mp_len;
        pairs++;
    }
    for (size_t i = 0; i < c->nf; i++) {
        const csv_field *f = &c->f[i];
        const csv_col *col = &c->cols[i];
        csv_val v;
        if (f->len == 0 || col->skip)
            continue;
        if (!csv_value(c, col->type, f->p, f->len, &v)) {
            size_t shown = csv_cut(f->p, f->len, 40);
            return csv_reject(ctx, c, r->content,
                              "field %s is not %s %s: "
                              "\"%.*s%s\"",
                              col->name, col->type == CT_INT ? "an" : "a",
                              csv_type_names[col->type], (int)shown, f->p,
                              shown < f->len ? "..." : "");
        }
        w = mp_copy(w, col->key, col->key_len);
        pairs++;
        switch (v.t) {
        case CT_INT:
            w = mp_int(w, v.u.i);
            break;
        case CT_FLOAT:
            w = mp_float(w, v.u.f);
            break;
        case CT_BOOL:
            *w++ = v.u.b ? 0xc3 : 0xc2;
            break;
        default:
            w = mp_copy(mp_str_hdr(w, f->len), f->p, f->len);
            break;
        }
    }
    size_t at = mp_map_hdr(c->rec, pairs);
    gf_record rec = {c->rec + at, (size_t)(w - c->rec) - at, (uint32_t)pairs};
    if (c->set_position) /* the line the row starts on */
        c->set_position(out, c->file, c->line);
    return h->emit(out, &rec);
}
