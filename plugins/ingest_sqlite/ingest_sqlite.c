/*
 * ingest_sqlite - read the rows of an SQLite query or table as records.
 *
 * Exactly one of `query` (one read-only SELECT) or `table` (all its rows,
 * in rowid order where it has one) is given. The database is opened
 * read-only and rows are streamed with sqlite3_step, so memory does not
 * grow with the table. Each column becomes a field named after it: NULL is
 * an absent field, INTEGER an int, REAL a float, TEXT a string, BLOB binary.
 * A column declared BOOLEAN (as export_sqlite writes bools) reads 0/1 as
 * false/true, and one declared JSON reads its text back as nested arrays and
 * maps, so an export_sqlite table round-trips. `kind` sets the field kind of
 * every record (it wins over a column of that name).
 *
 * A query that does not prepare (a syntax error, an unknown table or
 * column) is a configuration error at check(), with SQLite's message.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sqlite3.h>

#include <gigflow/plugin.h>

#include "gf_dbrow.h"
#include "gf_domain.h"

#define IS_ROWS_PER_CALL 4096

typedef struct is_config {
    const char *path;
    const char *query;
    const char *table;
    const char *kind;
} is_config;

static const gf_option is_options[] = {
    {"path", GF_OPT_PATH, NULL, true, offsetof(is_config, path),
     "SQLite database file to read (opened read-only)"},
    {"query", GF_OPT_STRING, NULL, false, offsetof(is_config, query),
     "one SELECT statement whose rows become records"},
    {"table", GF_OPT_STRING, NULL, false, offsetof(is_config, table),
     "a table whose rows become records (instead of query)"},
    {"kind", GF_OPT_STRING, NULL, false, offsetof(is_config, kind),
     "value of the field `kind` of every record (org, member, project, "
     "demand)"},
    {0},
};

/* How a column's values are read beyond their storage class. */
typedef enum is_as { IS_PLAIN, IS_BOOL, IS_JSON } is_as;

typedef struct is {
    const is_config *cfg;
    sqlite3 *db;
    sqlite3_stmt *st;
    int ncols;
    is_as *as;
    gf_dbrow fields; /* scratch of JSON and binary fields */
    unsigned long long row;
} is;

static void is_close(is *s)
{
    sqlite3_finalize(s->st);
    sqlite3_close_v2(s->db);
    s->st = NULL;
    s->db = NULL;
}

/* Open the database and prepare the statement; report what fails. */
static int is_open(gf_ctx *ctx, const is_config *cfg, is *s)
{
    const gf_host *h = ctx->host;
    if (!cfg->query == !cfg->table) {
        h->option_error(ctx, cfg->query ? "table" : "path",
                        "give exactly "
                        "one of `query` and `table`");
        return GF_ERROR;
    }
    int rc = sqlite3_open_v2(cfg->path, &s->db,
                             SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        h->option_error(ctx, "path", "%s: cannot open the database: %s",
                        cfg->path,
                        s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
        return GF_ERROR;
    }
    sqlite3_busy_timeout(s->db, 5000);
    char *sql = cfg->query
                    ? sqlite3_mprintf("%s", cfg->query)
                    : sqlite3_mprintf("SELECT * FROM \"%w\"", cfg->table);
    const char *tail = NULL;
    if (!sql) {
        h->error(ctx, "out of memory");
        return GF_ERROR;
    }
    rc = sqlite3_prepare_v2(s->db, sql, -1, &s->st, &tail);
    if (rc != SQLITE_OK || !s->st) {
        if (rc == SQLITE_OK)
            h->option_error(ctx, "query", "the query is empty");
        else if (cfg->query)
            h->option_error(ctx, "query",
                            "%s: the query does not prepare: "
                            "%s",
                            cfg->path, sqlite3_errmsg(s->db));
        else
            h->option_error(ctx, "table", "%s: cannot read table %s: %s",
                            cfg->path, cfg->table, sqlite3_errmsg(s->db));
        sqlite3_free(sql);
        return GF_ERROR;
    }
    while (tail && (*tail == ' ' || *tail == '\n' || *tail == '\t' ||
                    *tail == '\r' || *tail == ';'))
        tail++;
    if (tail && *tail) {
        h->option_error(ctx, "query",
                        "give one statement only; more "
                        "follows at: %.40s",
                        tail);
        sqlite3_free(sql);
        return GF_ERROR;
    }
    sqlite3_free(sql);
    if (!sqlite3_stmt_readonly(s->st) || sqlite3_column_count(s->st) == 0) {
        h->option_error(ctx, "query",
                        "the query must be a SELECT that "
                        "returns rows and changes nothing");
        return GF_ERROR;
    }
    return GF_OK;
}

static int is_check(gf_ctx *ctx, const void *config)
{
    char why[128];
    if (gf_domain_check_kind(((const is_config *)config)->kind, why,
                             sizeof why)) {
        ctx->host->option_error(ctx, "kind", "%s", why);
        return GF_ERROR;
    }
    is s = {0};
    int rc = is_open(ctx, config, &s);
    is_close(&s);
    return rc;
}

static int is_setup(gf_ctx *ctx, const void *config, void **state)
{
    is *s = calloc(1, sizeof *s);
    if (!s) {
        ctx->host->error(ctx, "out of memory");
        return GF_ERROR;
    }
    *state = s;
    s->cfg = config;
    if (is_open(ctx, config, s) < 0)
        return GF_ERROR;
    s->ncols = sqlite3_column_count(s->st);
    s->as = calloc((size_t)s->ncols, sizeof *s->as);
    if (!s->as) {
        ctx->host->error(ctx, "out of memory");
        return GF_ERROR;
    }
    for (int i = 0; i < s->ncols; i++) {
        const char *decl = sqlite3_column_decltype(s->st, i);
        if (decl && (strcasestr(decl, "BOOL")))
            s->as[i] = IS_BOOL;
        else if (decl && strcasestr(decl, "JSON"))
            s->as[i] = IS_JSON;
    }
    return GF_OK;
}

static int is_produce(gf_ctx *ctx, void *state, gf_out *out)
{
    is *s = state;
    const gf_host *h = ctx->host;
    const char *kind = s->cfg->kind;
    for (int n = 0; n < IS_ROWS_PER_CALL; n++) {
        int rc = sqlite3_step(s->st);
        if (rc == SQLITE_DONE)
            return GF_DONE;
        if (rc != SQLITE_ROW) {
            h->error(ctx, "%s: row %llu: %s", s->cfg->path, s->row + 1,
                     sqlite3_errmsg(s->db));
            return GF_ERROR;
        }
        s->row++;
        h->begin(out);
        if (kind)
            h->set_str(out, "kind", kind, strlen(kind));
        for (int i = 0; i < s->ncols; i++) {
            const char *name = sqlite3_column_name(s->st, i);
            if (!name || (kind && !strcmp(name, "kind")))
                continue;
            switch (sqlite3_column_type(s->st, i)) {
            case SQLITE_INTEGER: {
                sqlite3_int64 v = sqlite3_column_int64(s->st, i);
                if (s->as[i] == IS_BOOL && (v == 0 || v == 1))
                    h->set_bool(out, name, v == 1);
                else
                    h->set_int(out, name, v);
                break;
            }
            case SQLITE_FLOAT:
                h->set_float(out, name, sqlite3_column_double(s->st, i));
                break;
            case SQLITE_TEXT: {
                const char *t = (const char *)sqlite3_column_text(s->st, i);
                size_t len = (size_t)sqlite3_column_bytes(s->st, i);
                if (s->as[i] == IS_JSON) {
                    if (gf_dbrow_set_json(&s->fields, h, out, name, t, len) < 0)
                        goto nomem;
                } else {
                    h->set_str(out, name, t ? t : "", len);
                }
                break;
            }
            case SQLITE_BLOB: {
                const void *b = sqlite3_column_blob(s->st, i);
                size_t len = (size_t)sqlite3_column_bytes(s->st, i);
                if (gf_dbrow_set_bin(&s->fields, h, out, name, b, len) < 0)
                    goto nomem;
                break;
            }
            default: /* NULL: absent */
                break;
            }
        }
        if ((rc = h->end(out)) < 0)
            return rc;
    }
    return GF_MORE;
nomem:
    h->error(ctx, "out of memory");
    return GF_ERROR;
}

static void is_destroy(gf_ctx *ctx, void *state)
{
    (void)ctx;
    is *s = state;
    if (!s)
        return;
    is_close(s);
    free(s->as);
    gf_dbrow_free(&s->fields);
    free(s);
}

/* The runtime calls destroy() only after a successful init(): undo here. */
static int is_init(gf_ctx *ctx, const void *config, void **state)
{
    int rc = is_setup(ctx, config, state);
    if (rc < 0) {
        is_destroy(ctx, *state);
        *state = NULL;
    }
    return rc;
}

static const gf_plugin ingest_sqlite = {
    GF_PLUGIN_HEADER,
    .name = "ingest_sqlite",
    .kind = GF_KIND_INGEST,
    .version = "1.0.0",
    .description = "read the rows of an SQLite query or table as records",
    .options = is_options,
    .config_size = sizeof(is_config),
    .check = is_check,
    .init = is_init,
    .produce = is_produce,
    .destroy = is_destroy,
};

GF_PLUGIN_DEFINE(ingest_sqlite)
