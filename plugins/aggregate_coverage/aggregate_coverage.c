/*
 * aggregate_coverage - how far the organisations reach, per group of the
 * `by` fields (default: district), from org and member records read
 * together (`from: [orgs, members]`; other kinds are ignored).
 *
 * Per group, emitted at flush as one metric row (kind, set, the by-values,
 * then these, in this order):
 *   stations              distinct stations named by the group's members
 *                         or organisations
 *   stations_covered      those of them that some organisation (of any
 *                         group) names in its `station` field
 *   coverage              stations_covered / stations (nil without stations)
 *   workers               member records
 *   party_members         members with party true
 *   mobile_party_members  party members whose rel is mobile
 *   density               party members per 1,000 workers (nil: no workers)
 *   attached              members with a non-empty org_id
 *   attached_share        attached / workers (nil: no workers)
 * An organisation without a station adds nothing; one with a station adds
 * the station to its own group (organisations have no workers, so a group
 * made only of organisations shows workers 0).
 *
 * Memory: one entry per group, per distinct station and per distinct
 * (group, station) pair; nothing per record.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gigflow/plugin.h>

#include "gf_domain.h"
#include "gf_group.h"

typedef struct cov_cfg {
    const gf_strlist *by;
} cov_cfg;

static const gf_option cov_options[] = {
    {"by", GF_OPT_LIST, "district", false, offsetof(cov_cfg, by),
     "fields to group by (org and member fields, e.g. district, platform)"},
    {0},
};

typedef struct cov_group {
    uint64_t workers, party, mobile, attached;
} cov_group;

typedef struct cov_state {
    gf_group *groups;   /* by-values -> cov_group */
    gf_group *stations; /* station -> covered flag (uint8_t) */
    uint64_t *pairs;    /* (group << 32 | station) + 1; 0: empty */
    size_t npairs, cap; /* cap: power of two */
    char why[128];
} cov_state;

static const char *const station_key[] = {"station"};

/* The by-fields name the group; they cannot be the row's own fields. */
static int cov_check(gf_ctx *ctx, const void *config)
{
    static const char *const own[] = {
        "kind",     "set",      "stations",       "stations_covered",
        "coverage", "workers",  "party_members",  "mobile_party_members",
        "density",  "attached", "attached_share",
    };
    const cov_cfg *c = config;
    int rc = GF_OK;
    for (size_t i = 0; c->by && i < c->by->n; i++) {
        for (size_t j = 0; j < sizeof own / sizeof own[0]; j++) {
            if (strcmp(c->by->items[i], own[j]) == 0) {
                ctx->host->option_error(ctx, "by",
                                        "'%s' is a field of the "
                                        "output rows; group by a field of "
                                        "the records",
                                        own[j]);
                rc = GF_ERROR;
            }
        }
    }
    return rc;
}

static void cov_destroy(gf_ctx *ctx, void *state)
{
    (void)ctx;
    cov_state *st = state;
    if (!st)
        return;
    gf_group_free(&st->groups);
    gf_group_free(&st->stations);
    free(st->pairs);
    free(st);
}

static int cov_init(gf_ctx *ctx, const void *config, void **state)
{
    const cov_cfg *c = config;
    if (cov_check(ctx, config) != GF_OK)
        return GF_ERROR;
    cov_state *st = calloc(1, sizeof *st);
    if (!st)
        goto fail_alloc;
    st->groups = gf_group_new(c->by ? c->by->items : NULL, c->by ? c->by->n : 0,
                              sizeof(cov_group));
    st->stations = gf_group_new(station_key, 1, 1);
    st->cap = 1024;
    st->pairs = calloc(st->cap, sizeof *st->pairs);
    if (!st->groups || !st->stations || !st->pairs)
        goto fail_alloc;
    *state = st;
    return GF_OK;
fail_alloc:
    cov_destroy(ctx, st);
    ctx->host->error(ctx, "out of memory");
    return GF_ERROR;
}

static uint64_t mix(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static int pair_add(cov_state *st, uint64_t g, uint64_t s)
{
    uint64_t key = (g << 32 | s) + 1;
    if ((st->npairs + 1) * 2 > st->cap) {
        size_t cap = st->cap * 2;
        uint64_t *p = calloc(cap, sizeof *p);
        if (!p)
            return -1;
        for (size_t i = 0; i < st->cap; i++) {
            if (!st->pairs[i])
                continue;
            size_t j = mix(st->pairs[i]) & (cap - 1);
            while (p[j])
                j = (j + 1) & (cap - 1);
            p[j] = st->pairs[i];
        }
        free(st->pairs);
        st->pairs = p;
        st->cap = cap;
    }
    size_t j = mix(key) & (st->cap - 1);
    for (; st->pairs[j]; j = (j + 1) & (st->cap - 1))
        if (st->pairs[j] == key)
            return 0;
    st->pairs[j] = key;
    st->npairs++;
    return 0;
}

/* The station of rec as an index, -1 when it has none, -2 out of memory. */
static long station_of(cov_state *st, const gf_host *h, const gf_record *rec)
{
    gf_value v;
    if (!h->get(rec, "station", &v) || v.type == GF_T_NIL ||
        (v.type == GF_T_STR && v.v.s.len == 0))
        return -1;
    long s = gf_group_of_value(st->stations, &v, NULL);
    return s < 0 ? -2 : s;
}

static int oom(gf_ctx *ctx)
{
    ctx->host->error(ctx, "out of memory");
    return GF_ERROR;
}

static int reject(gf_ctx *ctx, cov_state *st, const gf_record *rec,
                  const char *field, const char *why)
{
    snprintf(st->why, sizeof st->why, "field %s: %s", field, why);
    return ctx->host->reject(ctx, rec, st->why);
}

static int do_member(gf_ctx *ctx, cov_state *st, const gf_record *rec)
{
    const gf_host *h = ctx->host;
    gf_value v;
    bool party = false, mobile = false, attached = false;

    if (h->get(rec, "party", &v) && v.type != GF_T_NIL) {
        if (v.type == GF_T_BOOL)
            party = v.v.b;
        else if (v.type == GF_T_INT && (v.v.i == 0 || v.v.i == 1))
            party = v.v.i;
        else if (v.type != GF_T_STR ||
                 gf_domain_bool_parse(v.v.s.ptr, v.v.s.len, &party) != 0)
            return reject(ctx, st, rec, "party", "not a yes/no value");
    }
    if (party && h->get(rec, "rel", &v) && v.type == GF_T_STR) {
        const char *rel =
            gf_domain_enum_code(&gf_domain_rel, v.v.s.ptr, v.v.s.len);
        mobile = rel && strcmp(rel, "mobile") == 0;
    }
    if (h->get(rec, "org_id", &v))
        attached = (v.type == GF_T_STR && v.v.s.len > 0) || v.type == GF_T_INT;

    long s = station_of(st, h, rec);
    long g = gf_group_of(st->groups, h, rec, NULL);
    if (s == -2 || g < 0)
        return oom(ctx);
    cov_group *cg = gf_group_state(st->groups, (size_t)g);
    cg->workers++;
    cg->party += party;
    cg->mobile += mobile;
    cg->attached += attached;
    if (s >= 0 && pair_add(st, (uint64_t)g, (uint64_t)s) != 0)
        return oom(ctx);
    return GF_OK;
}

static int do_org(gf_ctx *ctx, cov_state *st, const gf_record *rec)
{
    long s = station_of(st, ctx->host, rec);
    if (s == -1)
        return GF_OK;
    long g = s < 0 ? -1 : gf_group_of(st->groups, ctx->host, rec, NULL);
    if (g < 0)
        return oom(ctx);
    *(uint8_t *)gf_group_state(st->stations, (size_t)s) = 1;
    if (pair_add(st, (uint64_t)g, (uint64_t)s) != 0)
        return oom(ctx);
    return GF_OK;
}

static int cov_process(gf_ctx *ctx, void *state, const gf_record *rec,
                       gf_out *out)
{
    (void)out;
    cov_state *st = state;
    gf_value v;
    if (!ctx->host->get(rec, "kind", &v) || v.type != GF_T_STR)
        return reject(ctx, st, rec, "kind", "missing");
    if (gf_str_eq(v.v.s, "member"))
        return do_member(ctx, st, rec);
    if (gf_str_eq(v.v.s, "org"))
        return do_org(ctx, st, rec);
    return GF_OK; /* projects, demands, metrics: not about coverage */
}

static void set_share(const gf_host *h, gf_out *out, const char *key,
                      double num, uint64_t den, double scale)
{
    if (den)
        h->set_float(out, key, num * scale / (double)den);
    else
        h->set_nil(out, key);
}

static int cov_flush(gf_ctx *ctx, void *state, gf_out *out)
{
    const gf_host *h = ctx->host;
    cov_state *st = state;
    size_t n = gf_group_count(st->groups);
    uint64_t *stations = calloc(n ? n : 1, sizeof *stations);
    uint64_t *covered = calloc(n ? n : 1, sizeof *covered);
    size_t *order = gf_group_sorted(st->groups);
    int rc = GF_OK;

    if (!stations || !covered || (n && !order)) {
        rc = oom(ctx);
        goto done;
    }
    for (size_t i = 0; i < st->cap; i++) {
        if (!st->pairs[i])
            continue;
        uint64_t key = st->pairs[i] - 1, g = key >> 32, s = key & 0xffffffffu;
        stations[g]++;
        covered[g] += *(uint8_t *)gf_group_state(st->stations, (size_t)s);
    }
    for (size_t k = 0; k < n && rc == GF_OK; k++) {
        size_t g = order[k];
        const cov_group *cg = gf_group_state(st->groups, g);
        h->begin(out);
        h->set_str(out, "kind", "metric", 6);
        h->set_str(out, "set", ctx->stage, strlen(ctx->stage));
        gf_group_set_fields(st->groups, g, h, out);
        h->set_int(out, "stations", (int64_t)stations[g]);
        h->set_int(out, "stations_covered", (int64_t)covered[g]);
        set_share(h, out, "coverage", (double)covered[g], stations[g], 1.0);
        h->set_int(out, "workers", (int64_t)cg->workers);
        h->set_int(out, "party_members", (int64_t)cg->party);
        h->set_int(out, "mobile_party_members", (int64_t)cg->mobile);
        set_share(h, out, "density", (double)cg->party, cg->workers, 1000.0);
        h->set_int(out, "attached", (int64_t)cg->attached);
        set_share(h, out, "attached_share", (double)cg->attached, cg->workers,
                  1.0);
        rc = h->end(out);
    }
done:
    free(stations);
    free(covered);
    free(order);
    return rc;
}

static const gf_plugin cov_plugin = {
    GF_PLUGIN_HEADER,
    .name = "aggregate_coverage",
    .kind = GF_KIND_AGGREGATE,
    .version = "1.0.0",
    .description = "stations covered by organisations, party density and "
                   "attached workers per group",
    .options = cov_options,
    .config_size = sizeof(cov_cfg),
    .check = cov_check,
    .init = cov_init,
    .process = cov_process,
    .flush = cov_flush,
    .destroy = cov_destroy,
};

GF_PLUGIN_DEFINE(cov_plugin)
