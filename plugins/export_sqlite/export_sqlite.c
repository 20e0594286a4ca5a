/*
 * export_sqlite - write records into tables of an SQLite database.
 *
 * Each record goes to the table named by `table`, or by its own `kind`
 * (records of several kinds: one table each); a `metric` row goes to the
 * table named by its `set` (one table per aggregate stage). A table that does
 * not exist is created from the first record that reaches it: INTEGER, REAL,
 * TEXT, BLOB from the value types, BOOLEAN (0/1) for bools, JSON TEXT for
 * arrays and maps (written as JSON text), no type for nil. A field the table
 * lacks adds a column (ALTER TABLE ADD COLUMN). `mode`: replace drops each
 * table the run writes to before creating it anew, append adds rows, upsert
 * updates the row with the same `key` (INSERT ... ON CONFLICT(key) DO
 * UPDATE, over a UNIQUE index the plugin creates; `key` given with the other
 * modes creates the index too, so duplicates are rejected).
 *
 * A value the column's affinity cannot hold (text or blob in an INTEGER,
 * REAL or NUMERIC column, a blob in a TEXT column) rejects the record, with
 * table and column named; so does a constraint the row breaks. The run
 * goes on.
 *
 * All or nothing: the plugin writes straight into the target database
 * inside one transaction (BEGIN IMMEDIATE in init, COMMIT in commit(),
 * ROLLBACK in destroy() without commit), rather than into a copy renamed at
 * commit. SQLite's journal already makes the transaction atomic and
 * durable; a copy would cost a full copy of a large database for every
 * append or upsert, and a rename would silently discard what other writers
 * committed meanwhile, where the lock makes them wait or fail clearly. A
 * database file that the run created is removed again when the run fails.
 *
 * Rows are inserted with prepared statements cached per table and per
 * column set (the record's field names in order), so a run of records with
 * the same fields binds and steps one statement (es_stmt.c); the tables
 * and their DDL are es_table.c.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include <gigflow/plugin.h>

#include "export_sqlite.h"

static const gf_option es_options[] = {
    {"path", GF_OPT_PATH, NULL, true, offsetof(es_config, path),
     "SQLite database file to write (created when missing)"},
    {"table", GF_OPT_STRING, NULL, false, offsetof(es_config, table),
     "table to write (default: each record's `kind`)"},
    {"mode", GF_OPT_STRING, "replace", false, offsetof(es_config, mode),
     "replace (drop and recreate each table written), append, or upsert"},
    {"key", GF_OPT_LIST, NULL, false, offsetof(es_config, key),
     "key fields: a UNIQUE index; required for mode upsert"},
    {0},
};

static es_mode es_parse_mode(const char *m)
{
    if (!strcmp(m, "append"))
        return ES_APPEND;
    if (!strcmp(m, "upsert"))
        return ES_UPSERT;
    return ES_REPLACE;
}

static int es_check(gf_ctx *ctx, const void *config)
{
    const es_config *cfg = config;
    if (strcmp(cfg->mode, "replace") && strcmp(cfg->mode, "append") &&
        strcmp(cfg->mode, "upsert")) {
        ctx->host->option_error(ctx, "mode",
                                "unknown mode '%s': use "
                                "replace, append or upsert",
                                cfg->mode);
        return GF_ERROR;
    }
    if (!strcmp(cfg->mode, "upsert") && (!cfg->key || cfg->key->n == 0)) {
        ctx->host->option_error(ctx, "mode",
                                "mode upsert needs `key`: the "
                                "fields that identify a row");
        return GF_ERROR;
    }
    if (!strcmp(cfg->path, "-")) {
        ctx->host->option_error(ctx, "path",
                                "a database cannot be written "
                                "to standard output: give a file name");
        return GF_ERROR;
    }
    if (cfg->table && !cfg->table[0]) {
        ctx->host->option_error(ctx, "table", "the table name is empty");
        return GF_ERROR;
    }
    return GF_OK;
}

/* Run SQL that returns no rows; on failure report it and return GF_ERROR. */
int es_exec(gf_ctx *ctx, es *e, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(e->db, sql, NULL, NULL, &msg) == SQLITE_OK)
        return GF_OK;
    ctx->host->error(ctx, "%s: %s (in: %s)", e->cfg->path,
                     msg ? msg : sqlite3_errmsg(e->db), sql);
    sqlite3_free(msg);
    return GF_ERROR;
}

int es_nomem(gf_ctx *ctx)
{
    ctx->host->error(ctx, "out of memory");
    return GF_ERROR;
}

static int es_setup(gf_ctx *ctx, const void *config, void **state)
{
    const es_config *cfg = config;
    if (es_check(ctx, config) < 0)
        return GF_ERROR;
    es *e = calloc(1, sizeof *e);
    if (!e)
        return es_nomem(ctx);
    *state = e;
    e->cfg = cfg;
    e->mode = es_parse_mode(cfg->mode);
    struct stat sb;
    e->created_file = stat(cfg->path, &sb) != 0 && errno == ENOENT;
    int rc = sqlite3_open_v2(
        cfg->path, &e->db,
        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        const char *slash = strrchr(cfg->path, '/');
        if (slash && e->created_file) {
            char *dir = strndup(cfg->path, (size_t)(slash - cfg->path));
            if (dir && stat(dir[0] ? dir : "/", &sb) != 0) {
                ctx->host->error(ctx,
                                 "%s: the directory %s does not exist; "
                                 "create it first",
                                 cfg->path, dir);
                free(dir);
                e->created_file = false;
                return GF_ERROR;
            }
            free(dir);
        }
        ctx->host->error(ctx, "%s: cannot open the database: %s", cfg->path,
                         e->db ? sqlite3_errmsg(e->db) : sqlite3_errstr(rc));
        return GF_ERROR;
    }
    sqlite3_busy_timeout(e->db, 5000);
    sqlite3_extended_result_codes(e->db, 1);
    if (es_exec(ctx, e, "PRAGMA cache_size=-65536") < 0 ||
        es_exec(ctx, e, "BEGIN IMMEDIATE") < 0)
        return GF_ERROR;
    e->in_txn = true;
    return GF_OK;
}

/* A value as JSON text (host value_to_json), NUL-terminated in e->json. */
static const char *es_json(const gf_host *h, es *e, const gf_value *v,
                           size_t *len)
{
    long n = h->value_to_json(v, &e->json, &e->json_cap);
    if (n < 0)
        return NULL;
    *len = (size_t)n;
    return e->json;
}

/*
 * The field names of `rec` as a column-set key in e->keybuf (each name as a
 * 4-byte length and its bytes). Returns the key's length, or -1 when memory
 * runs out; *nf receives the field count, *bad whether a name holds a NUL.
 */
static long es_make_key(const gf_host *h, es *e, const gf_record *rec,
                        size_t *nf, bool *bad)
{
    gf_iter it = {0};
    gf_str k;
    gf_value v;
    size_t len = 0;
    *nf = 0;
    *bad = false;
    while (h->next(rec, &it, &k, &v)) {
        if (len + 4 + k.len > e->keycap) {
            size_t cap = (len + 4 + k.len) * 2 + 64;
            char *b = realloc(e->keybuf, cap);
            if (!b)
                return -1;
            e->keybuf = b;
            e->keycap = cap;
        }
        uint32_t l = (uint32_t)k.len;
        memcpy(e->keybuf + len, &l, 4);
        memcpy(e->keybuf + len + 4, k.ptr, k.len);
        len += 4 + k.len;
        if (k.len == 0 || memchr(k.ptr, '\0', k.len))
            *bad = true;
        (*nf)++;
    }
    return (long)len;
}

/* The table named [name, name+len), opened on first use this run. */
static es_table *es_table_get(gf_ctx *ctx, es *e, const char *name, size_t len,
                              int *rc)
{
    *rc = GF_OK;
    if (e->ntables) {
        es_table *t = &e->tables[e->last_table];
        if (!strncmp(t->name, name, len) && t->name[len] == '\0')
            return t;
    }
    for (size_t i = 0; i < e->ntables; i++)
        if (!strncmp(e->tables[i].name, name, len) &&
            e->tables[i].name[len] == '\0') {
            e->last_table = i;
            return &e->tables[i];
        }
    es_table *tabs = realloc(e->tables, (e->ntables + 1) * sizeof *tabs);
    if (!tabs) {
        *rc = es_nomem(ctx);
        return NULL;
    }
    e->tables = tabs;
    es_table *t = &tabs[e->ntables];
    memset(t, 0, sizeof *t);
    if (!(t->name = strndup(name, len))) {
        *rc = es_nomem(ctx);
        return NULL;
    }
    e->last_table = e->ntables++;
    if (e->mode == ES_REPLACE) {
        char *sql = sqlite3_mprintf("DROP TABLE IF EXISTS \"%w\"", t->name);
        if (!sql) {
            *rc = es_nomem(ctx);
            return NULL;
        }
        *rc = es_exec(ctx, e, sql);
        sqlite3_free(sql);
        if (*rc < 0)
            return NULL;
    } else if ((*rc = es_load_columns(ctx, e, t)) < 0) {
        return NULL;
    }
    return t;
}

static int es_reject(gf_ctx *ctx, es *e, const gf_record *rec, const char *why)
{
    char reason[1100];
    snprintf(reason, sizeof reason, "record %llu: %s",
             (unsigned long long)e->rows + 1, why);
    e->rows++;
    return ctx->host->reject(ctx, rec, reason);
}

static int es_process(gf_ctx *ctx, void *state, const gf_record *rec,
                      gf_out *out)
{
    (void)out;
    es *e = state;
    const gf_host *h = ctx->host;
    char why[1024];
    int rc;
    const char *tname = e->cfg->table;
    size_t tlen = tname ? strlen(tname) : 0;
    if (!tname) {
        gf_value kv;
        if (!h->get(rec, "kind", &kv) || kv.type != GF_T_STR ||
            kv.v.s.len == 0 || memchr(kv.v.s.ptr, '\0', kv.v.s.len))
            return es_reject(ctx, e, rec,
                             "no table: the record has no "
                             "text field kind (or set the option table)");
        tname = kv.v.s.ptr;
        tlen = kv.v.s.len;
        gf_value sv; /* metric rows: one table per set, as aggregates mean */
        if (gf_str_eq(kv.v.s, "metric") && h->get(rec, "set", &sv) &&
            sv.type == GF_T_STR && sv.v.s.len > 0 &&
            !memchr(sv.v.s.ptr, '\0', sv.v.s.len)) {
            tname = sv.v.s.ptr;
            tlen = sv.v.s.len;
        }
    }
    if (rec->nfields == 0)
        return es_reject(ctx, e, rec, "the record has no fields to write");
    if (tlen >= 7 && !sqlite3_strnicmp(tname, "sqlite_", 7))
        return es_reject(ctx, e, rec,
                         "table names starting with sqlite_ "
                         "are reserved by SQLite");
    es_table *t = es_table_get(ctx, e, tname, tlen, &rc);
    if (!t)
        return rc;

    size_t nf;
    bool bad;
    long kl = es_make_key(h, e, rec, &nf, &bad);
    if (kl < 0)
        return es_nomem(ctx);
    if (bad)
        return es_reject(ctx, e, rec,
                         "a field name is empty or holds a "
                         "NUL byte: not a column name");
    uint64_t hash = es_hash(e->keybuf, (size_t)kl);
    es_stmt *s = NULL;
    if (t->nstmts && t->stmts[t->last].hash == hash &&
        t->stmts[t->last].key_len == (size_t)kl &&
        !memcmp(t->stmts[t->last].key, e->keybuf, (size_t)kl))
        s = &t->stmts[t->last];
    for (size_t i = 0; !s && i < t->nstmts; i++)
        if (t->stmts[i].hash == hash && t->stmts[i].key_len == (size_t)kl &&
            !memcmp(t->stmts[i].key, e->keybuf, (size_t)kl)) {
            s = &t->stmts[i];
            t->last = i;
        }
    if (!s) {
        s = es_stmt_new(ctx, e, t, rec, nf, (size_t)kl, hash, why, sizeof why,
                        &rc);
        if (!s)
            return rc < 0 ? rc : es_reject(ctx, e, rec, why);
    }

    gf_iter it = {0};
    gf_str k;
    gf_value v;
    for (size_t i = 0; h->next(rec, &it, &k, &v); i++) {
        const es_col *c = &t->cols[s->col[i]];
        if (!es_fits(c->cls, v.type)) {
            sqlite3_reset(s->st);
            snprintf(why, sizeof why,
                     "table %s, column %s: %s does not fit "
                     "the %s column",
                     t->name, c->name, es_value_name(v.type), c->decl);
            return es_reject(ctx, e, rec, why);
        }
        int p = (int)i + 1;
        switch (v.type) {
        case GF_T_NIL:
            rc = sqlite3_bind_null(s->st, p);
            break;
        case GF_T_BOOL:
            rc = sqlite3_bind_int(s->st, p, v.v.b);
            break;
        case GF_T_INT:
            rc = sqlite3_bind_int64(s->st, p, v.v.i);
            break;
        case GF_T_FLOAT:
            rc = sqlite3_bind_double(s->st, p, v.v.f);
            break;
        case GF_T_STR:
            rc = sqlite3_bind_text64(s->st, p, v.v.s.ptr, v.v.s.len,
                                     SQLITE_STATIC, SQLITE_UTF8);
            break;
        case GF_T_BIN:
            rc = sqlite3_bind_blob64(s->st, p, v.v.s.ptr, v.v.s.len,
                                     SQLITE_STATIC);
            break;
        default: {
            size_t jl;
            const char *j = es_json(h, e, &v, &jl);
            if (!j)
                return es_nomem(ctx);
            rc = sqlite3_bind_text64(s->st, p, j, jl, SQLITE_TRANSIENT,
                                     SQLITE_UTF8);
        }
        }
        if (rc != SQLITE_OK) {
            sqlite3_reset(s->st);
            snprintf(why, sizeof why, "table %s, column %s: %s", t->name,
                     c->name, sqlite3_errstr(rc));
            return es_reject(ctx, e, rec, why);
        }
    }
    rc = sqlite3_step(s->st);
    sqlite3_reset(s->st);
    if (rc == SQLITE_DONE) {
        e->rows++;
        return GF_OK;
    }
    if ((rc & 0xff) == SQLITE_CONSTRAINT || rc == SQLITE_MISMATCH ||
        rc == SQLITE_TOOBIG) {
        snprintf(why, sizeof why, "table %s: %s", t->name,
                 sqlite3_errmsg(e->db));
        return es_reject(ctx, e, rec, why);
    }
    h->error(ctx, "%s: writing table %s: %s", e->cfg->path, t->name,
             sqlite3_errmsg(e->db));
    return GF_ERROR;
}

static int es_commit(gf_ctx *ctx, void *state)
{
    es *e = state;
    if (!e->in_txn)
        return GF_OK;
    if (es_exec(ctx, e, "COMMIT") < 0)
        return GF_ERROR;
    e->in_txn = false;
    e->committed = true;
    return GF_OK;
}

static void es_destroy(gf_ctx *ctx, void *state)
{
    (void)ctx;
    es *e = state;
    if (!e)
        return;
    for (size_t i = 0; i < e->ntables; i++) {
        es_table *t = &e->tables[i];
        for (size_t j = 0; j < t->nstmts; j++)
            es_stmt_free(&t->stmts[j]);
        for (size_t j = 0; j < t->ncols; j++) {
            free(t->cols[j].name);
            free(t->cols[j].decl);
        }
        free(t->stmts);
        free(t->cols);
        free(t->name);
    }
    if (e->db) {
        if (e->in_txn)
            sqlite3_exec(e->db, "ROLLBACK", NULL, NULL, NULL);
        sqlite3_close_v2(e->db);
    }
    if (e->created_file && !e->committed) { /* leave nothing behind */
        char *j = NULL;
        unlink(e->cfg->path);
        if (asprintf(&j, "%s-journal", e->cfg->path) >= 0) {
            unlink(j);
            free(j);
        }
    }
    free(e->tables);
    free(e->keybuf);
    free(e->json);
    free(e);
}

/* The runtime calls destroy() only after a successful init(): undo here. */
static int es_init(gf_ctx *ctx, const void *config, void **state)
{
    int rc = es_setup(ctx, config, state);
    if (rc < 0) {
        es_destroy(ctx, *state);
        *state = NULL;
    }
    return rc;
}

static const gf_plugin export_sqlite = {
    GF_PLUGIN_HEADER,
    .name = "export_sqlite",
    .kind = GF_KIND_EXPORT,
    .version = "1.0.0",
    .description = "write records into SQLite tables, in one transaction",
    .options = es_options,
    .config_size = sizeof(es_config),
    .check = es_check,
    .init = es_init,
    .process = es_process,
    .commit = es_commit,
    .destroy = es_destroy,
};

GF_PLUGIN_DEFINE(export_sqlite)
