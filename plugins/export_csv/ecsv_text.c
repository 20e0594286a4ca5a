/*
 * ecsv_text - export_csv's cells: each value as text by gigflow's
 * conventions (integers as integers, floats in the shortest %.15g/%.17g
 * form that reads back the same, in the "C" locale; true/false; nil empty;
 * binary as base64; arrays and maps as JSON through the host), and the
 * RFC 4180 quoting of a cell that holds the delimiter, a quote or a line
 * end, or starts or ends with a space.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export_csv.h"

void tb_put(tbuf *b, const void *s, size_t n)
{
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->nomem = true;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
}

static void tb_int(tbuf *b, int64_t v)
{
    char t[24], *q = t + sizeof t;
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    do
        *--q = (char)('0' + u % 10);
    while (u /= 10);
    if (v < 0)
        *--q = '-';
    tb_put(b, q, (size_t)(t + sizeof t - q));
}

/*
 * The shortest of %.15g, %.16g, %.17g that reads back as v. Most data
 * (points, budgets) has a few decimals: v = m / 10^k exactly for a small k
 * is written by hand, which is what %.15g writes for it, without printf.
 */
static void tb_float(ecsv *e, tbuf *b, double v)
{
    static const double p10[] = {1, 10, 100, 1e3, 1e4, 1e5, 1e6};
    double a = fabs(v);
    if (a < 1e9 && (a >= 1e-4 || (v == 0 && !signbit(v)))) {
        for (int k = 0; k <= 6; k++) {
            int64_t m = llrint(v * p10[k]);
            if ((double)m / p10[k] != v)
                continue;
            uint64_t u = m < 0 ? 0 - (uint64_t)m : (uint64_t)m;
            uint64_t div = (uint64_t)p10[k];
            if (m < 0)
                tb_put(b, "-", 1);
            tb_int(b, (int64_t)(u / div));
            if (k > 0) {
                char f[8];
                uint64_t r = u % div;
                for (int i = k; i-- > 0; r /= 10)
                    f[i] = (char)('0' + r % 10);
                tb_put(b, ".", 1);
                tb_put(b, f, (size_t)k);
            }
            return;
        }
    }
    char t[40];
    locale_t old = uselocale(e->cloc);
    int n = 0;
    for (int prec = 15; prec <= 17; prec++) {
        n = snprintf(t, sizeof t, "%.*g", prec, v);
        if (strtod(t, NULL) == v || v != v)
            break;
    }
    uselocale(old);
    tb_put(b, t, (size_t)n);
}

static void tb_base64(tbuf *b, const unsigned char *s, size_t n)
{
    static const char a[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (size_t i = 0; i < n; i += 3) {
        uint32_t w = (uint32_t)s[i] << 16;
        if (i + 1 < n)
            w |= (uint32_t)s[i + 1] << 8;
        if (i + 2 < n)
            w |= s[i + 2];
        char q[4] = {a[w >> 18], a[(w >> 12) & 63],
                     i + 1 < n ? a[(w >> 6) & 63] : '=',
                     i + 2 < n ? a[w & 63] : '='};
        tb_put(b, q, 4);
    }
}

/* An array or map value as JSON (host value_to_json). */
static void tb_json(ecsv *e, const gf_host *h, tbuf *b, const gf_value *v)
{
    long len = h->value_to_json(v, &e->json.p, &e->json.cap);
    if (len < 0)
        b->nomem = true;
    else
        tb_put(b, e->json.p, (size_t)len);
}

/* A value as text, without quoting. */
void tb_value(ecsv *e, const gf_host *h, tbuf *b, const gf_value *v)
{
    switch (v->type) {
    case GF_T_NIL:
        break;
    case GF_T_BOOL:
        tb_put(b, v->v.b ? "true" : "false", v->v.b ? 4 : 5);
        break;
    case GF_T_INT:
        tb_int(b, v->v.i);
        break;
    case GF_T_FLOAT:
        tb_float(e, b, v->v.f);
        break;
    case GF_T_STR:
        tb_put(b, v->v.s.ptr, v->v.s.len);
        break;
    case GF_T_BIN:
        tb_base64(b, (const unsigned char *)v->v.s.ptr, v->v.s.len);
        break;
    default:
        tb_json(e, h, b, v);
        break;
    }
}

/* Append one CSV cell, quoted when RFC 4180 or a space at an end needs it. */
void ecsv_cell(ecsv *e, const char *s, size_t n)
{
    bool quote = n > 0 && (s[0] == ' ' || s[n - 1] == ' ');
    for (size_t i = 0; i < n && !quote; i++)
        quote = e->special[(unsigned char)s[i]];
    if (!quote) {
        tb_put(&e->line, s, n);
        return;
    }
    tb_put(&e->line, "\"", 1);
    for (const char *q; n > 0 && (q = memchr(s, '"', n)) != NULL;) {
        tb_put(&e->line, s, (size_t)(q + 1 - s));
        tb_put(&e->line, "\"", 1);
        n -= (size_t)(q + 1 - s);
        s = q + 1;
    }
    tb_put(&e->line, s, n);
    tb_put(&e->line, "\"", 1);
}
