/*
 * aggregate_groupby - group records by fields and compute metrics per group.
 *
 *   with:
 *     by: [platform, district]          # absent: one group over everything
 *     metrics:                          # name: expression, in output order
 *       riders: count()
 *       members: count_if(party)
 *       points: sum(points)
 *       oldest: max(age)
 *       median_age: median(age)
 *       stations: distinct(station)
 *
 * At flush every group becomes one record: kind "metric", set (the stage's
 * name), the by fields with their original values (a missing field groups
 * and prints as nil), then the metrics in the order written. Groups come
 * out sorted by their by-values (nil < bools < numbers < strings < bytes <
 * arrays < maps; numbers numerically, strings bytewise).
 *
 * Memory grows with groups, not with records: groups live in an
 * open-addressing hash table (XXH3 of the encoded by-values) with their
 * state in an arena; the fields a record is grouped and measured by are
 * read in one walk over it. The exceptions are distinct() (a hash set per
 * group: memory grows with the distinct values) and median() (which keeps every
 * value of its group: memory grows with the values). Nothing is allocated
 * per record except when a group, a distinct value or a median value
 * appears.
 *
 * Absent and nil values are skipped by every metric but count(); NaN is
 * skipped too. A present value that is not a number, given to sum, min,
 * max, avg or median, rejects the record to the dead letters ("field F:
 * 'abc' is not a number") before any group sees it. sum of integers stays
 * an integer until it would overflow, then becomes a float; avg and median
 * are floats; min and max keep the type of the value they picked; a metric
 * over no values is nil (SQL's NULL), except count, count_if and distinct.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#define XXH_INLINE_ALL /* short keys: let the compiler specialise */
#include <xxhash.h>

#include <gigflow/plugin.h>

#include "groupby_state.h"

/* --- the key encoding ----------------------------------------------------
 * One tag byte per value, then: bool 1 byte; int/float 8 bytes; str 4-byte
 * length + bytes; bin/array/map 4-byte length + their MessagePack bytes.
 */
enum { K_NIL, K_BOOL, K_INT, K_FLOAT, K_STR, K_RAW_BIN, K_RAW_ARR, K_RAW_MAP };

static int buf_reserve(gb_buf *b, size_t more)
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
    if (buf_reserve(b, 13) < 0)
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
    if (buf_reserve(b, 5 + n) < 0)
        return -1;
    b->p[b->len++] = tag;
    memcpy(b->p + b->len, &n32, 4);
    memcpy(b->p + b->len + 4, bytes, n);
    b->len += 4 + n;
    return 0;
}

/* Decode one value at *p (advanced); STR values point into the key. */
static gf_value decode_value(const uint8_t **p)
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

static int group_cmp(const void *pa, const void *pb)
{
    const gb_group *a = *(gb_group *const *)pa, *b = *(gb_group *const *)pb;
    const uint8_t *p = a->key, *q = b->key, *pend = a->key + a->key_len;
    while (p < pend) {
        gf_value x = decode_value(&p), y = decode_value(&q);
        int c = value_cmp(&x, &y);
        if (c)
            return c;
    }
    return 0;
}

/* --- groups ------------------------------------------------------------ */

static int table_grow(gb_state *s)
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
static gb_group *group_find(gb_state *s)
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
        if ((s->ngroups + 1) * 4 > s->cap * 3 && table_grow(s) < 0)
            return NULL;
        if (s->ngroups == s->capgroups) {
            size_t cap = s->capgroups ? s->capgroups * 2 : 1024;
            gb_group **gs = realloc(s->groups, cap * sizeof *gs);
            if (!gs)
                return NULL;
            s->groups = gs;
            s->capgroups = cap;
        }
        return group_find(s); /* the slot moved */
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

static void ext_add(gb_ext *e, const gf_value *v, bool is_max)
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
static int dset_add_encoded(gb_state *s, gb_dset *d, const uint8_t *enc,
                            size_t len)
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
    return dset_add_encoded(s, d, s->scratch.p, s->scratch.len);
}

static int vals_add(gb_vals *m, double x)
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
        ext_add(st, v, m->fn == M_MAX);
        return 0;
    case M_DISTINCT:
        return dset_add(s, st, v);
    case M_MEDIAN:
        return vals_add(st, v->type == GF_T_INT ? (double)v->v.i : v->v.f);
    default:
        return 0;
    }
}

static int dbl_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void metric_emit(const gf_host *h, gf_out *out, const gb_metric *m,
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

/* --- the plugin -------------------------------------------------------- */

static int gb_check(gf_ctx *ctx, const void *config)
{
    gb_state *s = gb_state_new(ctx, config);
    if (!s)
        return GF_ERROR;
    gb_state_free(&s);
    return GF_OK;
}

static int gb_init(gf_ctx *ctx, const void *config, void **state)
{
    gb_state *s = gb_state_new(ctx, config);
    *state = s;
    if (!s)
        return GF_ERROR;
    if (table_grow(s) < 0)
        goto fail_memory;
    if (s->nby == 0) { /* no by: one group, emitted even with no input */
        s->key.len = 0;
        if (!group_find(s))
            goto fail_memory;
    }
    return GF_OK;
fail_memory:
    ctx->host->error(ctx, "out of memory");
    return GF_ERROR;
}

/* "field F: 'abc' is not a number" for the dead letters. */
static const char *not_a_number(gb_state *s, const char *field,
                                const gf_value *v)
{
    if (v->type == GF_T_STR) {
        size_t n = v->v.s.len;
        bool cut = n > 60;
        if (cut) /* at a UTF-8 character boundary */
            for (n = 60; n > 0 && (v->v.s.ptr[n] & 0xC0) == 0x80; n--)
                ;
        snprintf(s->msg, sizeof s->msg, "field %s: '%.*s%s' is not a number",
                 field, (int)n, v->v.s.ptr, cut ? "..." : "");
    } else {
        snprintf(s->msg, sizeof s->msg, "field %s: %s is not a number", field,
                 v->type == GF_T_BOOL    ? (v->v.b ? "'true'" : "'false'")
                 : v->type == GF_T_BIN   ? "binary data"
                 : v->type == GF_T_ARRAY ? "an array"
                                         : "a map");
    }
    return s->msg;
}

/* memcmp(a, b, n) == 0 for short field names, without a call. */
static inline bool same_bytes(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (a[i] != b[i])
            return false;
    return true;
}

/*
 * Read every field the stage needs into s->vals in one walk over the
 * record, stopping when all were found: looking each up by name would walk
 * the record once per field, and walking MessagePack is a chain of
 * dependent loads. An absent field reads as nil; of a key present twice,
 * the first counts (as with gf_host.get).
 */
static void read_fields(gb_state *s, const gf_host *h, const gf_record *rec)
{
    size_t left = s->nfields;
    for (size_t f = 0; f < s->nfields; f++) {
        s->vals[f].type = GF_T_NIL;
        s->found[f] = false;
    }
    gf_iter it = {0};
    gf_str k;
    gf_value v;
    while (left > 0 && h->next(rec, &it, &k, &v)) {
        if (k.len < 64 && !(s->lens >> k.len & 1))
            continue; /* no field is that long: most keys end here */
        for (size_t f = 0; f < s->nfields; f++) {
            if (s->found[f] || s->fieldlens[f] != k.len ||
                !same_bytes(s->fields[f], k.ptr, k.len))
                continue;
            s->vals[f] = v;
            s->found[f] = true;
            left--;
            break;
        }
    }
}

static int gb_process(gf_ctx *ctx, void *state, const gf_record *rec,
                      gf_out *out)
{
    (void)out;
    gb_state *s = state;
    const gf_host *h = ctx->host;
    read_fields(s, h, rec);
    for (size_t f = 0; f < s->nfields; f++) {
        const gf_value *v = &s->vals[f];
        if (s->numeric[f] && v->type != GF_T_NIL && v->type != GF_T_INT &&
            v->type != GF_T_FLOAT)
            return h->reject(ctx, rec, not_a_number(s, s->fields[f], v));
    }
    s->key.len = 0;
    for (size_t b = 0; b < s->nby; b++)
        if (encode_value(&s->key, &s->vals[b], false) < 0)
            goto fail_memory;
    gb_group *g = group_find(s);
    if (!g)
        goto fail_memory;
    for (size_t i = 0; i < s->nmetrics; i++)
        if (metric_add(s, &s->metrics[i], g, &s->vals[s->metrics[i].field]) < 0)
            goto fail_memory;
    return GF_OK;
fail_memory:
    h->error(ctx, "out of memory with %zu groups", s->ngroups);
    return GF_ERROR;
}

static int gb_flush(gf_ctx *ctx, void *state, gf_out *out)
{
    gb_state *s = state;
    const gf_host *h = ctx->host;
    const char *set = ctx->stage ? ctx->stage : "";
    qsort(s->groups, s->ngroups, sizeof *s->groups, group_cmp);
    for (size_t gi = 0; gi < s->ngroups; gi++) {
        gb_group *g = s->groups[gi];
        const uint8_t *p = g->key;
        h->begin(out);
        h->set_str(out, "kind", "metric", 6);
        h->set_str(out, "set", set, strlen(set));
        for (size_t b = 0; b < s->nby; b++) {
            gf_value v = decode_value(&p);
            const char *name = s->fields[b];
            if (v.type == GF_T_STR)
                h->set_str(out, name, v.v.s.ptr, v.v.s.len);
            else if (v.type == GF_T_BIN || v.type == GF_T_ARRAY ||
                     v.type == GF_T_MAP)
                h->set_raw(out, name, v.raw, v.raw_len);
            else if (v.type == GF_T_INT)
                h->set_int(out, name, v.v.i);
            else if (v.type == GF_T_FLOAT)
                h->set_float(out, name, v.v.f);
            else if (v.type == GF_T_BOOL)
                h->set_bool(out, name, v.v.b);
            else
                h->set_nil(out, name);
        }
        for (size_t i = 0; i < s->nmetrics; i++)
            metric_emit(h, out, &s->metrics[i], g);
        int rc = h->end(out);
        if (rc < 0)
            return rc;
    }
    return GF_OK;
}

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
    if (buf_reserve(b, 1 + nbytes) < 0)
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
                buf_reserve(b, d->tab[i].len) < 0)
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

static int gb_partial(gf_ctx *ctx, void *state, gf_out *out)
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
            buf_reserve(&s->key, g->key_len) < 0)
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
        ext_add(st, v, m->fn == M_MAX);
        return 0;
    case M_DISTINCT:
        if (v->type != GF_T_ARRAY)
            return -1;
        while (h->elem(v, &it, &e)) {
            if (e.type != GF_T_BIN)
                return -1;
            if (dset_add_encoded(s, st, (const uint8_t *)e.v.s.ptr, e.v.s.len) <
                0)
                return -2;
        }
        return 0;
    case M_MEDIAN:
        if (v->type != GF_T_ARRAY)
            return -1;
        while (h->elem(v, &it, &e)) {
            if (e.type != GF_T_FLOAT)
                return -1;
            if (vals_add(st, e.v.f) < 0)
                return -2;
        }
        return 0;
    }
    return 0;
}

static int gb_merge(gf_ctx *ctx, void *state, const gf_record *partial)
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
    if (buf_reserve(&s->key, key.v.s.len ? key.v.s.len : 1) < 0)
        goto fail_memory;
    if (key.v.s.len)
        memcpy(s->key.p, key.v.s.ptr, key.v.s.len);
    s->key.len = key.v.s.len;
    gb_group *g = group_find(s);
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

static void gb_destroy(gf_ctx *ctx, void *state)
{
    (void)ctx;
    gb_state *s = state;
    gb_state_free(&s);
}

static const gf_option gb_options[] = {
    {.key = "by",
     .type = GF_OPT_LIST,
     .offset = offsetof(gb_config, by),
     .help = "fields to group by (absent: one group; a missing field "
             "groups as nil)"},
    {.key = "metrics",
     .type = GF_OPT_MAP,
     .required = true,
     .offset = offsetof(gb_config, metrics),
     .help = "name: expression, in output order; count(), count_if(F), "
             "sum(F), min(F), max(F), avg(F), distinct(F), median(F)"},
    {0}};

static const gf_plugin aggregate_groupby_plugin = {
    GF_PLUGIN_HEADER,
    .name = "aggregate_groupby",
    .kind = GF_KIND_AGGREGATE,
    .version = "1.0.0",
    .description = "group records by fields: count, sum, min, max, avg, "
                   "distinct, median per group",
    .options = gb_options,
    .config_size = sizeof(gb_config),
    .check = gb_check,
    .init = gb_init,
    .process = gb_process,
    .flush = gb_flush,
    .destroy = gb_destroy,
    .partial = gb_partial,
    .merge = gb_merge,
};

GF_PLUGIN_DEFINE(aggregate_groupby_plugin)
