/*
 * classify_schema - check every record against its kind's schema
 * (docs/records.md, the tables in gf_domain) and normalise it.
 *
 * Normalising: Chinese labels become codes (外卖 -> food_delivery), numeric
 * text becomes numbers where the schema says int/float, 是/否 and the like
 * become bools, "a;b" text becomes a list, dates take the canonical form
 * "YYYY-MM-DD[ HH:MM:SS]", phones and ID numbers lose their separators,
 * surrounding space goes and empty text becomes nil. Two fields are derived
 * when absent: member.form from the platform, demand.status from resolved.
 *
 * A record that breaks its schema goes to the dead letters with every
 * problem, "field F: reason", joined by "; ". With `strict: false` only
 * problems of required fields (and of the kind) reject; a bad optional
 * field is removed and logged instead. Fields the schema does not know are
 * kept untouched and reported, with counts, at the end of the stream.
 * Records of kind metric, and of kinds not listed in `kinds`, pass as they
 * are. Personal data (phone, ID number) never appears in a reason.
 *
 * This file holds the options and the callbacks; schema_field.c checks one
 * field, schema_rules.c the rules across fields.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gigflow/plugin.h>

#include "classify_schema.h"

static const gf_option cs_options[] = {
    {"kinds", GF_OPT_LIST, NULL, false, offsetof(cs_config, kinds),
     "kinds to check (org, member, project, demand); others pass untouched. "
     "Default: all four"},
    {"strict", GF_OPT_BOOL, "true", false, offsetof(cs_config, strict),
     "true: any problem rejects the record; false: a bad optional field is "
     "removed and logged, only required fields reject"},
    {0},
};

/* ---- callbacks ------------------------------------------------------------
 */

static int cs_check(gf_ctx *ctx, const void *config)
{
    const cs_config *cfg = config;
    int rc = GF_OK;

    for (size_t i = 0; cfg->kinds && i < cfg->kinds->n; i++) {
        const char *k = cfg->kinds->items[i];
        if (gf_domain_schema_find(k, strlen(k)) == NULL) {
            ctx->host->option_error(ctx, "kinds",
                                    "unknown kind \"%s\": expected org, "
                                    "member, project or demand",
                                    k);
            rc = GF_ERROR;
        }
    }
    return rc;
}

static int cs_init(gf_ctx *ctx, const void *config, void **state)
{
    const cs_config *cfg = config;
    cs_state *st;

    if (cs_check(ctx, config) != GF_OK)
        return GF_ERROR;
    st = calloc(1, sizeof *st);
    if (st == NULL) {
        ctx->host->error(ctx, "out of memory");
        return GF_ERROR;
    }
    st->strict = cfg->strict;
    for (size_t k = 0; k < gf_domain_nschemas; k++)
        st->check[k] = cfg->kinds == NULL || cfg->kinds->n == 0;
    for (size_t i = 0; cfg->kinds && i < cfg->kinds->n; i++) {
        const char *k = cfg->kinds->items[i];
        st->check[gf_domain_schema_find(k, strlen(k)) - gf_domain_schemas] =
            true;
    }
    *state = st;
    return GF_OK;
}

static int apply(gf_ctx *ctx, cs_state *st, const gf_record *rec, gf_out *out)
{
    const gf_host *h = ctx->host;

    if (st->nchanges == 0)
        return h->emit(out, rec);
    h->begin_copy(out, rec);
    for (size_t i = 0; i < st->nchanges; i++) {
        const cs_change *c = &st->changes[i];
        switch (c->op) {
        case CS_SET_STR:
            h->set_str(out, c->key, c->s, c->len);
            break;
        case CS_SET_INT:
            h->set_int(out, c->key, c->i);
            break;
        case CS_SET_FLOAT:
            h->set_float(out, c->key, c->f);
            break;
        case CS_SET_BOOL:
            h->set_bool(out, c->key, c->b);
            break;
        case CS_SET_NIL:
            h->set_nil(out, c->key);
            break;
        case CS_SET_LIST:
            h->set_raw(out, c->key, st->list + c->len, c->list_len);
            break;
        case CS_UNSET:
            h->unset(out, c->key);
            break;
        }
    }
    return h->end(out);
}

static int cs_process(gf_ctx *ctx, void *state, const gf_record *rec,
                      gf_out *out)
{
    cs_state *st = state;
    const gf_host *h = ctx->host;
    const gf_domain_schema *sc;
    gf_value kind, v;
    char q[128];

    st->nchanges = st->rlen = st->wlen = st->list_len = 0;
    st->reason[0] = st->warn[0] = '\0';
    if (!h->get(rec, "kind", &kind) || cs_blank(&kind))
        return h->reject(ctx, rec, "field kind: missing");
    if (kind.type != GF_T_STR)
        return h->reject(ctx, rec, "field kind: expected text");
    if (gf_str_eq(kind.v.s, "metric"))
        return h->emit(out, rec);
    sc = gf_domain_schema_find(kind.v.s.ptr, kind.v.s.len);
    if (sc == NULL) {
        char reason[192];
        cs_quote(q, sizeof q, kind.v.s.ptr, kind.v.s.len);
        snprintf(reason, sizeof reason,
                 "field kind: unknown kind %s (org, member, project, demand, "
                 "metric)",
                 q);
        return h->reject(ctx, rec, reason);
    }
    if (!st->check[sc - gf_domain_schemas])
        return h->emit(out, rec);

    for (size_t i = 0; i < sc->n; i++) {
        const gf_domain_field *f = &sc->fields[i];
        bool present = h->get(rec, f->name, &v);
        if (!present || cs_blank(&v)) {
            if (f->required)
                cs_problem(st, f->name, true, "missing");
            else if (present && v.type != GF_T_NIL)
                cs_change_add(st, f->name, CS_SET_NIL);
            continue;
        }
        cs_check_field(ctx, st, rec, f, &v);
    }
    if (sc == &gf_domain_schemas[0])
        cs_check_org(ctx, st, rec);
    else if (sc == &gf_domain_schemas[1])
        cs_check_member(ctx, st, rec);
    else if (sc == &gf_domain_schemas[3])
        cs_check_demand(ctx, st, rec);
    cs_note_unknown(ctx, st, rec, sc);

    if (st->rlen > 0)
        return h->reject(ctx, rec, st->reason);
    if (st->wlen > 0) {
        if (st->warned < CS_MAX_WARN_LOGS) {
            gf_str id = {"?", 1};
            cs_final_str(ctx, st, rec, "id", &id);
            h->log(ctx, GF_LOG_WARN, "%s %.*s: %s (removed; strict: false)",
                   sc->kind, (int)(id.len > 64 ? 64 : id.len), id.ptr,
                   st->warn);
        }
        st->warned++;
    }
    return apply(ctx, st, rec, out);
}

static int cs_flush(gf_ctx *ctx, void *state, gf_out *out)
{
    cs_state *st = state;
    (void)out;

    for (size_t i = 0; i < st->nunknown; i++) {
        if (st->unknown[i].count == 0)
            continue;
        ctx->host->log(ctx, GF_LOG_WARN,
                       "%s: field \"%s\" is not in the schema, kept as is "
                       "(%llu record%s)",
                       st->unknown[i].schema->kind, st->unknown[i].name,
                       (unsigned long long)st->unknown[i].count,
                       st->unknown[i].count == 1 ? "" : "s");
        st->unknown[i].count = 0;
    }
    if (st->unknown_other > 0)
        ctx->host->log(ctx, GF_LOG_WARN,
                       "%llu more fields not in the schema, kept as is",
                       (unsigned long long)st->unknown_other);
    if (st->warned > CS_MAX_WARN_LOGS)
        ctx->host->log(ctx, GF_LOG_WARN,
                       "%llu records in all had bad optional fields removed "
                       "(strict: false)",
                       (unsigned long long)st->warned);
    st->unknown_other = 0;
    st->warned = 0;
    return GF_OK;
}

static void cs_destroy(gf_ctx *ctx, void *state)
{
    cs_state *st = state;
    (void)ctx;
    if (st == NULL)
        return;
    for (size_t i = 0; i < st->nunknown; i++)
        free(st->unknown[i].name);
    free(st->list);
    free(st);
}

static const gf_plugin cs_plugin = {
    GF_PLUGIN_HEADER,
    .name = "classify_schema",
    .kind = GF_KIND_CLASSIFY,
    .version = "1.0.0",
    .description = "check records against their kind's schema; labels to "
                   "codes, text to numbers, bools, lists and dates",
    .options = cs_options,
    .config_size = sizeof(cs_config),
    .check = cs_check,
    .init = cs_init,
    .process = cs_process,
    .flush = cs_flush,
    .destroy = cs_destroy,
};

GF_PLUGIN_DEFINE(cs_plugin)
