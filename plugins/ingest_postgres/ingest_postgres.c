/*
 * ingest_postgres - read the rows of a PostgreSQL query or table as records.
 *
 * Exactly one of `query` or `table` ("name" or "schema.name") is given.
 * The rows come through a server-side cursor (DECLARE ... NO SCROLL CURSOR
 * inside a read-only REPEATABLE READ transaction, then FETCH `fetch` rows at
 * a time), so memory holds one batch whatever the size of the result. Each
 * column becomes a field named after it, typed by the column's type OID:
 * int2/int4/int8 -> int, float4/float8/numeric -> float, bool -> bool,
 * json/jsonb -> nested arrays and maps, bytea -> binary, date and timestamp
 * -> ISO text (DateStyle ISO), everything else -> its text form. NULL is an
 * absent field. `kind` sets the field kind of every record.
 *
 * A query the server refuses (a syntax error, an unknown table) fails init
 * with the server's message at the `query` or `table` option. The password
 * comes from the dsn, PGPASSWORD or ~/.pgpass; messages that show the dsn
 * show password=*** instead.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include <gigflow/plugin.h>

#include "gf_dbrow.h"
#include "gf_domain.h"
#include "gf_pg.h"

typedef struct ip_config {
    const char *dsn;
    const char *query;
    const char *table;
    const char *kind;
    int64_t fetch;
} ip_config;

static const gf_option ip_options[] = {
    {"dsn", GF_OPT_STRING, NULL, true, offsetof(ip_config, dsn),
     "libpq connection string (password from PGPASSWORD or ~/.pgpass)"},
    {"query", GF_OPT_STRING, NULL, false, offsetof(ip_config, query),
     "one SELECT whose rows become records"},
    {"table", GF_OPT_STRING, NULL, false, offsetof(ip_config, table),
     "a table (name or schema.name) whose rows become records"},
    {"kind", GF_OPT_STRING, NULL, false, offsetof(ip_config, kind),
     "value of the field `kind` of every record (org, member, project, "
     "demand)"},
    {"fetch", GF_OPT_INT, "10000", false, offsetof(ip_config, fetch),
     "rows per FETCH from the server-side cursor"},
    {0},
};

typedef struct ip {
    const ip_config *cfg;
    gf_pg pg;
    char fetch_sql[64];
    bool done;
    gf_dbrow fields; /* scratch of JSON and binary fields */
} ip;

/* Run a command; on failure report it at `key` (or as an error). */
static int ip_run(gf_ctx *ctx, ip *s, const char *sql, const char *key)
{
    PGresult *res = PQexec(s->pg.conn, sql);
    ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (st == PGRES_COMMAND_OK) {
        PQclear(res);
        return GF_OK;
    }
    char m[1024];
    gf_pg_msg(&s->pg, res, m, sizeof m);
    if (key)
        ctx->host->option_error(ctx, key, "PostgreSQL refused the %s: %s", key,
                                m);
    else
        ctx->host->error(ctx, "PostgreSQL: %s", m);
    PQclear(res);
    return GF_ERROR;
}

static int ip_check(gf_ctx *ctx, const void *config)
{
    const ip_config *cfg = config;
    char why[128];
    if (gf_domain_check_kind(cfg->kind, why, sizeof why)) {
        ctx->host->option_error(ctx, "kind", "%s", why);
        return GF_ERROR;
    }
    if (gf_pg_check_dsn(ctx, cfg->dsn) < 0)
        return GF_ERROR;
    if (!cfg->query == !cfg->table) {
        ctx->host->option_error(ctx, cfg->query ? "table" : "dsn",
                                "give exactly one of `query` and `table`");
        return GF_ERROR;
    }
    if (cfg->fetch < 1) {
        ctx->host->option_error(ctx, "fetch", "must be at least 1");
        return GF_ERROR;
    }
    return GF_OK;
}

static int ip_setup(gf_ctx *ctx, const void *config, void **state)
{
    const ip_config *cfg = config;
    if (ip_check(ctx, config) < 0)
        return GF_ERROR;
    ip *s = calloc(1, sizeof *s);
    if (!s) {
        ctx->host->error(ctx, "out of memory");
        return GF_ERROR;
    }
    *state = s;
    s->cfg = cfg;
    if (gf_pg_open(&s->pg, ctx, cfg->dsn) < 0)
        return GF_ERROR;
    snprintf(s->fetch_sql, sizeof s->fetch_sql,
             "FETCH FORWARD %lld FROM gigflow_cursor", (long long)cfg->fetch);
    if (ip_run(ctx, s, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
               NULL) < 0 ||
        ip_run(ctx, s,
               "SET LOCAL DateStyle = ISO, YMD; SET LOCAL "
               "IntervalStyle = iso_8601; SET LOCAL extra_float_digits = 3",
               NULL) < 0)
        return GF_ERROR;
    char *sql = NULL;
    int n;
    if (cfg->query) {
        n = asprintf(&sql, "DECLARE gigflow_cursor NO SCROLL CURSOR FOR %s",
                     cfg->query);
    } else {
        const char *dot = strchr(cfg->table, '.');
        char *a = PQescapeIdentifier(s->pg.conn, cfg->table,
                                     dot ? (size_t)(dot - cfg->table)
                                         : strlen(cfg->table));
        char *b = dot ? PQescapeIdentifier(s->pg.conn, dot + 1, strlen(dot + 1))
                      : NULL;
        n = a && (b || !dot)
                ? asprintf(&sql,
                           "DECLARE gigflow_cursor NO SCROLL CURSOR FOR "
                           "SELECT * FROM %s%s%s",
                           a, b ? "." : "", b ? b : "")
                : -1;
        PQfreemem(a);
        PQfreemem(b);
    }
    if (n < 0) {
        ctx->host->error(ctx, "out of memory");
        return GF_ERROR;
    }
    int rc = ip_run(ctx, s, sql, cfg->query ? "query" : "table");
    free(sql);
    return rc;
}

static int ip_produce(gf_ctx *ctx, void *state, gf_out *out)
{
    ip *s = state;
    const gf_host *h = ctx->host;
    s->pg.ctx = ctx;
    if (s->done)
        return GF_DONE;
    PGresult *res = PQexec(s->pg.conn, s->fetch_sql);
    if (!res || PQresultStatus(res) != PGRES_TUPLES_OK) {
        char m[1024];
        h->error(ctx, "PostgreSQL (%s): %s", s->pg.dsn_shown,
                 gf_pg_msg(&s->pg, res, m, sizeof m));
        PQclear(res);
        return GF_ERROR;
    }
    int rows = PQntuples(res), cols = PQnfields(res);
    const char *kind = s->cfg->kind;
    int rc = GF_OK;
    for (int r = 0; r < rows && rc >= 0; r++) {
        h->begin(out);
        if (kind)
            h->set_str(out, "kind", kind, strlen(kind));
        for (int c = 0; c < cols; c++) {
            const char *name = PQfname(res, c);
            if (PQgetisnull(res, r, c) || (kind && !strcmp(name, "kind")))
                continue;
            const char *v = PQgetvalue(res, r, c);
            size_t len = (size_t)PQgetlength(res, r, c);
            char *end;
            switch (gf_pg_cls_of_oid(PQftype(res, c))) {
            case GF_PG_INT2:
            case GF_PG_INT4:
            case GF_PG_INT8:
                h->set_int(out, name, strtoll(v, NULL, 10));
                break;
            case GF_PG_FLOAT: {
                double d = strtod(v, &end);
                if (end == v) /* "Infinity" and "NaN" parse; nothing else */
                    h->set_str(out, name, v, len);
                else
                    h->set_float(out, name, d);
                break;
            }
            case GF_PG_BOOL:
                h->set_bool(out, name, v[0] == 't');
                break;
            case GF_PG_JSON:
                if (gf_dbrow_set_json(&s->fields, h, out, name, v, len) < 0)
                    goto nomem;
                break;
            case GF_PG_BYTEA: { /* the hex text form, \x0aff... */
                size_t n = 0;
                unsigned char *raw =
                    PQunescapeBytea((const unsigned char *)v, &n);
                int bad = !raw || gf_dbrow_set_bin(&s->fields, h, out, name,
                                                   raw, n) < 0;
                PQfreemem(raw);
                if (bad)
                    goto nomem;
                break;
            }
            default: /* text, varchar, date, timestamp, uuid, ... */
                h->set_str(out, name, v, len);
            }
        }
        rc = h->end(out);
    }
    PQclear(res);
    if (rc < 0)
        return rc;
    if (rows < s->cfg->fetch) {
        s->done = true;
        if (ip_run(ctx, s, "CLOSE gigflow_cursor", NULL) < 0 ||
            ip_run(ctx, s, "COMMIT", NULL) < 0)
            return GF_ERROR;
        return GF_DONE;
    }
    return GF_MORE;
nomem:
    PQclear(res);
    h->error(ctx, "out of memory");
    return GF_ERROR;
}

static void ip_destroy(gf_ctx *ctx, void *state)
{
    ip *s = state;
    if (!s)
        return;
    s->pg.ctx = ctx;
    gf_pg_close(&s->pg);
    gf_dbrow_free(&s->fields);
    free(s);
}

/* The runtime calls destroy() only after a successful init(): undo here. */
static int ip_init(gf_ctx *ctx, const void *config, void **state)
{
    int rc = ip_setup(ctx, config, state);
    if (rc < 0) {
        ip_destroy(ctx, *state);
        *state = NULL;
    }
    return rc;
}

static const gf_plugin ingest_postgres = {
    GF_PLUGIN_HEADER,
    .name = "ingest_postgres",
    .kind = GF_KIND_INGEST,
    .version = "1.0.0",
    .description = "read the rows of a PostgreSQL query or table through a "
                   "cursor",
    .options = ip_options,
    .config_size = sizeof(ip_config),
    .check = ip_check,
    .init = ip_init,
    .produce = ip_produce,
    .destroy = ip_destroy,
};

GF_PLUGIN_DEFINE(ingest_postgres)
