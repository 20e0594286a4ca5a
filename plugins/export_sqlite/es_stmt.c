/*
 * es_stmt - export_sqlite's INSERT statements, prepared once per table and
 * column set (the record's field names in order, hashed) and cached, so a
 * run of records with the same fields binds and steps one statement. A
 * new column set first makes the table fit: CREATE TABLE, or ALTER TABLE
 * ... ADD COLUMN for the fields it lacks; upsert adds ON CONFLICT(key) DO
 * UPDATE for the fields the record has.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export_sqlite.h"

void es_stmt_free(es_stmt *s)
{
    sqlite3_finalize(s->st);
    free(s->key);
    free(s->col);
}

/* Whether the table now has every key column. */
static bool es_has_key_columns(const es *e, const es_table *t)
{
    const gf_strlist *key = e->cfg->key;
    for (size_t i = 0; key && i < key->n; i++)
        if (es_find_col(t, key->items[i], strlen(key->items[i])) < 0)
            return false;
    return key && key->n;
}

static bool es_is_key(const es *e, const char *name, size_t len)
{
    const gf_strlist *key = e->cfg->key;
    for (size_t i = 0; key && i < key->n; i++)
        if (!sqlite3_strnicmp(key->items[i], name, (int)len) &&
            key->items[i][len] == '\0')
            return true;
    return false;
}

/*
 * The INSERT for this record's column set, prepared on first use: creates
 * the table or adds the columns it lacks first. Returns NULL with
 * *rc = GF_OK when the record is to be rejected (reason in why), or with
 * *rc < 0 on a failure that stops the run.
 */
es_stmt *es_stmt_new(gf_ctx *ctx, es *e, es_table *t, const gf_record *rec,
                     size_t nf, size_t key_len, uint64_t hash, char *why,
                     size_t whylen, int *rc)
{
    const gf_host *h = ctx->host;
    gf_iter it = {0};
    gf_str k;
    gf_value v;
    *rc = GF_OK;
    if (e->mode == ES_UPSERT)
        for (size_t i = 0; i < e->cfg->key->n; i++)
            if (!h->get(rec, e->cfg->key->items[i], &v) || v.type == GF_T_NIL) {
                snprintf(why, whylen,
                         "table %s: the key field %s is missing "
                         "(mode upsert)",
                         t->name, e->cfg->key->items[i]);
                return NULL;
            }
    if (!t->exists && (*rc = es_create(ctx, e, t, rec)) < 0)
        return NULL;
    /* a misfit in an existing column rejects before any column is added */
    while (h->next(rec, &it, &k, &v)) {
        long c = es_find_col(t, k.ptr, k.len);
        if (c >= 0 && !es_fits(t->cols[c].cls, v.type)) {
            snprintf(why, whylen,
                     "table %s, column %s: %s does not fit the "
                     "%s column",
                     t->name, t->cols[c].name, es_value_name(v.type),
                     t->cols[c].decl);
            return NULL;
        }
    }
    memset(&it, 0, sizeof it);
    while (h->next(rec, &it, &k, &v)) {
        if (es_find_col(t, k.ptr, k.len) >= 0)
            continue;
        const char *decl = es_decl_for(v.type);
        char *sql = sqlite3_mprintf("ALTER TABLE \"%w\" ADD COLUMN "
                                    "\"%.*w\" %s",
                                    t->name, (int)k.len, k.ptr, decl);
        if (!sql) {
            *rc = es_nomem(ctx);
            return NULL;
        }
        *rc = es_exec(ctx, e, sql);
        sqlite3_free(sql);
        if (*rc < 0)
            return NULL;
        if (!es_add_col(t, k.ptr, k.len, decl)) {
            *rc = es_nomem(ctx);
            return NULL;
        }
    }
    if (!t->indexed && es_has_key_columns(e, t)) {
        if ((*rc = es_index(ctx, e, t)) < 0)
            return NULL;
        t->indexed = true;
    }
    if (e->mode == ES_UPSERT && !t->indexed) {
        snprintf(why, whylen, "table %s: no UNIQUE index over the key",
                 t->name);
        return NULL;
    }

    sqlite3_str *s = sqlite3_str_new(e->db);
    sqlite3_str_appendf(s, "INSERT INTO \"%w\" (", t->name);
    memset(&it, 0, sizeof it);
    for (size_t i = 0; h->next(rec, &it, &k, &v); i++)
        sqlite3_str_appendf(s, "%s\"%.*w\"", i ? ", " : "", (int)k.len, k.ptr);
    sqlite3_str_appendall(s, ") VALUES (");
    for (size_t i = 0; i < nf; i++)
        sqlite3_str_appendf(s, "%s?%lld", i ? ", " : "", (long long)i + 1);
    sqlite3_str_appendall(s, ")");
    if (e->mode == ES_UPSERT) {
        const gf_strlist *key = e->cfg->key;
        sqlite3_str_appendall(s, " ON CONFLICT (");
        for (size_t i = 0; i < key->n; i++)
            sqlite3_str_appendf(s, "%s\"%w\"", i ? ", " : "", key->items[i]);
        sqlite3_str_appendall(s, ") DO ");
        size_t nset = 0;
        memset(&it, 0, sizeof it);
        while (h->next(rec, &it, &k, &v))
            if (!es_is_key(e, k.ptr, k.len))
                sqlite3_str_appendf(s, "%s\"%.*w\" = excluded.\"%.*w\"",
                                    nset++ ? ", " : "UPDATE SET ", (int)k.len,
                                    k.ptr, (int)k.len, k.ptr);
        if (!nset)
            sqlite3_str_appendall(s, "NOTHING");
    }
    char *sql = sqlite3_str_finish(s);
    if (!sql) {
        *rc = es_nomem(ctx);
        return NULL;
    }
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v3(e->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st,
                           NULL) != SQLITE_OK) {
        /* e.g. a field name given twice: this record's problem */
        snprintf(why, whylen, "table %s: %s", t->name, sqlite3_errmsg(e->db));
        sqlite3_free(sql);
        return NULL;
    }
    sqlite3_free(sql);

    if (t->nstmts == ES_MAX_STMTS) { /* too many column sets: start over */
        for (size_t i = 0; i < t->nstmts; i++)
            es_stmt_free(&t->stmts[i]);
        t->nstmts = 0;
    }
    if (!t->stmts && !(t->stmts = calloc(ES_MAX_STMTS, sizeof *t->stmts))) {
        sqlite3_finalize(st);
        *rc = es_nomem(ctx);
        return NULL;
    }
    es_stmt *ns = &t->stmts[t->nstmts];
    ns->st = st;
    ns->n = nf;
    ns->hash = hash;
    ns->key_len = key_len;
    ns->key = malloc(key_len ? key_len : 1);
    ns->col = calloc(nf ? nf : 1, sizeof *ns->col);
    if (!ns->key || !ns->col) {
        es_stmt_free(ns);
        *rc = es_nomem(ctx);
        return NULL;
    }
    memcpy(ns->key, e->keybuf, key_len);
    memset(&it, 0, sizeof it);
    for (size_t i = 0; h->next(rec, &it, &k, &v); i++)
        ns->col[i] = (size_t)es_find_col(t, k.ptr, k.len);
    t->last = t->nstmts++;
    return ns;
}
