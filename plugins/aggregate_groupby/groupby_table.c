/*
 * groupby_table - aggregate_groupby's group table: the encoding of a
 * group's by-values into one key (and back, and the order of keys at
 * flush), the open-addressing hash table of groups (XXH3 of the key), and
 * the per-group metric states: adding a value to one, and emitting it.
 * This is the per-record path of the plugin: it allocates only when a
 * group, a distinct value or a median value appears.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#define XXH_INLINE_ALL /* short keys: let the compiler specialise */
#include <xxhash.h>

#include "groupby_state.h"

/* --- the key encoding ----------------------------------------------------
 * One tag byte per value, then: bool 1 byte; int/float 8 bytes; str 4-byte
 * length + bytes; bin/array/map 4-byte length + their MessagePack bytes.
 */
enum { K_NIL, K_BOOL, K_INT, K_FLOAT, K_STR, K_RAW_BIN, K_RAW_ARR, K_RAW_MAP };

int gb_buf_reserve(gb_buf *b, size_t more)
{
    if (b->len + more <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + more)
        cap *= 2;
    uint8_t *p = realloc(b->p, cap);
    if (!p)
        return -1;
    b->p = p;
    b->cap = cap;
    return 0;
}

static int encode_value(gb_buf *b, const gf_value *v, bool numeric_eq)
{
    const uint8_t *bytes = NULL;
    size_t n = 0;
    uint8_t tag;
    if (gb_buf_reserve(b, 13) < 0)
        return -1;
    switch (v->type) {
    case GF_T_BOOL:
        b->p[b->len++] = K_BOOL;
        b->p[b->len++] = v->v.b;
        return 0;
    case GF_T_INT:
        b->p[b->len++] = K_INT;
        memcpy(b->p + b->len, &v->v.i, 8);
        b->len += 8;
        return 0;
    case GF_T_FLOAT:
        /* distinct(): 2.0 and 2 are one value */
        if (numeric_eq && v->v.f >= -9.2e18 && v->v.f <= 9.2e18 &&
            v->v.f == (double)(int64_t)v->v.f) {
            gf_value iv = {.type = GF_T_INT, .v.i = (int64_t)v->v.f};
            return encode_value(b, &iv, false);
        }
        b->p[b->len++] = K_FLOAT;
        memcpy(b->p + b->len, &v->v.f, 8);
        b->len += 8;
        return 0;
    case GF_T_STR:
        tag = K_STR;
        bytes = (const uint8_t *)v->v.s.ptr;
        n = v->v.s.len;
        break;
    case GF_T_BIN:
    case GF_T_ARRAY:
    case GF_T_MAP:
        tag = v->type == GF_T_BIN     ? K_RAW_BIN
              : v->type == GF_T_ARRAY ? K_RAW_ARR
                                      : K_RAW_MAP;
        bytes = v->raw;
        n = v->raw_len;
        break;
    default:
        b->p[b->len++] = K_NIL;
        return 0;
    }
    uint32_t n32 = (uint32_t)n;
    if (gb_buf_reserve(b, 5 + n) < 0)
        return -1;
    b->p[b->len++] = tag;
    memcpy(b->p + b->len, &n32, 4);
    memcpy(b->p + b->len + 4, bytes, n);
    b->len += 4 + n;
    return 0;
}

/* Decode one value at *p (advanced); STR values point into the key. */
gf_value gb_key_decode(const uint8_t **p)
{
    gf_value v = {.type = GF_T_NIL};
    uint8_t tag = *(*p)++;
    uint32_t n;
    switch (tag) {
    case K_BOOL:
        v.type = GF_T_BOOL;
        v.v.b = *(*p)++;
        break;
    case K_INT:
        v.type = GF_T_INT;
        memcpy(&v.v.i, *p, 8);
        *p += 8;
        break;
    case K_FLOAT:
        v.type = GF_T_FLOAT;
        memcpy(&v.v.f, *p, 8);
        *p += 8;
        break;
    case K_STR:
    case K_RAW_BIN:
    case K_RAW_ARR:
    case K_RAW_MAP:
        memcpy(&n, *p, 4);
        v.type = tag == K_STR       ? GF_T_STR
                 : tag == K_RAW_BIN ? GF_T_BIN
                 : tag == K_RAW_ARR ? GF_T_ARRAY
                                    : GF_T_MAP;
        v.v.s.ptr = (const char *)*p + 4;
        v.v.s.len = n;
        v.raw = *p + 4;
        v.raw_len = n;
        *p += 4 + n;
        break;
    }
    return v;
}

static int type_rank(gf_type t)
{
    switch (t) {
    case GF_T_NIL:
        return 0;
    case GF_T_BOOL:
        return 1;
    case GF_T_INT:
    case GF_T_FLOAT:
        return 2;
    case GF_T_STR:
        return 3;
    case GF_T_BIN:
        return 4;
    case GF_T_ARRAY:
        return 5;
    default:
        return 6;
    }
}

/* Numbers numerically (NaN last, an int before an equal float). */
static int num_cmp(const gf_value *a, const gf_value *b)
{
    if (a->type == GF_T_INT && b->type == GF_T_INT)
        return (a->v.i > b->v.i) - (a->v.i < b->v.i);
    long double x = a->type == GF_T_INT ? (long double)a->v.i : a->v.f;
    long double y = b->type == GF_T_INT ? (long double)b->v.i : b->v.f;
    if (isnan(x) || isnan(y))
        return isnan(x) - isnan(y);
    if (x != y)
        return x < y ? -1 : 1;
    return (a->type == GF_T_FLOAT) - (b->type == GF_T_FLOAT);
}

static int value_cmp(const gf_value *a, const gf_value *b)
{
    int ra = type_rank(a->type), rb = type_rank(b->type);
    if (ra != rb)
        return ra < rb ? -1 : 1;
    if (ra == 1)
        return a->v.b - b->v.b;
    if (ra == 2)
        return num_cmp(a, b);
    if (ra >= 3) {
        size_t n = a->v.s.len < b->v.s.len ? a->v.s.len : b->v.s.len;
        int c = memcmp(a->v.s.ptr, b->v.s.ptr, n);
        if (c)
            return c;
        return (a->v.s.len > b->v.s.len) - (a->v.s.len < b->v.s.len);
    }
    return 0;
}

int gb_group_cmp(const void *pa, const void *pb)
{
    const gb_group *a = *(gb_group *const *)pa, *b = *(gb_group *const *)pb;
    const uint8_t *p = a->key, *q = b->key, *pend = a->key + a->key_len;
    while (p < pend) {
        gf_value x = gb_key_decode(&p), y = gb_key_decode(&q);
        int c = value_cmp(&x, &y);
        if (c)
            return c;
    }
    return 0;
}

/* --- groups ------------------------------------------------------------ */

int gb_table_grow(gb_state *s)
{
    size_t cap = s->cap ? s->cap * 2 : 1024;
    gb_slot *slots = calloc(cap, sizeof *slots);
    if (!slots)
        return -1;
    for (size_t i = 0; i < s->cap; i++) {
        if (!s->slots[i].g)
            continue;
        size_t j = s->slots[i].hash & (cap - 1);
        while (slots[j].g)
            j = (j + 1) & (cap - 1);
        slots[j] = s->slots[i];
    }
    free(s->slots);
    s->slots = slots;
    s->cap = cap;
    return 0;
}

/* The group of the key in s->key, created when new; NULL: out of memory. */
gb_group *gb_group_find(gb_state *s)
{
    uint64_t h = XXH3_64bits(s->key.p, s->key.len);
    size_t i = h & (s->cap - 1);
    for (; s->slots[i].g; i = (i + 1) & (s->cap - 1)) {
        gb_group *g = s->slots[i].g;
        if (s->slots[i].hash == h && g->key_len == s->key.len &&
            (!s->key.len || memcmp(g->key, s->key.p, s->key.len) == 0))
            return g;
    }
    if ((s->ngroups + 1) * 4 > s->cap * 3 || s->ngroups == s->capgroups) {
        if ((s->ngroups + 1) * 4 > s->cap * 3 && gb_table_grow(s) < 0)
            return NULL;
        if (s->ngroups == s->capgroups) {
            size_t cap = s->capgroups ? s->capgroups * 2 : 1024;
            gb_group **gs = realloc(s->groups, cap * sizeof *gs);
            if (!gs)
                return NULL;
            s->groups = gs;
            s->capgroups = cap;
        }
        return gb_group_find(s); /* the slot moved */
    }
    gb_group *g = gb_arena_alloc(&s->arena, s->group_size + s->key.len);
    if (!g)
        return NULL;
    g->key = (uint8_t *)g + s->group_size;
    g->key_len = (uint32_t)s->key.len;
    if (s->key.len) /* no `by`: the empty key */
        memcpy(g->key, s->key.p, s->key.len);
    s->slots[i] = (gb_slot){.hash = h, .g = g};
    s->groups[s->ngroups++] = g;
    return g;
}

/* --- metrics ----------------------------------------------------------- */

static void acc_add(gb_acc *a, const gf_value *v)
{
    a->n++;
    if (v->type == GF_T_INT && !a->is_float) {
        int64_t sum;
        if (!__builtin_add_overflow(a->i, v->v.i, &sum)) {
            a->i = sum;
            return;
        }
        a->is_float = true; /* overflow: continue as a float */
        a->f = (double)a->i + (double)v->v.i;
        return;
    }
    if (!a->is_float) {
        a->is_float = true;
        a->f = (double)a->i;
    }
    a->f += v->type == GF_T_INT ? (double)v->v.i : v->v.f;
}

void gb_ext_add(gb_ext *e, const gf_value *v, bool is_max)
{
    gf_value cur = {.type = e->is_float ? GF_T_FLOAT : GF_T_INT};
    if (e->is_float)
        cur.v.f = e->f;
    else
        cur.v.i = e->i;
    if (e->has && (is_max ? num_cmp(v, &cur) <= 0 : num_cmp(v, &cur) >= 0))
        return;
    e->has = true;
    e->is_float = v->type == GF_T_FLOAT;
    if (e->is_float)
        e->f = v->v.f;
    else
        e->i = v->v.i;
}

/* Add the encoded value [enc, enc+len) to the set (a copy in the arena). */
int gb_dset_add_encoded(gb_state *s, gb_dset *d, const uint8_t *enc, size_t len)
{
    uint64_t h = XXH3_64bits(enc, len);
    if (d->cap) {
        for (size_t i = h & (d->cap - 1); d->tab[i].key;
             i = (i + 1) & (d->cap - 1))
            if (d->tab[i].hash == h && d->tab[i].len == len &&
                memcmp(d->tab[i].key, enc, len) == 0)
                return 0;
    }
    if ((d->n + 1) * 4 > d->cap * 3) {
        uint32_t cap = d->cap ? d->cap * 2 : 8;
        gb_dent *tab = calloc(cap, sizeof *tab);
        if (!tab)
            return -1;
        for (size_t i = 0; i < d->cap; i++) {
            if (!d->tab[i].key)
                continue;
            size_t j = d->tab[i].hash & (cap - 1);
            while (tab[j].key)
                j = (j + 1) & (cap - 1);
            tab[j] = d->tab[i];
        }
        free(d->tab);
        d->tab = tab;
        d->cap = cap;
    }
    uint8_t *key = gb_arena_alloc(&s->arena, len ? len : 1);
    if (!key)
        return -1;
    memcpy(key, enc, len);
    size_t i = h & (d->cap - 1);
    while (d->tab[i].key)
        i = (i + 1) & (d->cap - 1);
    d->tab[i] = (gb_dent){.hash = h, .key = key, .len = (uint32_t)len};
    d->n++;
    return 0;
}

static int dset_add(gb_state *s, gb_dset *d, const gf_value *v)
{
    s->scratch.len = 0;
    if (encode_value(&s->scratch, v, true) < 0)
        return -1;
    return gb_dset_add_encoded(s, d, s->scratch.p, s->scratch.len);
}

int gb_vals_add(gb_vals *m, double x)
{
    if (m->n == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 4;
        double *v = realloc(m->v, cap * sizeof *v);
        if (!v)
            return -1;
        m->v = v;
        m->cap = cap;
    }
    m->v[m->n++] = x;
    return 0;
}

static bool truthy(const gf_value *v)
{
    switch (v->type) {
    case GF_T_BOOL:
        return v->v.b;
    case GF_T_INT:
        return v->v.i != 0;
    case GF_T_FLOAT:
        return v->v.f != 0 && !isnan(v->v.f);
    case GF_T_STR:
    case GF_T_BIN:
        return v->v.s.len > 0;
    case GF_T_ARRAY:
    case GF_T_MAP:
        return v->n > 0;
    default:
        return false;
    }
}

static int metric_add(gb_state *s, const gb_metric *m, gb_group *g,
                      const gf_value *v)
{
    void *st = (uint8_t *)g + m->off;
    if (m->fn == M_COUNT) {
        ++*(uint64_t *)st;
        return 0;
    }
    if (v->type == GF_T_NIL || (v->type == GF_T_FLOAT && isnan(v->v.f)))
        return 0;
    switch (m->fn) {
    case M_COUNT_IF:
        *(uint64_t *)st += truthy(v);
        return 0;
    case M_SUM:
    case M_AVG:
        acc_add(st, v);
        return 0;
    case M_MIN:
    case M_MAX:
        gb_ext_add(st, v, m->fn == M_MAX);
        return 0;
    case M_DISTINCT:
        return dset_add(s, st, v);
    case M_MEDIAN:
        return gb_vals_add(st, v->type == GF_T_INT ? (double)v->v.i : v->v.f);
    default:
        return 0;
    }
}

static int dbl_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

void gb_metric_emit(const gf_host *h, gf_out *out, const gb_metric *m,
                    gb_group *g)
{
    void *st = (uint8_t *)g + m->off;
    const gb_acc *a = st;
    const gb_ext *e = st;
    gb_vals *mv = st;
    switch (m->fn) {
    case M_COUNT:
    case M_COUNT_IF:
        h->set_int(out, m->name, (int64_t) * (uint64_t *)st);
        return;
    case M_DISTINCT:
        h->set_int(out, m->name, ((gb_dset *)st)->n);
        return;
    case M_SUM:
        if (!a->n)
            h->set_nil(out, m->name);
        else if (a->is_float)
            h->set_float(out, m->name, a->f);
        else
            h->set_int(out, m->name, a->i);
        return;
    case M_AVG:
        if (!a->n)
            h->set_nil(out, m->name);
        else
            h->set_float(
                out, m->name,
                (double)((a->is_float ? (long double)a->f : (long double)a->i) /
                         a->n));
        return;
    case M_MIN:
    case M_MAX:
        if (!e->has)
            h->set_nil(out, m->name);
        else if (e->is_float)
            h->set_float(out, m->name, e->f);
        else
            h->set_int(out, m->name, e->i);
        return;
    case M_MEDIAN:
        if (!mv->n) {
            h->set_nil(out, m->name);
            return;
        }
        qsort(mv->v, mv->n, sizeof *mv->v, dbl_cmp);
        h->set_float(out, m->name,
                     mv->n % 2 ? mv->v[mv->n / 2]
                               : (mv->v[mv->n / 2 - 1] + mv->v[mv->n / 2]) / 2);
        return;
    }
}

int gb_table_add(gb_state *s)
{
    s->key.len = 0;
    for (size_t b = 0; b < s->nby; b++)
        if (encode_value(&s->key, &s->vals[b], false) < 0)
            return -1;
    gb_group *g = gb_group_find(s);
    if (!g)
        return -1;
    for (size_t i = 0; i < s->nmetrics; i++)
        if (metric_add(s, &s->metrics[i], g, &s->vals[s->metrics[i].field]) < 0)
            return -1;
    return 0;
}
