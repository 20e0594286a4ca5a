/*
 * es_table - export_sqlite's tables: what the run knows of each table it
 * writes (its columns and their affinity, read with PRAGMA table_info once;
 * replace drops the table first), and the DDL that makes a table fit a
 * record: CREATE TABLE from its first record (INTEGER, REAL, TEXT, BLOB,
 * BOOLEAN for bools, JSON TEXT for arrays and maps, no type for nil), the
 * UNIQUE index over `key`.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "export_sqlite.h"

/* Affinity of a declared type, by SQLite's rules (datatype3.html 3.1). */
static es_cls es_affinity(const char *decl)
{
    if (!decl || !decl[0] || strcasestr(decl, "BLOB"))
        return strcasestr(decl ? decl : "", "INT") ? ES_NUM : ES_ANY;
    if (strcasestr(decl, "INT"))
        return ES_NUM;
    if (strcasestr(decl, "CHAR") || strcasestr(decl, "CLOB") ||
        strcasestr(decl, "TEXT"))
        return ES_TEXT;
    return ES_NUM; /* REAL, FLOA, DOUB, and NUMERIC for the rest */
}

const char *es_decl_for(gf_type t)
{
    switch (t) {
    case GF_T_INT:
        return "INTEGER";
    case GF_T_FLOAT:
        return "REAL";
    case GF_T_BOOL:
        return "BOOLEAN";
    case GF_T_STR:
        return "TEXT";
    case GF_T_BIN:
        return "BLOB";
    case GF_T_ARRAY:
    case GF_T_MAP:
        return "JSON TEXT";
    default:
        return "";
    }
}

const char *es_value_name(gf_type t)
{
    switch (t) {
    case GF_T_INT:
        return "an integer";
    case GF_T_FLOAT:
        return "a real";
    case GF_T_BOOL:
        return "a boolean";
    case GF_T_STR:
        return "a TEXT value";
    case GF_T_BIN:
        return "a BLOB value";
    case GF_T_ARRAY:
        return "an array (JSON text)";
    case GF_T_MAP:
        return "a map (JSON text)";
    default:
        return "nil";
    }
}

es_col *es_add_col(es_table *t, const char *name, size_t len, const char *decl)
{
    if (t->ncols == t->capcols) {
        size_t cap = t->capcols ? t->capcols * 2 : 16;
        es_col *c = realloc(t->cols, cap * sizeof *c);
        if (!c)
            return NULL;
        t->cols = c;
        t->capcols = cap;
    }
    es_col *c = &t->cols[t->ncols];
    c->name = strndup(name, len);
    c->decl = strdup(decl ? decl : "");
    if (!c->name || !c->decl) {
        free(c->name);
        free(c->decl);
        return NULL;
    }
    c->cls = es_affinity(decl);
    t->ncols++;
    return c;
}

long es_find_col(const es_table *t, const char *name, size_t len)
{
    for (size_t i = 0; i < t->ncols; i++)
        if (!sqlite3_strnicmp(t->cols[i].name, name, (int)len) &&
            t->cols[i].name[len] == '\0')
            return (long)i;
    return -1;
}

/* Read the columns of an existing table; t->exists tells whether it is. */
int es_load_columns(gf_ctx *ctx, es *e, es_table *t)
{
    char *sql = sqlite3_mprintf("PRAGMA table_info(\"%w\")", t->name);
    sqlite3_stmt *st = NULL;
    if (!sql)
        return es_nomem(ctx);
    int rc = sqlite3_prepare_v2(e->db, sql, -1, &st, NULL);
    sqlite3_free(sql);
    if (rc != SQLITE_OK) {
        ctx->host->error(ctx, "%s: reading table %s: %s", e->cfg->path, t->name,
                         sqlite3_errmsg(e->db));
        return GF_ERROR;
    }
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(st, 1);
        const char *decl = (const char *)sqlite3_column_text(st, 2);
        if (name && !es_add_col(t, name, strlen(name), decl)) {
            sqlite3_finalize(st);
            return es_nomem(ctx);
        }
        t->exists = true;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        ctx->host->error(ctx, "%s: reading table %s: %s", e->cfg->path, t->name,
                         sqlite3_errmsg(e->db));
        return GF_ERROR;
    }
    return GF_OK;
}

/* CREATE TABLE from the record's fields, and the key's UNIQUE index. */
int es_create(gf_ctx *ctx, es *e, es_table *t, const gf_record *rec)
{
    const gf_host *h = ctx->host;
    sqlite3_str *s = sqlite3_str_new(e->db);
    sqlite3_str_appendf(s, "CREATE TABLE \"%w\" (", t->name);
    gf_iter it = {0};
    gf_str k;
    gf_value v;
    size_t n = 0;
    while (h->next(rec, &it, &k, &v)) {
        if (es_find_col(t, k.ptr, k.len) >= 0)
            continue; /* a repeated field name */
        const char *decl = es_decl_for(v.type);
        sqlite3_str_appendf(s, "%s\"%.*w\"%s%s", n++ ? ", " : "", (int)k.len,
                            k.ptr, decl[0] ? " " : "", decl);
        if (!es_add_col(t, k.ptr, k.len, decl)) {
            sqlite3_free(sqlite3_str_finish(s));
            return es_nomem(ctx);
        }
    }
    sqlite3_str_appendall(s, ")");
    char *sql = sqlite3_str_finish(s);
    if (!sql)
        return es_nomem(ctx);
    int rc = es_exec(ctx, e, sql);
    sqlite3_free(sql);
    if (rc < 0)
        return rc;
    t->exists = true;
    return GF_OK;
}

/* The UNIQUE index over `key` (every key field must be a column by now). */
int es_index(gf_ctx *ctx, es *e, es_table *t)
{
    const gf_strlist *key = e->cfg->key;
    if (!key || !key->n)
        return GF_OK;
    sqlite3_str *s = sqlite3_str_new(e->db);
    sqlite3_str_appendf(s,
                        "CREATE UNIQUE INDEX IF NOT EXISTS "
                        "\"%w_gigflow_key\" ON \"%w\" (",
                        t->name, t->name);
    for (size_t i = 0; i < key->n; i++)
        sqlite3_str_appendf(s, "%s\"%w\"", i ? ", " : "", key->items[i]);
    sqlite3_str_appendall(s, ")");
    char *sql = sqlite3_str_finish(s);
    if (!sql)
        return es_nomem(ctx);
    int rc = es_exec(ctx, e, sql);
    sqlite3_free(sql);
    return rc;
}
