/*
 * groupby_merge - aggregate_groupby with several workers: partial()
 * writes each group's key and metric states as a record, and merge()
 * folds such a record into instance 0's table, which then flushes the
 * whole stream's groups as one instance would.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "groupby_state.h"

/* --- partial states and their merge (several workers) ------------------
 * partial() writes one record per group: `_key` (bin: the encoded group
 * key) and `_m` (an array, one state per metric in metric order):
 *   count, count_if   int
 *   sum, avg          [n, is_float, int sum, float sum]
 *   min, max          nil (no value yet), or the int or float picked
 *   distinct          [bin...]: the set's encoded values
 *   median            [float...]: every value
 * These records go from instance k to instance 0 only.
 */
static int mp_put(gb_buf *b, uint8_t tag, uint64_t v, unsigned nbytes)
{
    if (gb_buf_reserve(b, 1 + nbytes) < 0)
        return -1;
    b->p[b->len++] = tag;
    for (unsigned i = nbytes; i-- > 0;)
        b->p[b->len++] = (uint8_t)(v >> (8 * i));
    return 0;
}

static int mp_int(gb_buf *b, int64_t v)
{
    return mp_put(b, 0xd3, (uint64_t)v, 8);
}

static int mp_float(gb_buf *b, double f)
{
    uint64_t u;
    memcpy(&u, &f, 8);
    return mp_put(b, 0xcb, u, 8);
}

static int mp_array(gb_buf *b, size_t n)
{
    return mp_put(b, 0xdd, n, 4);
}

static int metric_partial(gb_buf *b, const gb_metric *m, gb_group *g)
{
    void *st = (uint8_t *)g + m->off;
    const gb_acc *a = st;
    const gb_ext *e = st;
    const gb_dset *d = st;
    const gb_vals *mv = st;
    switch (m->fn) {
    case M_COUNT:
    case M_COUNT_IF:
        return mp_int(b, (int64_t) * (uint64_t *)st);
    case M_SUM:
    case M_AVG:
        if (mp_array(b, 4) < 0 || mp_int(b, (int64_t)a->n) < 0 ||
            mp_put(b, a->is_float ? 0xc3 : 0xc2, 0, 0) < 0 ||
            mp_int(b, a->i) < 0)
            return -1;
        return mp_float(b, a->f);
    case M_MIN:
    case M_MAX:
        if (!e->has)
            return mp_put(b, 0xc0, 0, 0);
        return e->is_float ? mp_float(b, e->f) : mp_int(b, e->i);
    case M_DISTINCT:
        if (mp_array(b, d->n) < 0)
            return -1;
        for (size_t i = 0; i < d->cap; i++) {
            if (!d->tab[i].key)
                continue;
            if (mp_put(b, 0xc6, d->tab[i].len, 4) < 0 ||
                gb_buf_reserve(b, d->tab[i].len) < 0)
                return -1;
            memcpy(b->p + b->len, d->tab[i].key, d->tab[i].len);
            b->len += d->tab[i].len;
        }
        return 0;
    case M_MEDIAN:
        if (mp_array(b, mv->n) < 0)
            return -1;
        for (size_t i = 0; i < mv->n; i++)
            if (mp_float(b, mv->v[i]) < 0)
                return -1;
        return 0;
    }
    return 0;
}

int gb_partial(gf_ctx *ctx, void *state, gf_out *out)
{
    gb_state *s = state;
    const gf_host *h = ctx->host;
    for (size_t gi = 0; gi < s->ngroups; gi++) {
        gb_group *g = s->groups[gi];
        s->scratch.len = 0;
        if (mp_array(&s->scratch, s->nmetrics) < 0)
            goto fail_memory;
        for (size_t i = 0; i < s->nmetrics; i++)
            if (metric_partial(&s->scratch, &s->metrics[i], g) < 0)
                goto fail_memory;
        s->key.len = 0; /* `_key` as bin */
        if (mp_put(&s->key, 0xc6, g->key_len, 4) < 0 ||
            gb_buf_reserve(&s->key, g->key_len) < 0)
            goto fail_memory;
        if (g->key_len)
            memcpy(s->key.p + s->key.len, g->key, g->key_len);
        s->key.len += g->key_len;
        h->begin(out);
        h->set_raw(out, "_key", s->key.p, s->key.len);
        h->set_raw(out, "_m", s->scratch.p, s->scratch.len);
        int rc = h->end(out);
        if (rc < 0)
            return rc;
    }
    return GF_OK;
fail_memory:
    h->error(ctx, "out of memory writing the partial state of %zu groups",
             s->ngroups);
    return GF_ERROR;
}

/* A number of a partial state as int64 (ints; floats truncated). */
static int64_t as_int(const gf_value *v)
{
    return v->type == GF_T_INT     ? v->v.i
           : v->type == GF_T_FLOAT ? (int64_t)v->v.f
                                   : 0;
}

/* Absorb the partial accumulator [n, is_float, i, f] into a. */
static int acc_merge(const gf_host *h, gb_acc *a, const gf_value *v)
{
    gf_value e[4];
    gf_iter it = {0};
    size_t k = 0;
    while (k < 4 && h->elem(v, &it, &e[k]))
        k++;
    if (v->type != GF_T_ARRAY || k != 4 || e[1].type != GF_T_BOOL ||
        e[2].type != GF_T_INT || e[3].type != GF_T_FLOAT)
        return -1;
    uint64_t n = (uint64_t)as_int(&e[0]);
    bool is_float = e[1].v.b;
    if (n == 0)
        return 0;
    a->n += n;
    if (!is_float && !a->is_float) {
        int64_t sum;
        if (!__builtin_add_overflow(a->i, e[2].v.i, &sum)) {
            a->i = sum;
            return 0;
        }
        a->is_float = true; /* overflow: continue as a float */
        a->f = (double)a->i + (double)e[2].v.i;
        return 0;
    }
    if (!a->is_float) {
        a->is_float = true;
        a->f = (double)a->i;
    }
    a->f += is_float ? e[3].v.f : (double)e[2].v.i;
    return 0;
}

static int metric_merge(gb_state *s, const gf_host *h, const gb_metric *m,
                        gb_group *g, const gf_value *v)
{
    void *st = (uint8_t *)g + m->off;
    gf_iter it = {0};
    gf_value e;
    switch (m->fn) {
    case M_COUNT:
    case M_COUNT_IF:
        if (v->type != GF_T_INT)
            return -1;
        *(uint64_t *)st += (uint64_t)v->v.i;
        return 0;
    case M_SUM:
    case M_AVG:
        return acc_merge(h, st, v);
    case M_MIN:
    case M_MAX:
        if (v->type == GF_T_NIL)
            return 0;
        if (v->type != GF_T_INT && v->type != GF_T_FLOAT)
            return -1;
        gb_ext_add(st, v, m->fn == M_MAX);
        return 0;
    case M_DISTINCT:
        if (v->type != GF_T_ARRAY)
            return -1;
        while (h->elem(v, &it, &e)) {
            if (e.type != GF_T_BIN)
                return -1;
            if (gb_dset_add_encoded(s, st, (const uint8_t *)e.v.s.ptr,
                                    e.v.s.len) < 0)
                return -2;
        }
        return 0;
    case M_MEDIAN:
        if (v->type != GF_T_ARRAY)
            return -1;
        while (h->elem(v, &it, &e)) {
            if (e.type != GF_T_FLOAT)
                return -1;
            if (gb_vals_add(st, e.v.f) < 0)
                return -2;
        }
        return 0;
    }
    return 0;
}

int gb_merge(gf_ctx *ctx, void *state, const gf_record *partial)
{
    gb_state *s = state;
    const gf_host *h = ctx->host;
    gf_value key, ms, v;
    if (!h->get(partial, "_key", &key) || key.type != GF_T_BIN ||
        !h->get(partial, "_m", &ms) || ms.type != GF_T_ARRAY ||
        ms.n != s->nmetrics) {
        h->error(ctx,
                 "merge: not a partial state of this stage (fields "
                 "_key and _m with %zu metrics expected)",
                 s->nmetrics);
        return GF_ERROR;
    }
    s->key.len = 0;
    if (gb_buf_reserve(&s->key, key.v.s.len ? key.v.s.len : 1) < 0)
        goto fail_memory;
    if (key.v.s.len)
        memcpy(s->key.p, key.v.s.ptr, key.v.s.len);
    s->key.len = key.v.s.len;
    gb_group *g = gb_group_find(s);
    if (!g)
        goto fail_memory;
    gf_iter it = {0};
    for (size_t i = 0; i < s->nmetrics && h->elem(&ms, &it, &v); i++) {
        int rc = metric_merge(s, h, &s->metrics[i], g, &v);
        if (rc == -2)
            goto fail_memory;
        if (rc < 0) {
            h->error(ctx, "merge: metric %s: malformed partial state",
                     s->metrics[i].name);
            return GF_ERROR;
        }
    }
    return GF_OK;
fail_memory:
    h->error(ctx, "out of memory merging with %zu groups", s->ngroups);
    return GF_ERROR;
}
