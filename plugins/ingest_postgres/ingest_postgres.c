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

/* Type OIDs (src/include/catalog/pg_type.dat). */
enum {
    IP_BOOL = 16, IP_BYTEA = 17, IP_INT8 = 20, IP_INT2 = 21, IP_INT4 = 23,
    IP_OID = 26, IP_JSON = 114, IP_FLOAT4 = 700, IP_FLOAT8 = 701,
    IP_NUMERIC = 1700, IP_JSONB = 3802
};

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
     "value of the field `kind` of every record (org, member, project, demand)"},
    {"fetch", GF_OPT_INT, "10000", false, offsetof(ip_config, fetch),
     "rows per FETCH from the server-side cursor"},
    {0},
};

typedef struct ip {
    const ip_config *cfg;
    gf_ctx *ctx;       /* of the callback running: for server notices */
    PGconn *conn;
    char *dsn_shown;
    char *app;
    char fetch_sql[64];
    bool done;
    char *buf;
    size_t cap;
} ip;

/* The dsn with password=... hidden (and user:secret@ in a URI). */
static char *ip_scrub(const char *dsn)
{
    size_t n = strlen(dsn);
    char *out = malloc(2 * n + 16); /* each *** adds at most 3 bytes */
    if (!out)
        return NULL;
    size_t o = 0;
    const char *uri = strstr(dsn, "://");
    const char *at = uri ? strchr(uri, '@') : NULL;
    const char *colon = at ? memchr(uri + 3, ':', (size_t)(at - uri - 3))
                           : NULL;
    for (size_t i = 0; i < n;) {
        if (colon && dsn + i == colon) {
            memcpy(out + o, ":***", 4);
            o += 4;
            i = (size_t)(at - dsn);
            colon = NULL;
            continue;
        }
        if (!strncmp(dsn + i, "password", 8) &&
            (i == 0 || strchr(" \t?&", dsn[i - 1]))) {
            size_t j = i + 8;
            while (dsn[j] == ' ')
                j++;
            if (dsn[j] == '=') {
                j++;
                while (dsn[j] == ' ')
                    j++;
                if (dsn[j] == '\'') {
                    for (j++; dsn[j] && dsn[j] != '\''; j++)
                        if (dsn[j] == '\\' && dsn[j + 1])
                            j++;
                    if (dsn[j])
                        j++;
                } else {
                    while (dsn[j] && !strchr(" \t&", dsn[j]))
                        j++;
                }
                memcpy(out + o, "password=***", 12);
                o += 12;
                i = j;
                continue;
            }
        }
        out[o++] = dsn[i++];
    }
    out[o] = '\0';
    return out;
}

static void ip_oneline(char *s)
{
    for (char *c = s; *c; c++)
        if (*c == '\n')
            *c = c[1] ? ' ' : '\0';
}

static bool ip_grow(ip *s, size_t need)
{
    if (need <= s->cap)
        return true;
    char *b = realloc(s->buf, need * 2);
    if (!b)
        return false;
    s->buf = b;
    s->cap = need * 2;
    return true;
}

/* Run a command; on failure report it at `key` (or as an error). */
static int ip_run(gf_ctx *ctx, ip *s, const char *sql, const char *key)
{
    PGresult *res = PQexec(s->conn, sql);
    ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (st == PGRES_COMMAND_OK) {
        PQclear(res);
        return GF_OK;
    }
    char m[1024];
    snprintf(m, sizeof m, "%s", res ? PQresultErrorMessage(res)
                                    : PQerrorMessage(s->conn));
    ip_oneline(m);
    if (key)
        ctx->host->option_error(ctx, key, "PostgreSQL refused the %s: %s",
                                key, m);
    else
        ctx->host->error(ctx, "PostgreSQL: %s", m);
    PQclear(res);
    return GF_ERROR;
}

/* Server notices go to the run's log, not stderr. */
static void ip_notice(void *arg, const char *msg)
{
    ip *s = arg;
    size_t n = strlen(msg);
    while (n && msg[n - 1] == '\n')
        n--;
    if (s->ctx)
        s->ctx->host->log(s->ctx, strncmp(msg, "WARNING", 7) ? GF_LOG_DEBUG
                                                            : GF_LOG_WARN,
                          "PostgreSQL: %.*s", (int)n, msg);
}

static int ip_check(gf_ctx *ctx, const void *config)
{
    const ip_config *cfg = config;
    char *perr = NULL;
    PQconninfoOption *parsed = PQconninfoParse(cfg->dsn, &perr);
    if (!parsed) {
        char *clean = perr ? ip_scrub(perr) : NULL;
        ctx->host->option_error(ctx, "dsn", "not a libpq connection string: "
                                "%s", clean ? clean : "out of memory");
        free(clean);
        PQfreemem(perr);
        return GF_ERROR;
    }
    PQconninfoFree(parsed);
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
    if (ctx->instances > 1) {
        ctx->host->error(ctx, "ingest_postgres reads one query: run the "
                         "stage with workers: 1");
        return GF_ERROR;
    }
    ip *s = calloc(1, sizeof *s);
    if (!s) {
        ctx->host->error(ctx, "out of memory");
        return GF_ERROR;
    }
    *state = s;
    s->cfg = cfg;
    s->ctx = ctx;
    s->dsn_shown = ip_scrub(cfg->dsn);
    if (!s->dsn_shown || asprintf(&s->app, "gigflow:%.40s", ctx->stage) < 0) {
        s->app = NULL;
        ctx->host->error(ctx, "out of memory");
        return GF_ERROR;
    }
    const char *const keys[] = {"dbname", "fallback_application_name",
                                "client_encoding", NULL};
    const char *const vals[] = {cfg->dsn, s->app, "UTF8", NULL};
    s->conn = PQconnectdbParams(keys, vals, 1);
    if (!s->conn || PQstatus(s->conn) != CONNECTION_OK) {
        char m[1024];
        snprintf(m, sizeof m, "%s", s->conn ? PQerrorMessage(s->conn)
                                            : "out of memory");
        ip_oneline(m);
        char *clean = ip_scrub(m);
        ctx->host->error(ctx, "cannot connect to PostgreSQL (%s): %s",
                         s->dsn_shown, clean ? clean : m);
        free(clean);
        return GF_ERROR;
    }
    PQsetNoticeProcessor(s->conn, ip_notice, s);
    snprintf(s->fetch_sql, sizeof s->fetch_sql,
             "FETCH FORWARD %lld FROM gigflow_cursor", (long long)cfg->fetch);
    if (ip_run(ctx, s, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
               NULL) < 0 ||
        ip_run(ctx, s, "SET LOCAL DateStyle = ISO, YMD; SET LOCAL "
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
        char *a = PQescapeIdentifier(s->conn, cfg->table,
                                     dot ? (size_t)(dot - cfg->table)
                                         : strlen(cfg->table));
        char *b = dot ? PQescapeIdentifier(s->conn, dot + 1, strlen(dot + 1))
                      : NULL;
        n = a && (b || !dot)
                ? asprintf(&sql, "DECLARE gigflow_cursor NO SCROLL CURSOR FOR "
                           "SELECT * FROM %s%s%s", a, b ? "." : "",
                           b ? b : "")
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

/* Field `name` from JSON text: nested when it parses, else the text. */
static int ip_set_json(const gf_host *h, ip *s, gf_out *out, const char *name,
                       const char *text, size_t len)
{
    char err[128];
    size_t nlen = strlen(name);
    if (!ip_grow(s, nlen * 6 + len + 8))
        return -1;
    size_t n = 0;
    s->buf[n++] = '{';
    s->buf[n++] = '"';
    for (size_t i = 0; i < nlen; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c == '"' || c == '\\') {
            s->buf[n++] = '\\';
            s->buf[n++] = (char)c;
        } else if (c < 0x20) {
            n += (size_t)snprintf(s->buf + n, 7, "\\u%04x", c);
        } else {
            s->buf[n++] = (char)c;
        }
    }
    s->buf[n++] = '"';
    s->buf[n++] = ':';
    memcpy(s->buf + n, text, len);
    n += len;
    s->buf[n++] = '}';
    if (h->set_json(out, s->buf, n, err, sizeof err) < 0)
        h->set_str(out, name, text, len);
    return 0;
}

/* bytea's hex text form (\x0aff...) as a MessagePack bin value. */
static int ip_set_bytea(const gf_host *h, ip *s, gf_out *out,
                        const char *name, const char *text, size_t len)
{
    size_t n = 0;
    unsigned char *raw = PQunescapeBytea((const unsigned char *)text, &n);
    (void)len;
    if (!raw || !ip_grow(s, n + 5)) {
        PQfreemem(raw);
        return -1;
    }
    uint8_t *p = (uint8_t *)s->buf;
    size_t hl;
    if (n < 256) {
        p[0] = 0xc4;
        p[1] = (uint8_t)n;
        hl = 2;
    } else if (n < 65536) {
        p[0] = 0xc5;
        p[1] = (uint8_t)(n >> 8);
        p[2] = (uint8_t)n;
        hl = 3;
    } else {
        p[0] = 0xc6;
        p[1] = (uint8_t)(n >> 24);
        p[2] = (uint8_t)(n >> 16);
        p[3] = (uint8_t)(n >> 8);
        p[4] = (uint8_t)n;
        hl = 5;
    }
    memcpy(p + hl, raw, n);
    PQfreemem(raw);
    h->set_raw(out, name, p, hl + n);
    return 0;
}

static int ip_produce(gf_ctx *ctx, void *state, gf_out *out)
{
    ip *s = state;
    const gf_host *h = ctx->host;
    s->ctx = ctx;
    if (s->done)
        return GF_DONE;
    PGresult *res = PQexec(s->conn, s->fetch_sql);
    if (!res || PQresultStatus(res) != PGRES_TUPLES_OK) {
        char m[1024];
        snprintf(m, sizeof m, "%s", res ? PQresultErrorMessage(res)
                                        : PQerrorMessage(s->conn));
        ip_oneline(m);
        h->error(ctx, "PostgreSQL (%s): %s", s->dsn_shown, m);
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
            switch (PQftype(res, c)) {
            case IP_INT2:
            case IP_INT4:
            case IP_INT8:
            case IP_OID:
                h->set_int(out, name, strtoll(v, NULL, 10));
                break;
            case IP_FLOAT4:
            case IP_FLOAT8:
            case IP_NUMERIC: {
                double d = strtod(v, &end);
                if (end == v) /* "Infinity" and "NaN" parse; nothing else */
                    h->set_str(out, name, v, len);
                else
                    h->set_float(out, name, d);
                break;
            }
            case IP_BOOL:
                h->set_bool(out, name, v[0] == 't');
                break;
            case IP_JSON:
            case IP_JSONB:
                if (ip_set_json(h, s, out, name, v, len) < 0)
                    goto nomem;
                break;
            case IP_BYTEA:
                if (ip_set_bytea(h, s, out, name, v, len) < 0)
                    goto nomem;
                break;
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
    s->ctx = ctx;
    PQfinish(s->conn);
    free(s->dsn_shown);
    free(s->app);
    free(s->buf);
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
