/*
 * ep_table - export_postgres's tables: what the run knows of each table it
 * writes (looked up in pg_attribute once per transaction; replace drops
 * it), and the DDL that makes a table fit a record: CREATE TABLE from its
 * first record, ALTER TABLE ... ADD COLUMN for a new field, the UNIQUE
 * index of upsert. Column types come from the value types (bigint, double
 * precision, boolean, text, bytea, jsonb).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export_postgres.h"

void ep_table_name(gf_pg_buf *b, const ep *p, const ep_table *t)
{
    gf_pg_ident(b, p->cfg->schema, strlen(p->cfg->schema));
    gf_pg_put(b, ".", 1);
    gf_pg_ident(b, t->name, strlen(t->name));
}

/* --- tables ------------------------------------------------------------ */

static const char *ep_type_for(gf_type t)
{
    switch (t) {
    case GF_T_INT:
        return "bigint";
    case GF_T_FLOAT:
        return "double precision";
    case GF_T_BOOL:
        return "boolean";
    case GF_T_BIN:
        return "bytea";
    case GF_T_ARRAY:
    case GF_T_MAP:
        return "jsonb";
    default:
        return "text";
    }
}

static const char *ep_typname_for(gf_type t)
{
    switch (t) {
    case GF_T_INT:
        return "int8";
    case GF_T_FLOAT:
        return "float8";
    case GF_T_BOOL:
        return "bool";
    case GF_T_BIN:
        return "bytea";
    case GF_T_ARRAY:
    case GF_T_MAP:
        return "jsonb";
    default:
        return "text";
    }
}

static bool ep_add_col(ep_table *t, const char *name, size_t len,
                       const char *type, const char *typname)
{
    if (t->ncols == t->capcols) {
        size_t cap = t->capcols ? t->capcols * 2 : 16;
        ep_col *c = realloc(t->cols, cap * sizeof *c);
        if (!c)
            return false;
        t->cols = c;
        t->capcols = cap;
    }
    ep_col *c = &t->cols[t->ncols];
    c->name = strndup(name, len);
    c->type = strdup(type);
    if (!c->name || !c->type) {
        free(c->name);
        free(c->type);
        return false;
    }
    c->len = len;
    c->cls = gf_pg_cls_of_name(typname);
    t->ncols++;
    return true;
}

long ep_find_col(const ep_table *t, const char *name, size_t len)
{
    for (size_t i = 0; i < t->ncols; i++)
        if (t->cols[i].len == len && !memcmp(t->cols[i].name, name, len))
            return (long)i;
    return -1;
}

void ep_forget_columns(ep_table *t)
{
    for (size_t i = 0; i < t->ncols; i++) {
        free(t->cols[i].name);
        free(t->cols[i].type);
    }
    t->ncols = 0;
    t->known = t->exists = t->indexed = false;
}

/* Look the table up (replace: drop it). GF_OK, EP_LOST or GF_ERROR. */
int ep_table_open(gf_ctx *ctx, ep *p, ep_table *t)
{
    p->sql.len = 0;
    if (p->mode == EP_REPLACE) {
        gf_pg_puts(&p->sql, "DROP TABLE IF EXISTS ");
        ep_table_name(&p->sql, p, t);
        int rc = ep_sql(ctx, p, NULL);
        if (rc == GF_OK)
            t->known = true;
        return rc;
    }
    PGresult *res = NULL;
    gf_pg_puts(
        &p->sql,
        "SELECT a.attname, format_type(a.atttypid, "
        "a.atttypmod), ty.typname, c.oid FROM pg_class c "
        "LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 "
        "AND NOT a.attisdropped LEFT JOIN pg_type ty ON ty.oid = "
        "a.atttypid WHERE c.oid = to_regclass(");
    gf_pg_buf name = {0};
    ep_table_name(&name, p, t);
    if (name.oom)
        return ep_nomem(ctx);
    gf_pg_literal(&p->sql, name.p);
    free(name.p);
    gf_pg_puts(&p->sql, ") ORDER BY a.attnum");
    int rc = ep_sql(ctx, p, &res);
    if (rc != GF_OK)
        return rc;
    for (int i = 0; i < PQntuples(res); i++) {
        t->exists = true;
        if (PQgetisnull(res, i, 0))
            continue;
        const char *n = PQgetvalue(res, i, 0);
        if (!ep_add_col(t, n, strlen(n), PQgetvalue(res, i, 1),
                        PQgetvalue(res, i, 2))) {
            PQclear(res);
            return ep_nomem(ctx);
        }
    }
    PQclear(res);
    t->known = true;
    return GF_OK;
}

long ep_table_index(gf_ctx *ctx, ep *p, const char *name, size_t len)
{
    for (size_t i = 0; i < p->ntables; i++)
        if (!strncmp(p->tables[i].name, name, len) &&
            p->tables[i].name[len] == '\0')
            return (long)i;
    ep_table *ts = realloc(p->tables, (p->ntables + 1) * sizeof *ts);
    if (!ts)
        return ep_nomem(ctx);
    p->tables = ts;
    ep_table *t = &ts[p->ntables];
    memset(t, 0, sizeof *t);
    if (!(t->name = strndup(name, len)))
        return ep_nomem(ctx);
    return (long)p->ntables++;
}

/* CREATE TABLE from the record, or ALTER TABLE for its new fields. */
int ep_ensure_columns(gf_ctx *ctx, ep *p, ep_table *t, const gf_record *rec)
{
    const gf_host *h = ctx->host;
    gf_iter it = {0};
    gf_str k;
    gf_value v;
    gf_pg_buf *s = &p->sql;
    int rc;
    if (!t->exists) {
        s->len = 0;
        gf_pg_puts(s, "CREATE TABLE ");
        ep_table_name(s, p, t);
        gf_pg_puts(s, " (");
        size_t n = 0;
        while (h->next(rec, &it, &k, &v)) {
            if (ep_find_col(t, k.ptr, k.len) >= 0)
                continue;
            if (n++)
                gf_pg_puts(s, ", ");
            gf_pg_ident(s, k.ptr, k.len);
            gf_pg_puts(s, " ");
            gf_pg_puts(s, ep_type_for(v.type));
            if (!ep_add_col(t, k.ptr, k.len, ep_type_for(v.type),
                            ep_typname_for(v.type)))
                return ep_nomem(ctx);
        }
        gf_pg_puts(s, ")");
        if ((rc = ep_sql(ctx, p, NULL)) != GF_OK)
            return rc;
        t->exists = true;
    } else {
        while (h->next(rec, &it, &k, &v)) {
            if (ep_find_col(t, k.ptr, k.len) >= 0)
                continue;
            s->len = 0;
            gf_pg_puts(s, "ALTER TABLE ");
            ep_table_name(s, p, t);
            gf_pg_puts(s, " ADD COLUMN ");
            gf_pg_ident(s, k.ptr, k.len);
            gf_pg_puts(s, " ");
            gf_pg_puts(s, ep_type_for(v.type));
            if ((rc = ep_sql(ctx, p, NULL)) != GF_OK)
                return rc;
            if (!ep_add_col(t, k.ptr, k.len, ep_type_for(v.type),
                            ep_typname_for(v.type)))
                return ep_nomem(ctx);
        }
    }
    const gf_strlist *key = p->cfg->key;
    if (t->indexed || !key || !key->n)
        return GF_OK;
    for (size_t i = 0; i < key->n; i++)
        if (ep_find_col(t, key->items[i], strlen(key->items[i])) < 0)
            return GF_OK; /* not yet: when the key columns exist */
    s->len = 0;
    gf_pg_puts(s, "CREATE UNIQUE INDEX IF NOT EXISTS ");
    char iname[200];
    snprintf(iname, sizeof iname, "%.50s_gigflow_key", t->name);
    gf_pg_ident(s, iname, strlen(iname));
    gf_pg_puts(s, " ON ");
    ep_table_name(s, p, t);
    gf_pg_puts(s, " (");
    for (size_t i = 0; i < key->n; i++) {
        if (i)
            gf_pg_puts(s, ", ");
        gf_pg_ident(s, key->items[i], strlen(key->items[i]));
    }
    gf_pg_puts(s, ")");
    if ((rc = ep_sql(ctx, p, NULL)) != GF_OK)
        return rc;
    t->indexed = true;
    return GF_OK;
}
