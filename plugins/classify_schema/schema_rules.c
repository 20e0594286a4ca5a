/*
 * schema_rules - classify_schema's rules across the fields of one record,
 * checked after every field was (on the values the fields will have once
 * changed): a member's relationship and origin, its form derived from the
 * platform; a demand's resolved time not before raised, its status derived
 * from resolved; an organisation that is not its own parent. Also the
 * count of fields no schema knows, reported at the end of the stream.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "classify_schema.h"

/* ---- rules across fields --------------------------------------------------
 */

/* The value field `key` will have after the changes so far: a code or a
   canonical string, or NULL when absent/removed. */
bool cs_final_str(gf_ctx *ctx, cs_state *st, const gf_record *rec,
                  const char *key, gf_str *out)
{
    gf_value v;
    for (size_t i = st->nchanges; i-- > 0;) {
        const cs_change *c = &st->changes[i];
        if (strcmp(c->key, key) != 0)
            continue;
        if (c->op == CS_SET_STR) {
            out->ptr = c->s;
            out->len = c->len;
            return true;
        }
        return false; /* unset, nil */
    }
    if (!ctx->host->get(rec, key, &v) || cs_blank(&v) || v.type != GF_T_STR)
        return false;
    out->ptr = v.v.s.ptr;
    out->len = v.v.s.len;
    return true;
}

static bool final_bool(gf_ctx *ctx, cs_state *st, const gf_record *rec,
                       const char *key)
{
    gf_value v;
    for (size_t i = st->nchanges; i-- > 0;)
        if (strcmp(st->changes[i].key, key) == 0)
            return st->changes[i].op == CS_SET_BOOL && st->changes[i].b;
    return ctx->host->get(rec, key, &v) && v.type == GF_T_BOOL && v.v.b;
}

void cs_check_member(gf_ctx *ctx, cs_state *st, const gf_record *rec)
{
    gf_str rel, origin, platform, form;
    bool has_rel = cs_final_str(ctx, st, rec, "rel", &rel);
    bool has_origin = cs_final_str(ctx, st, rec, "origin", &origin);
    bool party = final_bool(ctx, st, rec, "party");
    cs_change *c;

    if (has_rel && !party)
        cs_problem(st, "rel", false,
                   "only for party members (party is false or absent)");
    else if (has_rel && gf_str_eq(rel, "mobile") && !has_origin)
        cs_problem(st, "origin", false,
                   "missing: a mobile party member needs the origin "
                   "organisation");
    if (has_origin && !(party && has_rel && gf_str_eq(rel, "mobile")))
        cs_problem(st, "origin", false, "only for mobile party members");
    if (!cs_final_str(ctx, st, rec, "form", &form) &&
        cs_final_str(ctx, st, rec, "platform", &platform)) {
        const char *code = gf_domain_platform_form(platform.ptr, platform.len);
        if (code && (c = cs_change_add(st, "form", CS_SET_STR))) {
            c->s = code;
            c->len = strlen(code);
        }
    }
}

void cs_check_demand(gf_ctx *ctx, cs_state *st, const gf_record *rec)
{
    gf_str raised, resolved, status;
    gf_domain_date a, b;
    bool has_resolved = cs_final_str(ctx, st, rec, "resolved", &resolved);
    bool has_status;
    cs_change *c;

    if (has_resolved && cs_final_str(ctx, st, rec, "raised", &raised) &&
        gf_domain_date_parse(raised.ptr, raised.len, &a, NULL) == 0 &&
        gf_domain_date_parse(resolved.ptr, resolved.len, &b, NULL) == 0 &&
        gf_domain_date_seconds(&b) < gf_domain_date_seconds(&a)) {
        cs_problem(st, "resolved", false, "before raised");
        has_resolved = cs_final_str(ctx, st, rec, "resolved", &resolved);
    }
    has_status = cs_final_str(ctx, st, rec, "status", &status);
    if (has_status && has_resolved &&
        (gf_str_eq(status, "open") || gf_str_eq(status, "in_progress"))) {
        cs_problem(st, "status", false, "\"%.*s\" but resolved is set",
                   (int)status.len, status.ptr);
        has_status = cs_final_str(ctx, st, rec, "status", &status);
    }
    if (!has_status && (c = cs_change_add(st, "status", CS_SET_STR))) {
        c->s = has_resolved ? "resolved" : "open";
        c->len = strlen(c->s);
    }
}

void cs_check_org(gf_ctx *ctx, cs_state *st, const gf_record *rec)
{
    gf_str id, parent;
    if (cs_final_str(ctx, st, rec, "id", &id) &&
        cs_final_str(ctx, st, rec, "parent_id", &parent) &&
        id.len == parent.len && memcmp(id.ptr, parent.ptr, id.len) == 0)
        cs_problem(st, "parent_id", false,
                   "the organisation is its own parent");
}

/* Count the fields of rec that schema sc does not know. */
void cs_note_unknown(gf_ctx *ctx, cs_state *st, const gf_record *rec,
                     const gf_domain_schema *sc)
{
    gf_iter it = {0};
    gf_str key;
    gf_value v;

    while (ctx->host->next(rec, &it, &key, &v)) {
        size_t i;
        if (gf_str_eq(key, "kind") || (key.len > 0 && key.ptr[0] == '_') ||
            gf_domain_schema_field(sc, key.ptr, key.len))
            continue;
        for (i = 0; i < st->nunknown; i++)
            if (st->unknown[i].schema == sc &&
                gf_str_eq(key, st->unknown[i].name))
                break;
        if (i == st->nunknown) {
            char *name;
            if (i == CS_MAX_UNKNOWN || (name = malloc(key.len + 1)) == NULL) {
                st->unknown_other++;
                continue;
            }
            memcpy(name, key.ptr, key.len);
            name[key.len] = '\0';
            st->unknown[i] = (cs_unknown){sc, name, 0};
            st->nunknown++;
        }
        st->unknown[i].count++;
    }
}
