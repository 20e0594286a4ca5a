/*
 * gf_pg - what the PostgreSQL plugins share (see gf_pg.h).
 */
#define _GNU_SOURCE
#include "gf_pg.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* Type OIDs of the built-in types (src/include/catalog/pg_type.dat). */
enum {
    PG_BOOL = 16,
    PG_BYTEA = 17,
    PG_NAME = 19,
    PG_INT8 = 20,
    PG_INT2 = 21,
    PG_INT4 = 23,
    PG_TEXT = 25,
    PG_OID = 26,
    PG_JSON = 114,
    PG_FLOAT4 = 700,
    PG_FLOAT8 = 701,
    PG_BPCHAR = 1042,
    PG_VARCHAR = 1043,
    PG_NUMERIC = 1700,
    PG_JSONB = 3802
};

/* The types gigflow tells apart: name, OID (0: none fixed), class. */
static const struct {
    const char *name;
    Oid oid;
    gf_pg_cls cls;
} pg_types[] = {
    {"int2", PG_INT2, GF_PG_INT2},
    {"int4", PG_INT4, GF_PG_INT4},
    {"int8", PG_INT8, GF_PG_INT8},
    {"oid", PG_OID, GF_PG_INT8},
    {"float4", PG_FLOAT4, GF_PG_FLOAT},
    {"float8", PG_FLOAT8, GF_PG_FLOAT},
    {"numeric", PG_NUMERIC, GF_PG_FLOAT},
    {"bool", PG_BOOL, GF_PG_BOOL},
    {"text", PG_TEXT, GF_PG_TEXT},
    {"varchar", PG_VARCHAR, GF_PG_TEXT},
    {"bpchar", PG_BPCHAR, GF_PG_TEXT},
    {"name", PG_NAME, GF_PG_TEXT},
    {"citext", 0, GF_PG_TEXT},
    {"json", PG_JSON, GF_PG_JSON},
    {"jsonb", PG_JSONB, GF_PG_JSON},
    {"bytea", PG_BYTEA, GF_PG_BYTEA},
};

gf_pg_cls gf_pg_cls_of_name(const char *typname)
{
    for (size_t i = 0; i < sizeof pg_types / sizeof *pg_types; i++)
        if (!strcmp(pg_types[i].name, typname))
            return pg_types[i].cls;
    return GF_PG_OTHER;
}

gf_pg_cls gf_pg_cls_of_oid(Oid oid)
{
    for (size_t i = 0; i < sizeof pg_types / sizeof *pg_types; i++)
        if (oid && pg_types[i].oid == oid)
            return pg_types[i].cls;
    return GF_PG_OTHER;
}

/* --- SQL text --------------------------------------------------------------
 */

void gf_pg_put_slow(gf_pg_buf *b, const void *p, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = (b->len + n + 1) * 2;
        char *q = realloc(b->p, cap);
        if (!q) {
            b->oom = true;
            return;
        }
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->len, p, n);
    b->len += n;
    b->p[b->len] = '\0';
}

void gf_pg_ident(gf_pg_buf *b, const char *s, size_t n)
{
    gf_pg_put(b, "\"", 1);
    for (const char *q; n && (q = memchr(s, '"', n));) {
        gf_pg_put(b, s, (size_t)(q - s) + 1);
        gf_pg_put(b, "\"", 1);
        n -= (size_t)(q - s) + 1;
        s = q + 1;
    }
    gf_pg_put(b, s, n);
    gf_pg_put(b, "\"", 1);
}

void gf_pg_literal(gf_pg_buf *b, const char *s)
{
    gf_pg_put(b, "'", 1);
    for (; *s; s++)
        gf_pg_put(b, *s == '\'' ? "''" : s, 1 + (*s == '\''));
    gf_pg_put(b, "'", 1);
}

/* --- passwords -------------------------------------------------------------
 */

/* b's text as a malloc'd string ("" when empty), NULL when out of memory. */
static char *buf_take(gf_pg_buf *b)
{
    if (b->oom) {
        free(b->p);
        return NULL;
    }
    return b->p ? b->p : strdup("");
}

char *gf_pg_scrub(const char *dsn)
{
    gf_pg_buf b = {0};
    const char *s = dsn;
    if (!strncmp(s, "postgres://", 11) || !strncmp(s, "postgresql://", 13)) {
        const char *at = strchr(s, '@');
        const char *start = strstr(s, "://") + 3;
        const char *colon =
            at ? memchr(start, ':', (size_t)(at - start)) : NULL;
        if (colon) {
            gf_pg_put(&b, s, (size_t)(colon - s) + 1);
            gf_pg_puts(&b, "***");
            s = at;
        }
        const char *pw = strstr(s, "password=");
        while (pw) {
            gf_pg_put(&b, s, (size_t)(pw - s) + 9);
            gf_pg_puts(&b, "***");
            s = pw + 9 + strcspn(pw + 9, "&");
            pw = strstr(s, "password=");
        }
        gf_pg_puts(&b, s);
        return buf_take(&b);
    }
    while (*s) {
        const char *pw = strstr(s, "password");
        if (!pw) {
            gf_pg_puts(&b, s);
            break;
        }
        const char *q = pw + 8;
        while (*q == ' ')
            q++;
        bool is_key =
            (pw == dsn || pw[-1] == ' ' || pw[-1] == '\t') && *q == '=';
        if (!is_key) {
            gf_pg_put(&b, s, (size_t)(pw - s) + 8);
            s = pw + 8;
            continue;
        }
        q++;
        while (*q == ' ')
            q++;
        gf_pg_put(&b, s, (size_t)(pw - s));
        gf_pg_puts(&b, "password=***");
        if (*q == '\'') { /* a quoted value, \' and \\ escaped */
            for (q++; *q && *q != '\''; q++)
                if (*q == '\\' && q[1])
                    q++;
            if (*q)
                q++;
        } else {
            while (*q && *q != ' ' && *q != '\t')
                q++;
        }
        s = q;
    }
    return buf_take(&b);
}

int gf_pg_check_dsn(gf_ctx *ctx, const char *dsn)
{
    char *perr = NULL;
    PQconninfoOption *parsed = PQconninfoParse(dsn, &perr);
    if (parsed) {
        PQconninfoFree(parsed);
        return GF_OK;
    }
    char *clean = perr ? gf_pg_scrub(perr) : NULL;
    for (size_t n = clean ? strlen(clean) : 0; n > 0 && clean[n - 1] == '\n';)
        clean[--n] = '\0'; /* libpq ends its messages with a newline */
    ctx->host->option_error(ctx, "dsn", "not a libpq connection string: %s",
                            clean ? clean : "out of memory");
    free(clean);
    PQfreemem(perr);
    return GF_ERROR;
}

/* --- the connection --------------------------------------------------------
 */

const char *gf_pg_msg(const gf_pg *pg, const PGresult *res, char *buf,
                      size_t len)
{
    const char *m = res ? PQresultErrorMessage(res) : "";
    if (!m[0])
        m = pg->conn ? PQerrorMessage(pg->conn) : "no connection";
    snprintf(buf, len, "%s", m);
    for (char *c = buf; *c; c++)
        if (*c == '\n')
            *c = (c[1] ? ' ' : '\0');
    return buf;
}

bool gf_pg_lost(const gf_pg *pg, const PGresult *res)
{
    if (!pg->conn || PQstatus(pg->conn) == CONNECTION_BAD)
        return true;
    const char *st = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    if (!st)
        return false;
    return !strncmp(st, "08", 2) || !strcmp(st, "57P01") ||
           !strcmp(st, "57P02") || !strcmp(st, "57P03");
}

void gf_pg_backoff(long *wait_ms)
{
    struct timespec ts = {*wait_ms / 1000, (*wait_ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
    *wait_ms = *wait_ms * 2 > 5000 ? 5000 : *wait_ms * 2;
}

/* Server notices (NOTICE, WARNING) go to the run's log, not stderr. */
static void pg_notice(void *arg, const char *msg)
{
    gf_pg *pg = arg;
    size_t n = strlen(msg);
    while (n && msg[n - 1] == '\n')
        n--;
    if (pg->ctx)
        pg->ctx->host->log(
            pg->ctx, strncmp(msg, "WARNING", 7) ? GF_LOG_DEBUG : GF_LOG_WARN,
            "PostgreSQL: %.*s", (int)n, msg);
}

int gf_pg_connect(gf_pg *pg, bool report)
{
    const char *const keys[] = {"dbname", "fallback_application_name",
                                "client_encoding", NULL};
    const char *const vals[] = {pg->dsn, pg->app, "UTF8", NULL};
    PQfinish(pg->conn);
    pg->conn = PQconnectdbParams(keys, vals, 1);
    if (pg->conn && PQstatus(pg->conn) == CONNECTION_OK) {
        PQsetErrorVerbosity(pg->conn, PQERRORS_DEFAULT);
        PQsetNoticeProcessor(pg->conn, pg_notice, pg);
        return GF_OK;
    }
    if (report) {
        char m[1024];
        char *clean = gf_pg_scrub(gf_pg_msg(pg, NULL, m, sizeof m));
        pg->ctx->host->error(pg->ctx, "cannot connect to PostgreSQL (%s): %s",
                             pg->dsn_shown, clean ? clean : "out of memory");
        free(clean);
    }
    return GF_ERROR;
}

int gf_pg_open(gf_pg *pg, gf_ctx *ctx, const char *dsn)
{
    pg->ctx = ctx;
    pg->dsn = dsn;
    pg->dsn_shown = gf_pg_scrub(dsn);
    if (!pg->dsn_shown || asprintf(&pg->app, "gigflow:%.40s", ctx->stage) < 0) {
        pg->app = NULL;
        ctx->host->error(ctx, "out of memory");
        return GF_ERROR;
    }
    return gf_pg_connect(pg, true);
}

void gf_pg_close(gf_pg *pg)
{
    PQfinish(pg->conn);
    pg->conn = NULL;
    free(pg->dsn_shown);
    free(pg->app);
    pg->dsn_shown = pg->app = NULL;
}
