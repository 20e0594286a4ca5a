/*
 * classify_domain - derives the domain's classifications from canonical
 * records (docs/records.md), adding fields to a byte copy of each record:
 *
 *   member   form (from platform, when absent), membership (local_party,
 *            mobile_party, non_party), cohort (youth when age <=
 *            youth_max_age, else adult; absent without an age), attached
 *            (the record has a non-empty org_id: without a table of the
 *            organisations a stateless stage cannot tell whether that id
 *            exists; aggregate stages that read orgs can)
 *   org      level in the five-level feedback chain, from type:
 *            industry_committee, mobile_committee -> 5; enterprise, union,
 *            youth_center, women_org (organisations at the enterprise
 *            nodes) -> 4; branch, joint_branch -> 3
 *   project  category as its code (Chinese labels accepted), per_capita =
 *            budget / beneficiaries (absent when beneficiaries is 0 or
 *            either is absent)
 *   demand   resolution_hours (resolved - raised; absent when unresolved),
 *            overdue (resolved after the limit of its level, or unresolved
 *            and older than it "now"), next_level (level + 1, absent at 5)
 *
 * "Now" is the option `as_of` (a date, taken at 00:00, or a date and time),
 * or else the run's start from the host, shifted by `utc_offset_hours` into
 * the records' local time; the plugin never reads the clock itself.
 * Records of other kinds (metric, ...) pass through as byte copies. A
 * record with a bad value goes to the dead letters with "field: reason".
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gigflow/plugin.h>

#include "gf_domain.h"

typedef struct cd_cfg {
    int64_t youth_max_age;
    const gf_strmap *overdue_hours;
    const char *as_of;
    double utc_offset_hours;
} cd_cfg;

static const gf_option cd_options[] = {
    {"youth_max_age", GF_OPT_INT, "35", false, offsetof(cd_cfg, youth_max_age),
     "members of this age or younger are in the youth cohort"},
    {"overdue_hours", GF_OPT_MAP, NULL, false, offsetof(cd_cfg, overdue_hours),
     "demand level -> hours before it is overdue (defaults 1:24 2:48 3:72 "
     "4:120 5:168; levels not named keep theirs)"},
    {"as_of", GF_OPT_STRING, NULL, false, offsetof(cd_cfg, as_of),
     "date (and time) that counts as now for open demands; default: the "
     "run's start"},
    {"utc_offset_hours", GF_OPT_FLOAT, "8", false,
     offsetof(cd_cfg, utc_offset_hours),
     "time zone of the records' dates, to read the run's start in (China: 8)"},
    {0},
};

typedef struct cd_state {
    int64_t youth_max_age;
    double limit_h[6]; /* by level 1..5 */
    int64_t now;       /* seconds, records' local time */
    char why[160];
} cd_state;

/*
 * The fields a kind needs, read in one pass over the record (a record of
 * twenty fields would otherwise be scanned once per field looked up).
 */
#define MAXF 6
typedef struct fcache {
    const char *const *names;
    size_t n;
    gf_value v[MAXF];
} fcache;

static void scan(const gf_host *h, const gf_record *rec, fcache *fc,
                 const char *const *names, size_t n)
{
    unsigned found = 0;
    gf_iter it = {0};
    gf_str k;
    gf_value v;
    fc->names = names;
    fc->n = n;
    for (size_t i = 0; i < n; i++)
        fc->v[i].type = GF_T_NIL;
    while (found != (1u << n) - 1 && h->next(rec, &it, &k, &v)) {
        for (size_t i = 0; i < n; i++) {
            if (!(found & (1u << i)) && gf_str_eq(k, names[i])) {
                fc->v[i] = v; /* the first of duplicate keys, as get() */
                found |= 1u << i;
                break;
            }
        }
    }
}

/* The cached value of `key` (one of the names scanned). */
static const gf_value *cached(const fcache *fc, const char *key)
{
    for (size_t i = 0; i < fc->n; i++)
        if (strcmp(fc->names[i], key) == 0)
            return &fc->v[i];
    return NULL; /* not reached: every key looked up is scanned */
}

/* Read an integer field that may arrive as an int, an integral float or
   numeric text. 1: ok, 0: absent/nil, -1: not an integer. */
static int get_int(const fcache *fc, const char *key, int64_t *out)
{
    gf_value v = *cached(fc, key);
    if (v.type == GF_T_NIL)
        return 0;
    if (v.type == GF_T_INT) {
        *out = v.v.i;
        return 1;
    }
    if (v.type == GF_T_FLOAT && v.v.f == (double)(int64_t)v.v.f) {
        *out = (int64_t)v.v.f;
        return 1;
    }
    if (v.type == GF_T_STR &&
        gf_domain_int_parse(v.v.s.ptr, v.v.s.len, out) == 0)
        return 1;
    return -1;
}

static int get_num(const fcache *fc, const char *key, double *out)
{
    gf_value v = *cached(fc, key);
    if (v.type == GF_T_NIL)
        return 0;
    if (v.type == GF_T_INT) {
        *out = (double)v.v.i;
        return 1;
    }
    if (v.type == GF_T_FLOAT) {
        *out = v.v.f;
        return 1;
    }
    if (v.type == GF_T_STR &&
        gf_domain_float_parse(v.v.s.ptr, v.v.s.len, out) == 0)
        return 1;
    return -1;
}

/* A string field: true with *s when present as non-empty text. */
static bool get_text(const fcache *fc, const char *key, gf_str *s)
{
    const gf_value v = *cached(fc, key);
    if (v.type != GF_T_STR || v.v.s.len == 0)
        return false;
    *s = v.v.s;
    return true;
}

/* Reject with "field: reason ('value')". */
static int bad(gf_ctx *ctx, cd_state *st, const gf_record *rec,
               const char *field, const char *reason)
{
    gf_value v;
    const gf_host *h = ctx->host;
    if (h->get(rec, field, &v) && v.type == GF_T_STR) {
        int n = v.v.s.len > 40 ? 40 : (int)v.v.s.len;
        while (n > 0 && (size_t)n < v.v.s.len && (v.v.s.ptr[n] & 0xc0) == 0x80)
            n--; /* cut at a character boundary */
        snprintf(st->why, sizeof st->why, "field %s: %s (\"%.*s\")", field,
                 reason, n, v.v.s.ptr);
    } else if (h->get(rec, field, &v) && v.type == GF_T_INT) {
        snprintf(st->why, sizeof st->why, "field %s: %s (%" PRId64 ")", field,
                 reason, v.v.i);
    } else {
        snprintf(st->why, sizeof st->why, "field %s: %s", field, reason);
    }
    return h->reject(ctx, rec, st->why);
}

static int do_member(gf_ctx *ctx, cd_state *st, const gf_record *rec,
                     gf_out *out)
{
    static const char *const names[] = {"party", "rel",      "age",
                                        "form",  "platform", "org_id"};
    const gf_host *h = ctx->host;
    fcache fc;
    gf_value v;
    gf_str s;
    bool party = false;

    scan(h, rec, &fc, names, 6);
    v = *cached(&fc, "party");
    if (v.type != GF_T_NIL) {
        if (v.type == GF_T_BOOL)
            party = v.v.b;
        else if (v.type == GF_T_INT && (v.v.i == 0 || v.v.i == 1))
            party = v.v.i == 1;
        else if (v.type != GF_T_STR ||
                 gf_domain_bool_parse(v.v.s.ptr, v.v.s.len, &party) != 0)
            return bad(ctx, st, rec, "party", "not a yes/no value");
    }
    const char *membership = "non_party";
    if (party) {
        membership = "local_party";
        if (get_text(&fc, "rel", &s)) {
            const char *rel = gf_domain_enum_code(&gf_domain_rel, s.ptr, s.len);
            if (!rel)
                return bad(ctx, st, rec, "rel", "not local or mobile");
            if (strcmp(rel, "mobile") == 0)
                membership = "mobile_party";
        } else if (cached(&fc, "rel")->type != GF_T_NIL &&
                   cached(&fc, "rel")->type != GF_T_STR) {
            return bad(ctx, st, rec, "rel", "not local or mobile");
        }
    }
    int64_t age = 0;
    int has_age = get_int(&fc, "age", &age);
    if (has_age < 0)
        return bad(ctx, st, rec, "age", "not a whole number");
    if (has_age && (age < 0 || age > 150))
        return bad(ctx, st, rec, "age", "out of range 0..150");

    const char *form = NULL;
    if (!get_text(&fc, "form", &s) && get_text(&fc, "platform", &s))
        form = gf_domain_platform_form(s.ptr, s.len);

    h->begin_copy(out, rec);
    if (form)
        h->set_str(out, "form", form, strlen(form));
    h->set_str(out, "membership", membership, strlen(membership));
    if (has_age) {
        const char *cohort = age <= st->youth_max_age ? "youth" : "adult";
        h->set_str(out, "cohort", cohort, strlen(cohort));
    }
    bool attached = get_text(&fc, "org_id", &s);
    if (!attached && cached(&fc, "org_id")->type == GF_T_INT)
        attached = true;
    h->set_bool(out, "attached", attached);
    return h->end(out);
}

static int do_org(gf_ctx *ctx, cd_state *st, const gf_record *rec, gf_out *out)
{
    static const char *const names[] = {"type"};
    const gf_host *h = ctx->host;
    fcache fc;
    gf_str s;
    scan(h, rec, &fc, names, 1);
    const char *type = NULL;
    if (get_text(&fc, "type", &s))
        type = gf_domain_enum_code(&gf_domain_org_type, s.ptr, s.len);
    else if (fc.v[0].type == GF_T_NIL || fc.v[0].type == GF_T_STR)
        return bad(ctx, st, rec, "type", "missing");
    if (!type)
        return bad(ctx, st, rec, "type", "unknown organisation type");
    int level = 4;
    if (!strcmp(type, "industry_committee") ||
        !strcmp(type, "mobile_committee"))
        level = 5;
    else if (!strcmp(type, "branch") || !strcmp(type, "joint_branch"))
        level = 3;
    h->begin_copy(out, rec);
    h->set_int(out, "level", level);
    return h->end(out);
}

static int do_project(gf_ctx *ctx, cd_state *st, const gf_record *rec,
                      gf_out *out)
{
    static const char *const names[] = {"category", "budget", "beneficiaries"};
    const gf_host *h = ctx->host;
    fcache fc;
    gf_str s;
    const char *cat = NULL;
    scan(h, rec, &fc, names, 3);
    if (get_text(&fc, "category", &s))
        cat = gf_domain_enum_code(&gf_domain_project_category, s.ptr, s.len);
    if (!cat && fc.v[0].type != GF_T_NIL &&
        !(fc.v[0].type == GF_T_STR && fc.v[0].v.s.len == 0))
        return bad(ctx, st, rec, "category", "unknown project category");
    double budget = 0, ben = 0;
    int hb = get_num(&fc, "budget", &budget);
    if (hb < 0 || (hb && budget < 0))
        return bad(ctx, st, rec, "budget", "not a number of yuan >= 0");
    int hn = get_num(&fc, "beneficiaries", &ben);
    if (hn < 0 || (hn && ben < 0))
        return bad(ctx, st, rec, "beneficiaries", "not a count >= 0");
    h->begin_copy(out, rec);
    if (cat)
        h->set_str(out, "category", cat, strlen(cat));
    if (hb && hn && ben > 0)
        h->set_float(out, "per_capita", budget / ben);
    return h->end(out);
}

/* 1: parsed into *secs, 0: absent, -1: rejected (reason in st->why). */
static int get_time(const fcache *fc, const char *key, int64_t *secs,
                    const char **why)
{
    gf_value v = *cached(fc, key);
    gf_domain_date d;
    if (v.type == GF_T_NIL || (v.type == GF_T_STR && v.v.s.len == 0))
        return 0;
    if (v.type != GF_T_STR) {
        *why = "not a date (YYYY-MM-DD expected)";
        return -1;
    }
    if (gf_domain_date_parse(v.v.s.ptr, v.v.s.len, &d, why) != 0)
        return -1;
    *secs = gf_domain_date_seconds(&d);
    return 1;
}

static int do_demand(gf_ctx *ctx, cd_state *st, const gf_record *rec,
                     gf_out *out)
{
    static const char *const names[] = {"level", "raised", "resolved"};
    const gf_host *h = ctx->host;
    fcache fc;
    gf_value v;
    int64_t level = 0, raised = 0, resolved = 0;
    const char *why = NULL;

    scan(h, rec, &fc, names, 3);
    int hl = get_int(&fc, "level", &level);
    v = *cached(&fc, "level");
    if (hl <= 0 && v.type == GF_T_STR) {
        /* a label of the chain: 职工, 党员, 支部 ... */
        const char *code =
            gf_domain_enum_code(&gf_domain_demand_level, v.v.s.ptr, v.v.s.len);
        if (code) {
            level = code[0] - '0';
            hl = 1;
        }
    }
    if (hl == 0)
        return bad(ctx, st, rec, "level", "missing");
    if (hl < 0)
        return bad(ctx, st, rec, "level", "not a level 1..5");
    if (level < 1 || level > 5)
        return bad(ctx, st, rec, "level", "out of range 1..5");
    int hr = get_time(&fc, "raised", &raised, &why);
    if (hr == 0)
        return bad(ctx, st, rec, "raised", "missing");
    if (hr < 0)
        return bad(ctx, st, rec, "raised", why);
    int hs = get_time(&fc, "resolved", &resolved, &why);
    if (hs < 0)
        return bad(ctx, st, rec, "resolved", why);
    if (hs && resolved < raised)
        return bad(ctx, st, rec, "resolved", "earlier than raised");

    double limit = st->limit_h[level] * 3600.0;
    h->begin_copy(out, rec);
    if (hs) {
        double secs = (double)(resolved - raised);
        h->set_float(out, "resolution_hours", secs / 3600.0);
        h->set_bool(out, "overdue", secs > limit);
    } else {
        h->set_bool(out, "overdue", (double)(st->now - raised) > limit);
    }
    if (level < 5)
        h->set_int(out, "next_level", level + 1);
    return h->end(out);
}

static int cd_process(gf_ctx *ctx, void *state, const gf_record *rec,
                      gf_out *out)
{
    cd_state *st = state;
    gf_value v;
    if (!ctx->host->get(rec, "kind", &v) || v.type != GF_T_STR)
        return bad(ctx, st, rec, "kind",
                   "missing (org, member, project or demand)");
    gf_str k = v.v.s;
    if (gf_str_eq(k, "member"))
        return do_member(ctx, st, rec, out);
    if (gf_str_eq(k, "org"))
        return do_org(ctx, st, rec, out);
    if (gf_str_eq(k, "project"))
        return do_project(ctx, st, rec, out);
    if (gf_str_eq(k, "demand"))
        return do_demand(ctx, st, rec, out);
    return ctx->host->emit(out, rec); /* metric and others: unchanged */
}

/* Fill limits (hours by level) from the defaults and the option. */
static int read_limits(gf_ctx *ctx, const cd_cfg *c, double *limit_h)
{
    static const double def[6] = {0, 24, 48, 72, 120, 168};
    int rc = GF_OK;
    memcpy(limit_h, def, sizeof def);
    for (size_t i = 0; c->overdue_hours && i < c->overdue_hours->n; i++) {
        const char *k = c->overdue_hours->keys[i];
        const char *val = c->overdue_hours->values[i];
        int64_t lv;
        double hours;
        if (gf_domain_int_parse(k, strlen(k), &lv) != 0 || lv < 1 || lv > 5) {
            ctx->host->option_error(ctx, "overdue_hours",
                                    "key '%s' is not a "
                                    "demand level 1..5",
                                    k);
            rc = GF_ERROR;
            continue;
        }
        if (gf_domain_float_parse(val, strlen(val), &hours) != 0 ||
            hours <= 0) {
            ctx->host->option_error(ctx, "overdue_hours",
                                    "level %s: '%s' is "
                                    "not a number of hours above 0",
                                    k, val);
            rc = GF_ERROR;
            continue;
        }
        limit_h[lv] = hours;
    }
    return rc;
}

static int read_now(gf_ctx *ctx, const cd_cfg *c, int64_t *now)
{
    const char *why = NULL;
    gf_domain_date d;
    if (c->as_of) {
        if (gf_domain_date_parse(c->as_of, strlen(c->as_of), &d, &why) != 0) {
            ctx->host->option_error(ctx, "as_of", "'%s': %s", c->as_of, why);
            return GF_ERROR;
        }
        *now = gf_domain_date_seconds(&d);
        return GF_OK;
    }
    *now =
        ctx->host->run_started(ctx) + (int64_t)(c->utc_offset_hours * 3600.0);
    return GF_OK;
}

static int cd_check(gf_ctx *ctx, const void *config)
{
    const cd_cfg *c = config;
    double limit_h[6];
    int64_t now;
    int rc = read_limits(ctx, c, limit_h);
    if (c->as_of && read_now(ctx, c, &now) != GF_OK)
        rc = GF_ERROR;
    if (c->youth_max_age < 0 || c->youth_max_age > 150) {
        ctx->host->option_error(ctx, "youth_max_age",
                                "%" PRId64 " is not an "
                                "age 0..150",
                                c->youth_max_age);
        rc = GF_ERROR;
    }
    if (!(c->utc_offset_hours >= -14 && c->utc_offset_hours <= 14)) {
        ctx->host->option_error(ctx, "utc_offset_hours",
                                "%g is not a time "
                                "zone offset -14..14",
                                c->utc_offset_hours);
        rc = GF_ERROR;
    }
    return rc;
}

static int cd_init(gf_ctx *ctx, const void *config, void **state)
{
    const cd_cfg *c = config;
    if (cd_check(ctx, config) != GF_OK)
        return GF_ERROR;
    cd_state *st = calloc(1, sizeof *st);
    if (!st) {
        ctx->host->error(ctx, "out of memory");
        return GF_ERROR;
    }
    st->youth_max_age = c->youth_max_age;
    read_limits(ctx, c, st->limit_h);
    read_now(ctx, c, &st->now);
    *state = st;
    return GF_OK;
}

static void cd_destroy(gf_ctx *ctx, void *state)
{
    (void)ctx;
    free(state);
}

static const gf_plugin cd_plugin = {
    GF_PLUGIN_HEADER,
    .name = "classify_domain",
    .kind = GF_KIND_CLASSIFY,
    .version = "1.0.0",
    .description = "member form/membership/cohort/attached, org level, "
                   "project per_capita, demand resolution and overdue",
    .options = cd_options,
    .config_size = sizeof(cd_cfg),
    .check = cd_check,
    .init = cd_init,
    .process = cd_process,
    .destroy = cd_destroy,
};

GF_PLUGIN_DEFINE(cd_plugin)
