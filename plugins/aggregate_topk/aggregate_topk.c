/*
 * aggregate_topk - the k records with the highest (or lowest) value of a
 * numeric field per group of the `by` fields: a points leaderboard per
 * district, the largest projects per category.
 *
 * Each group keeps a bounded heap of at most k copies of records (the
 * worst of them on top), so memory is O(groups x k) whatever the input
 * size, and a record that does not enter the top k costs no allocation.
 * Ties are broken deterministically: then by `id` ascending (numbers
 * numerically, strings bytewise; a missing id first), then by the
 * record's encoded bytes, so the output never depends on arrival order.
 *
 * At flush, per group in group order, one metric row per kept record:
 * kind, set, the by-values, rank (1..k), the `keep` fields (nil when the
 * record lacks one), and the ranked field itself. Records without the
 * field (other kinds, for instance) are passed over; a field that is not
 * a number sends the record to the dead letters.
 */
#define _GNU_SOURCE
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gigflow/plugin.h>

#include "gf_domain.h"
#include "gf_group.h"

typedef struct tk_cfg {
    const gf_strlist *by;
    const char *field;
    int64_t k;
    const gf_strlist *keep;
    const char *order;
} tk_cfg;

static const gf_option tk_options[] = {
    {"by", GF_OPT_LIST, NULL, false, offsetof(tk_cfg, by),
     "fields to group by; none: one ranking over everything"},
    {"field", GF_OPT_STRING, NULL, true, offsetof(tk_cfg, field),
     "the numeric field to rank on (e.g. points)"},
    {"k", GF_OPT_INT, "10", false, offsetof(tk_cfg, k), "rows per group"},
    {"keep", GF_OPT_LIST, NULL, false, offsetof(tk_cfg, keep),
     "fields of the ranked records to carry into the rows (e.g. [id, name])"},
    {"order", GF_OPT_STRING, "desc", false, offsetof(tk_cfg, order),
     "desc: highest first; asc: lowest first"},
    {0},
};

/* A ranked record: a copy of its bytes (or, for a candidate, a view). */
typedef struct tk_entry {
    gf_record rec;
    size_t cap; /* bytes owned at rec.data; 0 for a view */
    bool isint;
    int64_t i;
    double f;
} tk_entry;

typedef struct tk_group {
    tk_entry *heap; /* grows by doubling up to k entries */
    uint32_t n, cap;
} tk_group;

typedef struct tk_state {
    tk_cfg cfg_copy;
    const tk_cfg *cfg;
    const gf_host *h;
    gf_group *groups;
    uint32_t k;
    bool asc;
    char why[160];
} tk_state;

/* <0 when a ranks before b. */
static int entry_cmp(const tk_state *st, const tk_entry *a, const tk_entry *b)
{
    int c;
    if (a->isint && b->isint)
        c = a->i < b->i ? -1 : a->i > b->i;
    else {
        long double x = a->isint ? (long double)a->i : a->f;
        long double y = b->isint ? (long double)b->i : b->f;
        c = x < y ? -1 : x > y;
    }
    if (c)
        return st->asc ? c : -c;
    gf_value ia, ib;
    st->h->get(&a->rec, "id", &ia);
    st->h->get(&b->rec, "id", &ib);
    c = gf_group_value_cmp(&ia, &ib);
    if (c)
        return c;
    c = memcmp(a->rec.data, b->rec.data,
               a->rec.len < b->rec.len ? a->rec.len : b->rec.len);
    if (c)
        return c;
    return a->rec.len < b->rec.len ? -1 : a->rec.len > b->rec.len;
}

/* Heap order: the worst-ranked entry at the root. */
static bool worse(const tk_state *st, const tk_entry *a, const tk_entry *b)
{
    return entry_cmp(st, a, b) > 0;
}

static void swap(tk_entry *a, tk_entry *b)
{
    tk_entry t = *a;
    *a = *b;
    *b = t;
}

static void sift_up(const tk_state *st, tk_entry *hp, uint32_t i)
{
    while (i > 0) {
        uint32_t p = (i - 1) / 2;
        if (!worse(st, &hp[i], &hp[p]))
            break;
        swap(&hp[i], &hp[p]);
        i = p;
    }
}

static void sift_down(const tk_state *st, tk_entry *hp, uint32_t n)
{
    uint32_t i = 0;
    for (;;) {
        uint32_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && worse(st, &hp[l], &hp[m]))
            m = l;
        if (r < n && worse(st, &hp[r], &hp[m]))
            m = r;
        if (m == i)
            return;
        swap(&hp[i], &hp[m]);
        i = m;
    }
}

/* Make `dst` a copy of candidate `src`, reusing dst's buffer. */
static int entry_copy(tk_entry *dst, const tk_entry *src)
{
    uint8_t *buf = (uint8_t *)dst->rec.data;
    if (dst->cap < src->rec.len) {
        buf = realloc(buf, src->rec.len);
        if (!buf)
            return -1;
        dst->cap = src->rec.len;
    }
    memcpy(buf, src->rec.data, src->rec.len);
    *dst = (tk_entry){{buf, src->rec.len, src->rec.nfields},
                      dst->cap,
                      src->isint,
                      src->i,
                      src->f};
    return 0;
}

static int oom(gf_ctx *ctx)
{
    ctx->host->error(ctx, "out of memory");
    return GF_ERROR;
}

static int tk_process(gf_ctx *ctx, void *state, const gf_record *rec,
                      gf_out *out)
{
    (void)out;
    tk_state *st = state;
    const gf_host *h = ctx->host;
    gf_value v;
    tk_entry cand = {.rec = *rec};

    if (!h->get(rec, st->cfg->field, &v) || v.type == GF_T_NIL)
        return GF_OK; /* nothing to rank it by */
    if (v.type == GF_T_INT) {
        cand.isint = true;
        cand.i = v.v.i;
    } else if (v.type == GF_T_FLOAT && v.v.f == v.v.f) {
        cand.f = v.v.f;
    } else if (v.type == GF_T_STR &&
               gf_domain_int_parse(v.v.s.ptr, v.v.s.len, &cand.i) == 0) {
        cand.isint = true;
    } else if (v.type != GF_T_STR ||
               gf_domain_float_parse(v.v.s.ptr, v.v.s.len, &cand.f) != 0) {
        snprintf(st->why, sizeof st->why, "field %s: not a number",
                 st->cfg->field);
        return h->reject(ctx, rec, st->why);
    }

    long g = gf_group_of(st->groups, h, rec, NULL);
    if (g < 0)
        return oom(ctx);
    tk_group *tg = gf_group_state(st->groups, (size_t)g);
    if (tg->n == tg->cap && tg->cap < st->k) {
        uint32_t cap = tg->cap ? tg->cap * 2 : 8;
        if (cap > st->k)
            cap = st->k;
        tk_entry *hp = realloc(tg->heap, cap * sizeof *hp);
        if (!hp)
            return oom(ctx);
        memset(hp + tg->cap, 0, (cap - tg->cap) * sizeof *hp);
        tg->heap = hp;
        tg->cap = cap;
    }
    if (tg->n < st->k) {
        if (entry_copy(&tg->heap[tg->n], &cand) != 0)
            return oom(ctx);
        sift_up(st, tg->heap, tg->n++);
    } else if (entry_cmp(st, &cand, &tg->heap[0]) < 0) {
        if (entry_copy(&tg->heap[0], &cand) != 0)
            return oom(ctx);
        sift_down(st, tg->heap, tg->n);
    }
    return GF_OK;
}

static int rank_cmp(const void *a, const void *b, void *arg)
{
    return entry_cmp(arg, *(const tk_entry *const *)a,
                     *(const tk_entry *const *)b);
}

static bool in_list(const gf_strlist *l, const char *s)
{
    for (size_t i = 0; l && i < l->n; i++)
        if (strcmp(l->items[i], s) == 0)
            return true;
    return false;
}

static int tk_flush(gf_ctx *ctx, void *state, gf_out *out)
{
    tk_state *st = state;
    const gf_host *h = ctx->host;
    const tk_cfg *c = st->cfg;
    size_t n = gf_group_count(st->groups);
    size_t *order = gf_group_sorted(st->groups);
    uint32_t most = 1;
    for (size_t g = 0; g < n; g++) {
        const tk_group *tg = gf_group_state(st->groups, g);
        if (tg->n > most)
            most = tg->n;
    }
    const tk_entry **rows = malloc(most * sizeof *rows);
    int rc = GF_OK;

    if (!rows || (n && !order)) {
        rc = oom(ctx);
        goto done;
    }
    for (size_t gi = 0; gi < n && rc == GF_OK; gi++) {
        tk_group *tg = gf_group_state(st->groups, order[gi]);
        for (uint32_t i = 0; i < tg->n; i++)
            rows[i] = &tg->heap[i];
        qsort_r(rows, tg->n, sizeof *rows, rank_cmp, st);
        for (uint32_t i = 0; i < tg->n && rc == GF_OK; i++) {
            gf_value v;
            h->begin(out);
            h->set_str(out, "kind", "metric", 6);
            h->set_str(out, "set", ctx->stage, strlen(ctx->stage));
            gf_group_set_fields(st->groups, order[gi], h, out);
            h->set_int(out, "rank", i + 1);
            for (size_t f = 0; c->keep && f < c->keep->n; f++) {
                if (h->get(&rows[i]->rec, c->keep->items[f], &v))
                    h->set_value(out, c->keep->items[f], &v);
                else
                    h->set_nil(out, c->keep->items[f]);
            }
            if (!in_list(c->keep, c->field) &&
                h->get(&rows[i]->rec, c->field, &v))
                h->set_value(out, c->field, &v);
            rc = h->end(out);
        }
    }
done:
    free(rows);
    free(order);
    return rc;
}

static int tk_check(gf_ctx *ctx, const void *config)
{
    const tk_cfg *c = config;
    const gf_host *h = ctx->host;
    int rc = GF_OK;
    if (c->k < 1 || c->k > 1000000) {
        h->option_error(ctx, "k", "k must be 1..1000000, not %lld",
                        (long long)c->k);
        rc = GF_ERROR;
    }
    if (c->order && strcmp(c->order, "desc") && strcmp(c->order, "asc")) {
        h->option_error(ctx, "order", "order is desc or asc, not '%s'",
                        c->order);
        rc = GF_ERROR;
    }
    if (!c->field || !c->field[0]) {
        h->option_error(ctx, "field", "name the numeric field to rank on");
        rc = GF_ERROR;
    }
    static const char *const reserved[] = {"kind", "set", "rank"};
    for (size_t i = 0; i < 3; i++) {
        if (in_list(c->keep, reserved[i]) || in_list(c->by, reserved[i]) ||
            (c->field && strcmp(c->field, reserved[i]) == 0)) {
            h->option_error(ctx, "keep",
                            "'%s' names a field of the output "
                            "rows itself; it cannot be kept, grouped or ranked",
                            reserved[i]);
            rc = GF_ERROR;
        }
    }
    return rc;
}

static void tk_destroy(gf_ctx *ctx, void *state)
{
    (void)ctx;
    tk_state *st = state;
    if (!st)
        return;
    for (size_t g = 0; st->groups && g < gf_group_count(st->groups); g++) {
        tk_group *tg = gf_group_state(st->groups, g);
        for (uint32_t i = 0; tg->heap && i < tg->n; i++)
            free((void *)tg->heap[i].rec.data);
        free(tg->heap);
    }
    gf_group_free(&st->groups);
    free(st);
}

static int tk_init(gf_ctx *ctx, const void *config, void **state)
{
    const tk_cfg *c = config;
    if (tk_check(ctx, config) != GF_OK)
        return GF_ERROR;
    tk_state *st = calloc(1, sizeof *st);
    if (!st)
        return oom(ctx);
    st->cfg_copy = *c;
    st->cfg = &st->cfg_copy;
    st->h = ctx->host;
    st->k = (uint32_t)c->k;
    st->asc = c->order && strcmp(c->order, "asc") == 0;
    st->groups = gf_group_new(c->by ? c->by->items : NULL, c->by ? c->by->n : 0,
                              sizeof(tk_group));
    if (!st->groups) {
        tk_destroy(ctx, st);
        return oom(ctx);
    }
    *state = st;
    return GF_OK;
}

static const gf_plugin tk_plugin = {
    GF_PLUGIN_HEADER,
    .name = "aggregate_topk",
    .kind = GF_KIND_AGGREGATE,
    .version = "1.0.0",
    .description = "the top k records by a numeric field per group "
                   "(leaderboards)",
    .options = tk_options,
    .config_size = sizeof(tk_cfg),
    .check = tk_check,
    .init = tk_init,
    .process = tk_process,
    .flush = tk_flush,
    .destroy = tk_destroy,
};

GF_PLUGIN_DEFINE(tk_plugin)
