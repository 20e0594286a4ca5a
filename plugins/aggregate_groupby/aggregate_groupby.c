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
 *
 * This file is the plugin: its options and callbacks. The group table
 * (key encoding, the hash table, the metrics) is groupby_table.c, the
 * state built from the options groupby_state.c, and the partial states of
 * several workers and their merge groupby_merge.c.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gigflow/plugin.h>

#include "groupby_state.h"

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
    if (gb_table_grow(s) < 0)
        goto fail_memory;
    if (s->nby == 0) { /* no by: one group, emitted even with no input */
        s->key.len = 0;
        if (!gb_group_find(s))
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
    if (gb_table_add(s) < 0)
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
    qsort(s->groups, s->ngroups, sizeof *s->groups, gb_group_cmp);
    for (size_t gi = 0; gi < s->ngroups; gi++) {
        gb_group *g = s->groups[gi];
        const uint8_t *p = g->key;
        h->begin(out);
        h->set_str(out, "kind", "metric", 6);
        h->set_str(out, "set", set, strlen(set));
        for (size_t b = 0; b < s->nby; b++) {
            gf_value v = gb_key_decode(&p);
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
            gb_metric_emit(h, out, &s->metrics[i], g);
        int rc = h->end(out);
        if (rc < 0)
            return rc;
    }
    return GF_OK;
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
