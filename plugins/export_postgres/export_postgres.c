/*
 * export_postgres - write records into PostgreSQL tables with COPY.
 *
 * Each record goes to `schema`.`table`, or to the table named by its own
 * `kind`. A missing table is created from the first record that reaches it
 * (bigint, double precision, boolean, text, bytea; jsonb for arrays and
 * maps; text for nil); a field the table lacks adds a column. `mode`:
 * replace drops each table the run writes to and creates it anew, append
 * adds rows, upsert updates the row with the same `key` (INSERT ... ON
 * CONFLICT (key) DO UPDATE over a UNIQUE index the plugin creates, fed from
 * a temporary staging table; the last record of a key wins).
 *
 * Rows travel with COPY ... FROM STDIN in text format (escaped here), one
 * COPY per run of records for the same table and columns, all inside one
 * transaction per run that commits only in commit(); destroy() without
 * commit rolls it back, so a failed run leaves the database as it was.
 * Readers see the tables as they were until then; a table the run creates,
 * drops (replace) or adds a column to stays locked for them until the end.
 * A value that cannot fit its column (text in a bigint column, a blob in a
 * text column, a number out of an int4's range, text with a NUL byte or
 * invalid UTF-8) rejects the record, table and column named, and the run
 * goes on. What only the server can judge (a malformed date for a date
 * column) fails the run with the server's message, the table, the column
 * and the record's number.
 *
 * A dropped connection (the server restarted, the backend terminated, the
 * network reset) is survived: the plugin reconnects with a backoff
 * (0.1 s doubling to 5 s, `retries` attempts) and redoes the transaction
 * from the records accepted since it began, so nothing is lost or written
 * twice. Those records are kept in memory up to `keep_memory` bytes and
 * beyond that in an unlinked spill file in `spill_dir` (default TMPDIR).
 * When the connection drops during COMMIT itself, the transaction's id is
 * looked up after reconnecting (txid_status) to tell a commit that happened
 * from one that did not.
 *
 * The password comes from the dsn, PGPASSWORD or ~/.pgpass as libpq finds
 * it; every message that shows the dsn shows password=*** instead.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include <gigflow/plugin.h>

#define EP_SEND_BYTES (256u << 10) /* COPY data handed to libpq at once */
#define EP_LOST (-100)             /* internal: the connection dropped */
#define EP_NAME_MAX 63             /* PostgreSQL's NAMEDATALEN - 1 */

typedef struct ep_config {
    const char *dsn;
    const char *table;
    const char *schema;
    const char *mode;
    const gf_strlist *key;
    int64_t keep_memory;
    const char *spill_dir;
    int64_t retries;
} ep_config;

static const gf_option ep_options[] = {
    {"dsn", GF_OPT_STRING, NULL, true, offsetof(ep_config, dsn),
     "libpq connection string (password from PGPASSWORD or ~/.pgpass)"},
    {"table", GF_OPT_STRING, NULL, false, offsetof(ep_config, table),
     "table to write (default: each record's `kind`)"},
    {"schema", GF_OPT_STRING, "public", false, offsetof(ep_config, schema),
     "schema of the tables"},
    {"mode", GF_OPT_STRING, "replace", false, offsetof(ep_config, mode),
     "replace (drop and recreate each table written), append, or upsert"},
    {"key", GF_OPT_LIST, NULL, false, offsetof(ep_config, key),
     "key fields: a UNIQUE index; required for mode upsert"},
    {"keep_memory", GF_OPT_INT, "67108864", false,
     offsetof(ep_config, keep_memory),
     "bytes of records kept in memory for a redo after a dropped "
     "connection; more go to a spill file"},
    {"spill_dir", GF_OPT_PATH, NULL, false, offsetof(ep_config, spill_dir),
     "directory of the spill file (default: TMPDIR or /tmp)"},
    {"retries", GF_OPT_INT, "5", false, offsetof(ep_config, retries),
     "reconnect attempts after a dropped connection"},
    {0},
};

typedef enum ep_mode { EP_REPLACE, EP_APPEND, EP_UPSERT } ep_mode;

/* What a column accepts, from its type. */
typedef enum ep_cls {
    EP_INT2, EP_INT4, EP_INT8, EP_FLOAT, EP_BOOL, EP_TEXT, EP_JSON,
    EP_BYTEA, EP_OTHER
} ep_cls;

typedef struct ep_col {
    char *name;
    size_t len;
    char *type; /* as format_type() writes it */
    ep_cls cls;
} ep_col;

typedef struct ep_table {
    char *name;
    bool known;   /* looked up (or created) in this transaction */
    bool exists;
    bool indexed;
    ep_col *cols;
    size_t ncols, capcols;
} ep_table;

typedef struct ep_sb {
    char *p;
    size_t len, cap;
    bool oom;
} ep_sb;

typedef struct ep {
    const ep_config *cfg;
    gf_ctx *ctx;       /* of the callback running: for server notices */
    ep_mode mode;
    char *dsn_shown;   /* the dsn with its password scrubbed */
    char *app;         /* application_name */
    PGconn *conn;
    bool in_txn;
    char txid[32];
    ep_table *tables;
    size_t ntables;

    /* the COPY in progress */
    long seg_table;    /* index into tables, -1: none */
    size_t *seg_cols;  /* columns of the COPY, in order */
    size_t seg_n, seg_cap;
    uint64_t seg_first; /* run record number of its first row */
    uint64_t seg_rows;
    const gf_value **slot; /* the record's value per segment column */
    size_t slot_cap;
    ep_sb copy;        /* COPY data not yet handed to libpq */
    ep_sb sql;
    ep_sb val;         /* scratch for one value */

    /* records accepted since the transaction began, for a redo */
    uint8_t *keep;
    size_t keep_len, keep_cap;
    int spill_fd;
    off_t spill_len;
    uint64_t kept;
    bool replaying;

    uint64_t rows;     /* records seen (their number in messages) */
    uint64_t seq;      /* upsert staging order */
    char *json;
    size_t json_cap;
    uint8_t *wrap;
    size_t wrap_cap;
} ep;

/* --- small helpers ---------------------------------------------------- */

static void sb_put(ep_sb *b, const void *p, size_t n)
{
    if (b->len + n < b->cap) { /* the fast path */
        memcpy(b->p + b->len, p, n);
        b->len += n;
        b->p[b->len] = '\0';
        return;
    }
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

static void sb_puts(ep_sb *b, const char *s) { sb_put(b, s, strlen(s)); }

/* "name" with embedded quotes doubled. */
static void sb_ident(ep_sb *b, const char *s, size_t n)
{
    sb_put(b, "\"", 1);
    for (const char *q; n && (q = memchr(s, '"', n));) {
        sb_put(b, s, (size_t)(q - s) + 1);
        sb_put(b, "\"", 1);
        n -= (size_t)(q - s) + 1;
        s = q + 1;
    }
    sb_put(b, s, n);
    sb_put(b, "\"", 1);
}

static void sb_table(ep_sb *b, const ep *p, const ep_table *t)
{
    sb_ident(b, p->cfg->schema, strlen(p->cfg->schema));
    sb_put(b, ".", 1);
    sb_ident(b, t->name, strlen(t->name));
}

/* 'text' as an SQL literal. */
static void sb_literal(ep_sb *b, const char *s)
{
    sb_put(b, "'", 1);
    for (; *s; s++)
        sb_put(b, *s == '\'' ? "''" : s, 1 + (*s == '\''));
    sb_put(b, "'", 1);
}

/*
 * A copy of a connection string with every password hidden: key/value
 * `password=...` (quoted or not) and URI `user:secret@host`.
 */
static char *ep_scrub(const char *dsn)
{
    ep_sb b = {0};
    const char *s = dsn;
    if (!strncmp(s, "postgres://", 11) || !strncmp(s, "postgresql://", 13)) {
        const char *at = strchr(s, '@');
        const char *start = strstr(s, "://") + 3;
        const char *colon = at ? memchr(start, ':', (size_t)(at - start))
                               : NULL;
        if (colon) {
            sb_put(&b, s, (size_t)(colon - s) + 1);
            sb_puts(&b, "***");
            s = at;
        }
        const char *pw = strstr(s, "password=");
        while (pw) {
            sb_put(&b, s, (size_t)(pw - s) + 9);
            sb_puts(&b, "***");
            s = pw + 9 + strcspn(pw + 9, "&");
            pw = strstr(s, "password=");
        }
        sb_puts(&b, s);
        return b.oom ? NULL : b.p ? b.p : strdup("");
    }
    while (*s) {
        const char *pw = strstr(s, "password");
        if (!pw) {
            sb_puts(&b, s);
            break;
        }
        const char *q = pw + 8;
        while (*q == ' ')
            q++;
        bool is_key = (pw == dsn || pw[-1] == ' ' || pw[-1] == '\t') &&
                      *q == '=';
        if (!is_key) {
            sb_put(&b, s, (size_t)(pw - s) + 8);
            s = pw + 8;
            continue;
        }
        q++;
        while (*q == ' ')
            q++;
        sb_put(&b, s, (size_t)(pw - s));
        sb_puts(&b, "password=***");
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
    return b.oom ? NULL : b.p ? b.p : strdup("");
}

static int ep_nomem(gf_ctx *ctx)
{
    ctx->host->error(ctx, "out of memory");
    return GF_ERROR;
}

/* libpq's message, on one line, without the trailing newline. */
static const char *ep_msg(const ep *p, const PGresult *res, char *buf,
                          size_t len)
{
    const char *m = res ? PQresultErrorMessage(res) : "";
    if (!m[0])
        m = p->conn ? PQerrorMessage(p->conn) : "no connection";
    snprintf(buf, len, "%s", m);
    for (char *c = buf; *c; c++)
        if (*c == '\n')
            *c = (c[1] ? ' ' : '\0');
    return buf;
}

/* Whether the failure is a lost connection (redo) rather than an error. */
static bool ep_lost(const ep *p, const PGresult *res)
{
    if (!p->conn || PQstatus(p->conn) == CONNECTION_BAD)
        return true;
    const char *st = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    if (!st)
        return false;
    return !strncmp(st, "08", 2) || !strcmp(st, "57P01") ||
           !strcmp(st, "57P02") || !strcmp(st, "57P03");
}

/*
 * Run SQL that returns no rows (or rows, into *out when not NULL).
 * Returns GF_OK, EP_LOST, or GF_ERROR with the message reported.
 */
static int ep_run(gf_ctx *ctx, ep *p, const char *sql, PGresult **out)
{
    char m[1024];
    PGresult *res = PQexec(p->conn, sql);
    ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
        if (out)
            *out = res;
        else
            PQclear(res);
        return GF_OK;
    }
    if (ep_lost(p, res)) {
        PQclear(res);
        return EP_LOST;
    }
    ctx->host->error(ctx, "PostgreSQL: %s (in: %.200s)",
                     ep_msg(p, res, m, sizeof m), sql);
    PQclear(res);
    return GF_ERROR;
}

static int ep_sql(gf_ctx *ctx, ep *p, PGresult **out)
{
    if (p->sql.oom)
        return ep_nomem(ctx);
    return ep_run(ctx, p, p->sql.p, out);
}

/* --- connection and transaction ---------------------------------------- */

/* Server notices (NOTICE, WARNING) go to the run's log, not stderr. */
static void ep_notice(void *arg, const char *msg)
{
    ep *p = arg;
    size_t n = strlen(msg);
    while (n && msg[n - 1] == '\n')
        n--;
    if (p->ctx)
        p->ctx->host->log(p->ctx, strncmp(msg, "WARNING", 7) ? GF_LOG_DEBUG
                                                            : GF_LOG_WARN,
                          "PostgreSQL: %.*s", (int)n, msg);
}

static int ep_connect(gf_ctx *ctx, ep *p, bool report)
{
    const char *const keys[] = {"dbname", "fallback_application_name",
                                "client_encoding", NULL};
    const char *const vals[] = {p->cfg->dsn, p->app, "UTF8", NULL};
    char m[1024];
    PQfinish(p->conn);
    p->conn = PQconnectdbParams(keys, vals, 1);
    if (p->conn && PQstatus(p->conn) == CONNECTION_OK) {
        PQsetErrorVerbosity(p->conn, PQERRORS_DEFAULT);
        PQsetNoticeProcessor(p->conn, ep_notice, p);
        return GF_OK;
    }
    if (report) {
        char *clean = ep_scrub(ep_msg(p, NULL, m, sizeof m));
        ctx->host->error(ctx, "cannot connect to PostgreSQL (%s): %s",
                         p->dsn_shown, clean ? clean : "out of memory");
        free(clean);
    }
    return GF_ERROR;
}

/* BEGIN, and remember the transaction's id for a COMMIT in doubt. */
static int ep_begin(gf_ctx *ctx, ep *p)
{
    PGresult *res = NULL;
    int rc = ep_run(ctx, p, "BEGIN", NULL);
    if (rc == GF_OK)
        rc = ep_run(ctx, p, "SELECT txid_current()", &res);
    if (rc != GF_OK)
        return rc;
    snprintf(p->txid, sizeof p->txid, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    p->in_txn = true;
    return GF_OK;
}

/* --- tables ------------------------------------------------------------ */

static ep_cls ep_cls_of(const char *typname)
{
    static const struct {
        const char *name;
        ep_cls cls;
    } map[] = {
        {"int2", EP_INT2}, {"int4", EP_INT4}, {"int8", EP_INT8},
        {"float4", EP_FLOAT}, {"float8", EP_FLOAT}, {"numeric", EP_FLOAT},
        {"bool", EP_BOOL}, {"text", EP_TEXT}, {"varchar", EP_TEXT},
        {"bpchar", EP_TEXT}, {"name", EP_TEXT}, {"citext", EP_TEXT},
        {"json", EP_JSON}, {"jsonb", EP_JSON}, {"bytea", EP_BYTEA},
    };
    for (size_t i = 0; i < sizeof map / sizeof *map; i++)
        if (!strcmp(map[i].name, typname))
            return map[i].cls;
    return EP_OTHER;
}

static const char *ep_type_for(gf_type t)
{
    switch (t) {
    case GF_T_INT: return "bigint";
    case GF_T_FLOAT: return "double precision";
    case GF_T_BOOL: return "boolean";
    case GF_T_BIN: return "bytea";
    case GF_T_ARRAY:
    case GF_T_MAP: return "jsonb";
    default: return "text";
    }
}

static const char *ep_typname_for(gf_type t)
{
    switch (t) {
    case GF_T_INT: return "int8";
    case GF_T_FLOAT: return "float8";
    case GF_T_BOOL: return "bool";
    case GF_T_BIN: return "bytea";
    case GF_T_ARRAY:
    case GF_T_MAP: return "jsonb";
    default: return "text";
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
    c->cls = ep_cls_of(typname);
    t->ncols++;
    return true;
}

static long ep_find_col(const ep_table *t, const char *name, size_t len)
{
    for (size_t i = 0; i < t->ncols; i++)
        if (t->cols[i].len == len && !memcmp(t->cols[i].name, name, len))
            return (long)i;
    return -1;
}

static void ep_forget_columns(ep_table *t)
{
    for (size_t i = 0; i < t->ncols; i++) {
        free(t->cols[i].name);
        free(t->cols[i].type);
    }
    t->ncols = 0;
    t->known = t->exists = t->indexed = false;
}

/* Look the table up (replace: drop it). GF_OK, EP_LOST or GF_ERROR. */
static int ep_table_open(gf_ctx *ctx, ep *p, ep_table *t)
{
    p->sql.len = 0;
    if (p->mode == EP_REPLACE) {
        sb_puts(&p->sql, "DROP TABLE IF EXISTS ");
        sb_table(&p->sql, p, t);
        int rc = ep_sql(ctx, p, NULL);
        if (rc == GF_OK)
            t->known = true;
        return rc;
    }
    PGresult *res = NULL;
    sb_puts(&p->sql, "SELECT a.attname, format_type(a.atttypid, "
            "a.atttypmod), ty.typname, c.oid FROM pg_class c "
            "LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 "
            "AND NOT a.attisdropped LEFT JOIN pg_type ty ON ty.oid = "
            "a.atttypid WHERE c.oid = to_regclass(");
    ep_sb name = {0};
    sb_table(&name, p, t);
    if (name.oom)
        return ep_nomem(ctx);
    sb_literal(&p->sql, name.p);
    free(name.p);
    sb_puts(&p->sql, ") ORDER BY a.attnum");
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

static long ep_table_index(gf_ctx *ctx, ep *p, const char *name, size_t len)
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

/* --- values ------------------------------------------------------------ */

static bool ep_utf8_ok(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        unsigned char c = u[i];
        if (c < 0x80) {
            if (!c)
                return false;
            i++;
            continue;
        }
        size_t l = (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3
                 : (c & 0xf8) == 0xf0 ? 4 : 0;
        if (!l || i + l > n || c < 0xc2 || c > 0xf4)
            return false;
        for (size_t k = 1; k < l; k++)
            if ((u[i + k] & 0xc0) != 0x80)
                return false;
        if ((c == 0xe0 && u[i + 1] < 0xa0) || (c == 0xed && u[i + 1] > 0x9f) ||
            (c == 0xf0 && u[i + 1] < 0x90) || (c == 0xf4 && u[i + 1] > 0x8f))
            return false;
        i += l;
    }
    return true;
}

/* Append an integer in decimal (snprintf is slow on the hot path). */
static void ep_i64(ep_sb *b, int64_t v)
{
    char tmp[24];
    char *e = tmp + sizeof tmp, *q = e;
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    do
        *--q = (char)('0' + u % 10);
    while (u /= 10);
    if (v < 0)
        *--q = '-';
    sb_put(b, q, (size_t)(e - q));
}

/* Append text escaped for COPY's text format. */
static void ep_copy_text(ep_sb *b, const char *s, size_t n)
{
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if ((unsigned char)c > '\r' && c != '\\')
            continue; /* the common case: nothing to escape */
        const char *esc = c == '\\' ? "\\\\" : c == '\n' ? "\\n"
                        : c == '\r' ? "\\r" : c == '\t' ? "\\t" : NULL;
        if (!esc)
            continue;
        sb_put(b, s + run, i - run);
        sb_put(b, esc, 2);
        run = i + 1;
    }
    sb_put(b, s + run, n - run);
}

/* A value as JSON text through the host ({"v": value} -> value). */
static const char *ep_json(const gf_host *h, ep *p, const gf_value *v,
                           size_t *len)
{
    if (v->raw_len + 3 > p->wrap_cap) {
        size_t cap = v->raw_len * 2 + 64;
        uint8_t *w = realloc(p->wrap, cap);
        if (!w)
            return NULL;
        p->wrap = w;
        p->wrap_cap = cap;
    }
    p->wrap[0] = 0x81;
    p->wrap[1] = 0xa1;
    p->wrap[2] = 'v';
    memcpy(p->wrap + 3, v->raw, v->raw_len);
    gf_record r = {.data = p->wrap, .len = v->raw_len + 3, .nfields = 1};
    long n = h->to_json(&r, &p->json, &p->json_cap);
    if (n < 6)
        return NULL;
    *len = (size_t)n - 6;
    return p->json + 5;
}

static const char *ep_value_name(gf_type t)
{
    switch (t) {
    case GF_T_INT: return "an integer";
    case GF_T_FLOAT: return "a number";
    case GF_T_BOOL: return "a boolean";
    case GF_T_STR: return "a text value";
    case GF_T_BIN: return "a binary value";
    case GF_T_ARRAY: return "an array";
    case GF_T_MAP: return "a map";
    default: return "nil";
    }
}

/*
 * Append value v for column c to p->val in COPY text form. Returns 0, 1
 * when it does not fit the column (why filled), -1 when memory runs out.
 */
static int ep_value(const gf_host *h, ep *p, ep_sb *b, const ep_table *t,
                    const ep_col *c, const gf_value *v, char *why,
                    size_t whylen)
{
    char num[40];
    const char *problem = NULL;
    if (v->type == GF_T_NIL) {
        sb_put(b, "\\N", 2);
        return b->oom ? -1 : 0;
    }
    switch (c->cls) {
    case EP_INT2:
    case EP_INT4:
    case EP_INT8: {
        int64_t i;
        if (v->type == GF_T_INT)
            i = v->v.i;
        else if (v->type == GF_T_FLOAT && v->v.f == floor(v->v.f) &&
                 fabs(v->v.f) < 9.2e18)
            i = (int64_t)v->v.f;
        else
            break;
        if ((c->cls == EP_INT2 && (i < -32768 || i > 32767)) ||
            (c->cls == EP_INT4 && (i < INT32_MIN || i > INT32_MAX))) {
            problem = "is out of range for";
            break;
        }
        ep_i64(b, i);
        return b->oom ? -1 : 0;
    }
    case EP_FLOAT:
        if (v->type == GF_T_INT) {
            ep_i64(b, v->v.i);
        } else if (v->type == GF_T_FLOAT) {
            if (isnan(v->v.f))
                sb_puts(b, "NaN");
            else if (isinf(v->v.f))
                sb_puts(b, v->v.f > 0 ? "Infinity" : "-Infinity");
            else
                sb_put(b, num, (size_t)snprintf(num, sizeof num, "%.17g",
                                                v->v.f));
        } else {
            break;
        }
        return b->oom ? -1 : 0;
    case EP_BOOL:
        if (v->type == GF_T_BOOL)
            sb_put(b, v->v.b ? "t" : "f", 1);
        else if (v->type == GF_T_INT && (v->v.i == 0 || v->v.i == 1))
            sb_put(b, v->v.i ? "t" : "f", 1);
        else
            break;
        return b->oom ? -1 : 0;
    case EP_JSON: {
        size_t jl;
        const char *j = ep_json(h, p, v, &jl);
        if (!j)
            return -1;
        ep_copy_text(b, j, jl);
        return b->oom ? -1 : 0;
    }
    case EP_BYTEA:
        if (v->type != GF_T_BIN && v->type != GF_T_STR)
            break;
        sb_put(b, "\\\\x", 3);
        for (size_t i = 0; i < v->v.s.len; i++)
            sb_put(b, num, (size_t)snprintf(num, sizeof num, "%02x",
                                            (unsigned char)v->v.s.ptr[i]));
        return b->oom ? -1 : 0;
    case EP_TEXT:
    case EP_OTHER:
        switch (v->type) {
        case GF_T_STR:
            if (!ep_utf8_ok(v->v.s.ptr, v->v.s.len)) {
                snprintf(why, whylen, "table %s.%s, column %s: the text "
                         "holds a NUL byte or invalid UTF-8", p->cfg->schema,
                         t->name, c->name);
                return 1;
            }
            ep_copy_text(b, v->v.s.ptr, v->v.s.len);
            return b->oom ? -1 : 0;
        case GF_T_INT:
            ep_i64(b, v->v.i);
            return b->oom ? -1 : 0;
        case GF_T_FLOAT:
            sb_put(b, num, (size_t)snprintf(num, sizeof num, "%.17g",
                                            v->v.f));
            return b->oom ? -1 : 0;
        case GF_T_BOOL:
            sb_puts(b, v->v.b ? "true" : "false");
            return b->oom ? -1 : 0;
        case GF_T_ARRAY:
        case GF_T_MAP: {
            size_t jl;
            const char *j = ep_json(h, p, v, &jl);
            if (!j)
                return -1;
            ep_copy_text(b, j, jl);
            return b->oom ? -1 : 0;
        }
        default:
            break;
        }
        break;
    }
    snprintf(why, whylen, "table %s.%s, column %s: %s %s the %s column",
             p->cfg->schema, t->name, c->name, ep_value_name(v->type),
             problem ? problem : "does not fit", c->type);
    return 1;
}

/* --- the COPY segment -------------------------------------------------- */

static int ep_copy_error(gf_ctx *ctx, ep *p, PGresult *res);

/*
 * Collect the results of the COPY in progress (after its end, or after
 * libpq refused more data): GF_OK, EP_LOST, or GF_ERROR with the server's
 * complaint explained.
 */
static int ep_seg_collect(gf_ctx *ctx, ep *p, bool failed)
{
    PGresult *res, *bad = NULL;
    while ((res = PQgetResult(p->conn)) != NULL) {
        if (PQresultStatus(res) == PGRES_COPY_IN) { /* still copying */
            PQclear(res);
            PQputCopyEnd(p->conn, "abandoned");
            continue;
        }
        if (PQresultStatus(res) != PGRES_COMMAND_OK && !bad) {
            bad = res;
            continue;
        }
        PQclear(res);
    }
    int rc = GF_OK;
    if (bad || failed) {
        if (ep_lost(p, bad) || !bad)
            rc = EP_LOST;
        else
            rc = ep_copy_error(ctx, p, bad);
    }
    PQclear(bad);
    return rc;
}

static int ep_send(gf_ctx *ctx, ep *p)
{
    if (!p->copy.len)
        return GF_OK;
    if (PQputCopyData(p->conn, p->copy.p, (int)p->copy.len) != 1) {
        int rc = ep_seg_collect(ctx, p, true);
        p->seg_table = -1;
        return rc;
    }
    p->copy.len = 0;
    return GF_OK;
}

/* Explain a failed COPY: table, column (from the context), record. */
static int ep_copy_error(gf_ctx *ctx, ep *p, PGresult *res)
{
    char m[1024];
    const ep_table *t = &p->tables[p->seg_table];
    const char *cx = res ? PQresultErrorField(res, PG_DIAG_CONTEXT) : NULL;
    const char *primary = res ? PQresultErrorField(res,
                                                   PG_DIAG_MESSAGE_PRIMARY)
                              : NULL;
    const char *col = cx ? strstr(cx, ", column ") : NULL;
    const char *line = cx ? strstr(cx, ", line ") : NULL;
    unsigned long long rec = 0;
    if (line)
        rec = p->seg_first + strtoull(line + 7, NULL, 10) - 1;
    int collen = col ? (int)strcspn(col + 9, ":\n") : 0;
    ctx->host->error(ctx, "PostgreSQL rejected a row of table %s.%s%s%.*s: "
                     "%s (record %llu of the run)", p->cfg->schema, t->name,
                     col ? ", column " : "", collen, col ? col + 9 : "",
                     primary ? primary : ep_msg(p, res, m, sizeof m), rec);
    return GF_ERROR;
}

/* End the COPY in progress (upsert: merge the staging table). */
static int ep_seg_end(gf_ctx *ctx, ep *p)
{
    if (p->seg_table < 0)
        return GF_OK;
    int rc = ep_send(ctx, p);
    if (rc != GF_OK)
        return rc;
    ep_table *t = &p->tables[p->seg_table];
    bool failed = PQputCopyEnd(p->conn, NULL) != 1;
    rc = ep_seg_collect(ctx, p, failed);
    p->seg_table = -1;
    if (rc != GF_OK)
        return rc;
    if (p->mode != EP_UPSERT)
        return GF_OK;
    /* INSERT ... SELECT DISTINCT ON (key) ... ORDER BY key, seq DESC */
    const gf_strlist *key = p->cfg->key;
    ep_sb *s = &p->sql;
    s->len = 0;
    sb_puts(s, "INSERT INTO ");
    sb_table(s, p, t);
    sb_puts(s, " (");
    for (size_t i = 0; i < p->seg_n; i++) {
        if (i)
            sb_puts(s, ", ");
        sb_ident(s, t->cols[p->seg_cols[i]].name, t->cols[p->seg_cols[i]].len);
    }
    sb_puts(s, ") SELECT DISTINCT ON (");
    for (size_t i = 0; i < key->n; i++) {
        if (i)
            sb_puts(s, ", ");
        sb_ident(s, key->items[i], strlen(key->items[i]));
    }
    sb_puts(s, ") ");
    for (size_t i = 0; i < p->seg_n; i++) {
        if (i)
            sb_puts(s, ", ");
        sb_ident(s, t->cols[p->seg_cols[i]].name, t->cols[p->seg_cols[i]].len);
    }
    sb_puts(s, " FROM pg_temp.gigflow_stage ORDER BY ");
    for (size_t i = 0; i < key->n; i++) {
        sb_ident(s, key->items[i], strlen(key->items[i]));
        sb_puts(s, ", ");
    }
    sb_puts(s, "gigflow_seq DESC ON CONFLICT (");
    for (size_t i = 0; i < key->n; i++) {
        if (i)
            sb_puts(s, ", ");
        sb_ident(s, key->items[i], strlen(key->items[i]));
    }
    sb_puts(s, ") DO ");
    size_t nset = 0;
    for (size_t i = 0; i < p->seg_n; i++) {
        const ep_col *c = &t->cols[p->seg_cols[i]];
        bool is_key = false;
        for (size_t k = 0; k < key->n && !is_key; k++)
            is_key = !strcmp(key->items[k], c->name);
        if (is_key)
            continue;
        sb_puts(s, nset++ ? ", " : "UPDATE SET ");
        sb_ident(s, c->name, c->len);
        sb_puts(s, " = EXCLUDED.");
        sb_ident(s, c->name, c->len);
    }
    if (!nset)
        sb_puts(s, "NOTHING");
    return ep_sql(ctx, p, NULL);
}

/* Start a COPY of the segment columns into table ti. */
static int ep_seg_start(gf_ctx *ctx, ep *p, long ti)
{
    ep_table *t = &p->tables[ti];
    ep_sb *s = &p->sql;
    int rc;
    if (p->mode == EP_UPSERT) {
        s->len = 0;
        sb_puts(s, "DROP TABLE IF EXISTS pg_temp.gigflow_stage; CREATE "
                "TEMP TABLE gigflow_stage ON COMMIT DROP AS SELECT ");
        for (size_t i = 0; i < p->seg_n; i++) {
            sb_ident(s, t->cols[p->seg_cols[i]].name,
                     t->cols[p->seg_cols[i]].len);
            sb_puts(s, ", ");
        }
        sb_puts(s, "0::bigint AS gigflow_seq FROM ");
        sb_table(s, p, t);
        sb_puts(s, " WITH NO DATA");
        if ((rc = ep_sql(ctx, p, NULL)) != GF_OK)
            return rc;
    }
    s->len = 0;
    sb_puts(s, "COPY ");
    if (p->mode == EP_UPSERT)
        sb_puts(s, "pg_temp.gigflow_stage");
    else
        sb_table(s, p, t);
    sb_puts(s, " (");
    for (size_t i = 0; i < p->seg_n; i++) {
        if (i)
            sb_puts(s, ", ");
        sb_ident(s, t->cols[p->seg_cols[i]].name, t->cols[p->seg_cols[i]].len);
    }
    if (p->mode == EP_UPSERT)
        sb_puts(s, ", gigflow_seq");
    sb_puts(s, ") FROM STDIN");
    if (s->oom)
        return ep_nomem(ctx);
    char m[1024];
    PGresult *res = PQexec(p->conn, s->p);
    if (!res || PQresultStatus(res) != PGRES_COPY_IN) {
        if (ep_lost(p, res)) {
            PQclear(res);
            return EP_LOST;
        }
        ctx->host->error(ctx, "PostgreSQL: %s (in: %.200s)",
                         ep_msg(p, res, m, sizeof m), s->p);
        PQclear(res);
        return GF_ERROR;
    }
    PQclear(res);
    p->seg_table = ti;
    p->seg_first = p->rows;
    p->seg_rows = 0;
    return GF_OK;
}

/* --- keeping records for a redo ---------------------------------------- */

static int ep_keep(gf_ctx *ctx, ep *p, const gf_record *rec)
{
    size_t need = 8 + rec->len;
    if (p->keep_len + need > p->keep_cap) {
        size_t limit = (size_t)p->cfg->keep_memory;
        if (p->keep_len && p->keep_len + need > limit) {
            /* memory is full: move what it holds to the spill file */
            if (p->spill_fd < 0) {
                const char *dir = p->cfg->spill_dir ? p->cfg->spill_dir
                                  : getenv("TMPDIR") ? getenv("TMPDIR")
                                                     : "/tmp";
                char *path = NULL;
                if (asprintf(&path, "%s/gigflow-pg-XXXXXX", dir) < 0)
                    return ep_nomem(ctx);
                p->spill_fd = mkostemp(path, O_CLOEXEC);
                if (p->spill_fd >= 0)
                    unlink(path);
                else
                    ctx->host->error(ctx, "cannot create a spill file in "
                                     "%s: %s", dir, strerror(errno));
                free(path);
                if (p->spill_fd < 0)
                    return GF_ERROR;
            }
            for (size_t off = 0; off < p->keep_len;) {
                ssize_t w = pwrite(p->spill_fd, p->keep + off,
                                   p->keep_len - off, p->spill_len);
                if (w < 0 && errno == EINTR)
                    continue;
                if (w <= 0) {
                    ctx->host->error(ctx, "writing the spill file: %s",
                                     strerror(w < 0 ? errno : ENOSPC));
                    return GF_ERROR;
                }
                off += (size_t)w;
                p->spill_len += w;
            }
            p->keep_len = 0;
        }
        if (p->keep_len + need > p->keep_cap) {
            size_t cap = p->keep_cap ? p->keep_cap * 2 : 1 << 16;
            while (cap < p->keep_len + need)
                cap *= 2;
            uint8_t *k = realloc(p->keep, cap);
            if (!k)
                return ep_nomem(ctx);
            p->keep = k;
            p->keep_cap = cap;
        }
    }
    uint32_t l = (uint32_t)rec->len, nf = rec->nfields;
    memcpy(p->keep + p->keep_len, &l, 4);
    memcpy(p->keep + p->keep_len + 4, &nf, 4);
    memcpy(p->keep + p->keep_len + 8, rec->data, rec->len);
    p->keep_len += need;
    p->kept++;
    return GF_OK;
}

/* --- writing one record ------------------------------------------------ */

static int ep_reject(gf_ctx *ctx, ep *p, const gf_record *rec,
                     const char *why)
{
    char reason[1200];
    if (p->replaying) /* rejected already the first time */
        return GF_OK;
    snprintf(reason, sizeof reason, "record %llu: %s",
             (unsigned long long)p->rows, why);
    return ctx->host->reject(ctx, rec, reason);
}

/* CREATE TABLE from the record, or ALTER TABLE for its new fields. */
static int ep_ensure_columns(gf_ctx *ctx, ep *p, ep_table *t,
                             const gf_record *rec)
{
    const gf_host *h = ctx->host;
    gf_iter it = {0};
    gf_str k;
    gf_value v;
    ep_sb *s = &p->sql;
    int rc;
    if (!t->exists) {
        s->len = 0;
        sb_puts(s, "CREATE TABLE ");
        sb_table(s, p, t);
        sb_puts(s, " (");
        size_t n = 0;
        while (h->next(rec, &it, &k, &v)) {
            if (ep_find_col(t, k.ptr, k.len) >= 0)
                continue;
            if (n++)
                sb_puts(s, ", ");
            sb_ident(s, k.ptr, k.len);
            sb_puts(s, " ");
            sb_puts(s, ep_type_for(v.type));
            if (!ep_add_col(t, k.ptr, k.len, ep_type_for(v.type),
                            ep_typname_for(v.type)))
                return ep_nomem(ctx);
        }
        sb_puts(s, ")");
        if ((rc = ep_sql(ctx, p, NULL)) != GF_OK)
            return rc;
        t->exists = true;
    } else {
        while (h->next(rec, &it, &k, &v)) {
            if (ep_find_col(t, k.ptr, k.len) >= 0)
                continue;
            s->len = 0;
            sb_puts(s, "ALTER TABLE ");
            sb_table(s, p, t);
            sb_puts(s, " ADD COLUMN ");
            sb_ident(s, k.ptr, k.len);
            sb_puts(s, " ");
            sb_puts(s, ep_type_for(v.type));
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
    sb_puts(s, "CREATE UNIQUE INDEX IF NOT EXISTS ");
    char iname[200];
    snprintf(iname, sizeof iname, "%.50s_gigflow_key", t->name);
    sb_ident(s, iname, strlen(iname));
    sb_puts(s, " ON ");
    sb_table(s, p, t);
    sb_puts(s, " (");
    for (size_t i = 0; i < key->n; i++) {
        if (i)
            sb_puts(s, ", ");
        sb_ident(s, key->items[i], strlen(key->items[i]));
    }
    sb_puts(s, ")");
    if ((rc = ep_sql(ctx, p, NULL)) != GF_OK)
        return rc;
    t->indexed = true;
    return GF_OK;
}

/*
 * Whether the segment in progress can take this record as it is: the same
 * table, and its columns cover the record's fields (upsert: are exactly
 * them, in order). Fills p->slot with the record's value per column.
 */
static bool ep_seg_fits(const gf_host *h, ep *p, long ti,
                        const gf_record *rec, gf_value *vals, size_t nv)
{
    if (p->seg_table != ti)
        return false;
    const ep_table *t = &p->tables[ti];
    if (p->mode == EP_UPSERT && nv != p->seg_n)
        return false;
    for (size_t i = 0; i < p->seg_n; i++)
        p->slot[i] = NULL;
    gf_iter it = {0};
    gf_str k;
    size_t fi = 0, hint = 0;
    while (fi < nv && h->next(rec, &it, &k, &vals[fi])) {
        size_t j = hint < p->seg_n ? hint : 0, tries = 0;
        for (; tries < p->seg_n; tries++, j = (j + 1) % p->seg_n) {
            const ep_col *c = &t->cols[p->seg_cols[j]];
            if (c->len == k.len && !memcmp(c->name, k.ptr, k.len))
                break;
        }
        if (tries == p->seg_n || p->slot[j] ||
            (p->mode == EP_UPSERT && j != fi))
            return false;
        p->slot[j] = &vals[fi];
        hint = j + 1;
        fi++;
    }
    return true;
}

static int ep_write(gf_ctx *ctx, ep *p, const gf_record *rec, bool *kept)
{
    const gf_host *h = ctx->host;
    char why[1024];
    int rc;
    *kept = false;
    const char *tname = p->cfg->table;
    size_t tlen = tname ? strlen(tname) : 0;
    if (!tname) {
        gf_value kv;
        if (!h->get(rec, "kind", &kv) || kv.type != GF_T_STR ||
            !kv.v.s.len || memchr(kv.v.s.ptr, '\0', kv.v.s.len))
            return ep_reject(ctx, p, rec, "no table: the record has no text "
                             "field kind (or set the option table)");
        tname = kv.v.s.ptr;
        tlen = kv.v.s.len;
    }
    if (rec->nfields == 0)
        return ep_reject(ctx, p, rec, "the record has no fields to write");
    if (tlen > EP_NAME_MAX)
        return ep_reject(ctx, p, rec, "the table name is longer than the "
                         "63 bytes PostgreSQL keeps");
    if (p->mode == EP_UPSERT)
        for (size_t i = 0; i < p->cfg->key->n; i++) {
            gf_value kv;
            if (!h->get(rec, p->cfg->key->items[i], &kv) ||
                kv.type == GF_T_NIL) {
                snprintf(why, sizeof why, "the key field %s is missing "
                         "(mode upsert)", p->cfg->key->items[i]);
                return ep_reject(ctx, p, rec, why);
            }
        }
    size_t nv = rec->nfields;
    gf_value vals_small[64];
    gf_value *vals = nv <= 64 ? vals_small : malloc(nv * sizeof *vals);
    if (!vals)
        return ep_nomem(ctx);
    long ti = p->seg_table >= 0 &&
                      !strncmp(p->tables[p->seg_table].name, tname, tlen) &&
                      p->tables[p->seg_table].name[tlen] == '\0'
                  ? p->seg_table
                  : ep_table_index(ctx, p, tname, tlen);
    if (ti < 0) {
        rc = (int)ti;
        goto done;
    }
    if (!ep_seg_fits(h, p, ti, rec, vals, nv)) {
        ep_table *t = &p->tables[ti];
        /* names a segment holds were checked when it started */
        gf_iter fit = {0};
        gf_str fk;
        gf_value fv;
        while (h->next(rec, &fit, &fk, &fv))
            if (!fk.len || fk.len > EP_NAME_MAX ||
                memchr(fk.ptr, '\0', fk.len)) {
                snprintf(why, sizeof why, "the field name '%.*s' cannot be "
                         "a column: empty, over 63 bytes or with a NUL byte",
                         (int)(fk.len > 80 ? 80 : fk.len), fk.ptr);
                rc = ep_reject(ctx, p, rec, why);
                goto done;
            }
        if ((rc = ep_seg_end(ctx, p)) != GF_OK)
            goto done;
        if (!t->known && (rc = ep_table_open(ctx, p, t)) != GF_OK)
            goto done;
        /* a misfit in an existing column rejects before any DDL */
        gf_iter it = {0};
        gf_str k;
        gf_value v;
        while (h->next(rec, &it, &k, &v)) {
            long c = ep_find_col(t, k.ptr, k.len);
            if (c < 0)
                continue;
            p->val.len = 0;
            int vr = ep_value(h, p, &p->val, t, &t->cols[c], &v, why,
                              sizeof why);
            if (vr < 0) {
                rc = ep_nomem(ctx);
                goto done;
            }
            if (vr > 0) {
                rc = ep_reject(ctx, p, rec, why);
                goto done;
            }
        }
        if ((rc = ep_ensure_columns(ctx, p, t, rec)) != GF_OK)
            goto done;
        if (p->mode == EP_UPSERT && !t->indexed) {
            rc = ep_reject(ctx, p, rec, "no UNIQUE index over the key");
            goto done;
        }
        /* the segment's columns: all of the table's, or the record's */
        size_t want = p->mode == EP_UPSERT ? nv : t->ncols;
        if (want > p->seg_cap) {
            size_t *sc = realloc(p->seg_cols, want * sizeof *sc);
            const gf_value **sl = realloc(p->slot, want * sizeof *sl);
            if (sc)
                p->seg_cols = sc;
            if (sl)
                p->slot = sl;
            if (!sc || !sl) {
                rc = ep_nomem(ctx);
                goto done;
            }
            p->seg_cap = p->slot_cap = want;
        }
        p->seg_n = 0;
        if (p->mode == EP_UPSERT) {
            memset(&it, 0, sizeof it);
            while (h->next(rec, &it, &k, &v)) {
                long c = ep_find_col(t, k.ptr, k.len);
                for (size_t i = 0; i < p->seg_n; i++)
                    if (p->seg_cols[i] == (size_t)c) {
                        rc = ep_reject(ctx, p, rec, "a field name appears "
                                       "twice");
                        goto done;
                    }
                p->seg_cols[p->seg_n++] = (size_t)c;
            }
        } else {
            for (size_t i = 0; i < t->ncols; i++)
                p->seg_cols[p->seg_n++] = i;
        }
        if ((rc = ep_seg_start(ctx, p, ti)) != GF_OK)
            goto done;
        if (!ep_seg_fits(h, p, ti, rec, vals, nv)) {
            rc = ep_reject(ctx, p, rec, "a field name appears twice");
            goto done;
        }
    }

    /* the row, checked whole before any of it is sent */
    ep_table *t = &p->tables[ti];
    size_t mark = p->copy.len;
    for (size_t i = 0; i < p->seg_n; i++) {
        if (i)
            sb_put(&p->copy, "\t", 1);
        if (!p->slot[i]) {
            sb_put(&p->copy, "\\N", 2);
            continue;
        }
        int vr = ep_value(h, p, &p->copy, t, &t->cols[p->seg_cols[i]],
                          p->slot[i], why, sizeof why);
        if (vr != 0) {
            p->copy.len = mark;
            rc = vr < 0 ? ep_nomem(ctx) : ep_reject(ctx, p, rec, why);
            goto done;
        }
    }
    if (p->mode == EP_UPSERT) {
        char seq[32];
        sb_put(&p->copy, seq, (size_t)snprintf(seq, sizeof seq, "\t%llu",
                                               (unsigned long long)++p->seq));
    }
    sb_put(&p->copy, "\n", 1);
    if (p->copy.oom) {
        rc = ep_nomem(ctx);
        goto done;
    }
    if (!p->replaying && (rc = ep_keep(ctx, p, rec)) != GF_OK)
        goto done;
    *kept = true;
    p->seg_rows++;
    rc = p->copy.len >= EP_SEND_BYTES ? ep_send(ctx, p) : GF_OK;
done:
    if (vals != vals_small)
        free(vals);
    return rc;
}

/* --- recovery ---------------------------------------------------------- */

static void ep_reset_state(ep *p)
{
    p->seg_table = -1;
    p->copy.len = 0;
    p->in_txn = false;
    for (size_t i = 0; i < p->ntables; i++)
        ep_forget_columns(&p->tables[i]);
}

static void ep_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* Replay every kept record into a fresh transaction. */
static int ep_replay(gf_ctx *ctx, ep *p)
{
    int rc = ep_begin(ctx, p);
    if (rc != GF_OK)
        return rc;
    uint64_t saved_rows = p->rows;
    p->replaying = true;
    p->rows = 0;
    p->seq = 0;
    uint8_t hdr[8];
    uint8_t *buf = NULL;
    size_t cap = 0;
    bool kept;
    for (off_t off = 0; off < p->spill_len && rc == GF_OK;) {
        uint32_t l, nf;
        if (pread(p->spill_fd, hdr, 8, off) != 8) {
            ctx->host->error(ctx, "reading the spill file: %s",
                             strerror(errno));
            rc = GF_ERROR;
            break;
        }
        memcpy(&l, hdr, 4);
        memcpy(&nf, hdr + 4, 4);
        if (l > cap) {
            uint8_t *b = realloc(buf, l);
            if (!b) {
                rc = ep_nomem(ctx);
                break;
            }
            buf = b;
            cap = l;
        }
        if (pread(p->spill_fd, buf, l, off + 8) != (ssize_t)l) {
            ctx->host->error(ctx, "reading the spill file: %s",
                             strerror(errno));
            rc = GF_ERROR;
            break;
        }
        gf_record r = {.data = buf, .len = l, .nfields = nf};
        p->rows++;
        rc = ep_write(ctx, p, &r, &kept);
        off += 8 + (off_t)l;
    }
    for (size_t off = 0; off < p->keep_len && rc == GF_OK;) {
        uint32_t l, nf;
        memcpy(&l, p->keep + off, 4);
        memcpy(&nf, p->keep + off + 4, 4);
        gf_record r = {.data = p->keep + off + 8, .len = l, .nfields = nf};
        p->rows++;
        rc = ep_write(ctx, p, &r, &kept);
        off += 8 + l;
    }
    free(buf);
    p->replaying = false;
    p->rows = saved_rows;
    return rc;
}

/* Reconnect with backoff and redo the transaction. */
static int ep_recover(gf_ctx *ctx, ep *p)
{
    long wait = 100;
    for (int64_t a = 1; a <= p->cfg->retries; a++) {
        ctx->host->log(ctx, GF_LOG_WARN, "the connection to PostgreSQL "
                       "dropped; reconnecting (attempt %lld of %lld) and "
                       "redoing %llu records", (long long)a,
                       (long long)p->cfg->retries,
                       (unsigned long long)p->kept);
        ep_sleep_ms(wait);
        wait = wait * 2 > 5000 ? 5000 : wait * 2;
        ep_reset_state(p);
        if (ep_connect(ctx, p, false) != GF_OK)
            continue;
        int rc = ep_replay(ctx, p);
        if (rc != EP_LOST)
            return rc;
    }
    char m[512];
    char *clean = ep_scrub(ep_msg(p, NULL, m, sizeof m));
    ctx->host->error(ctx, "the connection to PostgreSQL (%s) dropped and "
                     "was not regained after %lld attempts: %s",
                     p->dsn_shown, (long long)p->cfg->retries,
                     clean ? clean : "");
    free(clean);
    return GF_ERROR;
}

/* --- callbacks --------------------------------------------------------- */

static int ep_check(gf_ctx *ctx, const void *config)
{
    const ep_config *cfg = config;
    char *perr = NULL;
    PQconninfoOption *parsed = PQconninfoParse(cfg->dsn, &perr);
    if (!parsed) {
        char *clean = perr ? ep_scrub(perr) : NULL;
        ctx->host->option_error(ctx, "dsn", "not a libpq connection string: "
                                "%s", clean ? clean : "out of memory");
        free(clean);
        PQfreemem(perr);
        return GF_ERROR;
    }
    PQconninfoFree(parsed);
    if (strcmp(cfg->mode, "replace") && strcmp(cfg->mode, "append") &&
        strcmp(cfg->mode, "upsert")) {
        ctx->host->option_error(ctx, "mode", "unknown mode '%s': use "
                                "replace, append or upsert", cfg->mode);
        return GF_ERROR;
    }
    if (!strcmp(cfg->mode, "upsert") && (!cfg->key || !cfg->key->n)) {
        ctx->host->option_error(ctx, "mode", "mode upsert needs `key`: the "
                                "fields that identify a row");
        return GF_ERROR;
    }
    if (cfg->keep_memory < 0 || cfg->retries < 0) {
        ctx->host->option_error(ctx, cfg->retries < 0 ? "retries"
                                : "keep_memory", "must not be negative");
        return GF_ERROR;
    }
    if ((cfg->table && strlen(cfg->table) > EP_NAME_MAX) ||
        strlen(cfg->schema) > EP_NAME_MAX) {
        ctx->host->option_error(ctx, strlen(cfg->schema) > EP_NAME_MAX
                                ? "schema" : "table", "longer than the 63 "
                                "bytes PostgreSQL keeps of a name");
        return GF_ERROR;
    }
    if ((cfg->table && !cfg->table[0]) || !cfg->schema[0]) {
        ctx->host->option_error(ctx, cfg->schema[0] ? "table" : "schema",
                                "the name is empty");
        return GF_ERROR;
    }
    return GF_OK;
}

static int ep_setup(gf_ctx *ctx, const void *config, void **state)
{
    const ep_config *cfg = config;
    if (ep_check(ctx, config) < 0)
        return GF_ERROR;
    if (ctx->instances > 1) {
        ctx->host->error(ctx, "export_postgres writes in one transaction: "
                         "run the stage with workers: 1");
        return GF_ERROR;
    }
    ep *p = calloc(1, sizeof *p);
    if (!p)
        return ep_nomem(ctx);
    *state = p;
    p->cfg = cfg;
    p->ctx = ctx;
    p->spill_fd = -1;
    p->seg_table = -1;
    p->mode = !strcmp(cfg->mode, "append")   ? EP_APPEND
              : !strcmp(cfg->mode, "upsert") ? EP_UPSERT
                                             : EP_REPLACE;
    p->dsn_shown = ep_scrub(cfg->dsn);
    if (!p->dsn_shown || asprintf(&p->app, "gigflow:%.40s", ctx->stage) < 0) {
        p->app = NULL;
        return ep_nomem(ctx);
    }
    if (ep_connect(ctx, p, true) != GF_OK)
        return GF_ERROR;
    int rc = ep_begin(ctx, p);
    if (rc == EP_LOST) {
        ctx->host->error(ctx, "the connection to PostgreSQL (%s) dropped at "
                         "the start", p->dsn_shown);
        return GF_ERROR;
    }
    return rc;
}

static int ep_process(gf_ctx *ctx, void *state, const gf_record *rec,
                      gf_out *out)
{
    (void)out;
    ep *p = state;
    bool kept;
    p->ctx = ctx;
    p->rows++;
    for (;;) {
        int rc = ep_write(ctx, p, rec, &kept);
        if (rc != EP_LOST)
            return rc;
        if ((rc = ep_recover(ctx, p)) != GF_OK)
            return rc;
        if (kept) /* the redo wrote it */
            return GF_OK;
    }
}

static int ep_flush(gf_ctx *ctx, void *state, gf_out *out)
{
    (void)out;
    ep *p = state;
    p->ctx = ctx;
    for (;;) {
        int rc = ep_seg_end(ctx, p);
        if (rc != EP_LOST)
            return rc;
        if ((rc = ep_recover(ctx, p)) != GF_OK)
            return rc;
    }
}

/*
 * After COMMIT lost its connection: the transaction's fate by txid_status,
 * "committed", "aborted" or "in progress" (its backend still ending).
 */
static int ep_commit_status(gf_ctx *ctx, ep *p, char *status, size_t len)
{
    PGresult *res = NULL;
    char sql[96];
    snprintf(sql, sizeof sql, "SELECT txid_status(%s)", p->txid);
    int rc = ep_run(ctx, p, sql, &res);
    if (rc != GF_OK)
        return rc;
    snprintf(status, len, "%s", PQgetisnull(res, 0, 0)
                                    ? "aborted" : PQgetvalue(res, 0, 0));
    PQclear(res);
    return GF_OK;
}

static int ep_commit(gf_ctx *ctx, void *state)
{
    ep *p = state;
    for (int64_t a = 0;; a++) {
        int rc = ep_flush(ctx, state, NULL);
        if (rc != GF_OK)
            return rc;
        if ((rc = ep_run(ctx, p, "COMMIT", NULL)) == GF_OK) {
            p->in_txn = false;
            return GF_OK;
        }
        if (rc != EP_LOST)
            return rc;
        /* the outcome is in doubt: ask over a new connection */
        ep_reset_state(p);
        bool known = false, committed = false;
        char status[32] = "";
        for (int64_t b = 0; b < p->cfg->retries * 4 && !known; b++) {
            ep_sleep_ms(100L << (b < 5 ? b : 5));
            if ((p->conn && PQstatus(p->conn) == CONNECTION_OK) ||
                ep_connect(ctx, p, false) == GF_OK)
                known = ep_commit_status(ctx, p, status, sizeof status) ==
                            GF_OK &&
                        strcmp(status, "in progress") != 0;
            committed = !strcmp(status, "committed");
        }
        if (!known || a >= p->cfg->retries) {
            ctx->host->error(ctx, "the connection to PostgreSQL (%s) "
                             "dropped during COMMIT %s", p->dsn_shown,
                             known ? "again and again"
                                   : "and whether it committed is unknown: "
                                     "check the tables");
            return GF_ERROR;
        }
        if (committed)
            return GF_OK;
        ctx->host->log(ctx, GF_LOG_WARN, "the connection to PostgreSQL "
                       "dropped during COMMIT, which did not happen; "
                       "redoing %llu records", (unsigned long long)p->kept);
        rc = ep_replay(ctx, p);
        if (rc == EP_LOST)
            rc = ep_recover(ctx, p);
        if (rc != GF_OK)
            return rc;
    }
}

static void ep_destroy(gf_ctx *ctx, void *state)
{
    ep *p = state;
    if (!p)
        return;
    p->ctx = ctx;
    PQfinish(p->conn); /* an open transaction is rolled back */
    for (size_t i = 0; i < p->ntables; i++) {
        ep_forget_columns(&p->tables[i]);
        free(p->tables[i].cols);
        free(p->tables[i].name);
    }
    if (p->spill_fd >= 0)
        close(p->spill_fd);
    free(p->tables);
    free(p->seg_cols);
    free(p->slot);
    free(p->copy.p);
    free(p->sql.p);
    free(p->val.p);
    free(p->keep);
    free(p->json);
    free(p->wrap);
    free(p->dsn_shown);
    free(p->app);
    free(p);
}

/* The runtime calls destroy() only after a successful init(): undo here. */
static int ep_init(gf_ctx *ctx, const void *config, void **state)
{
    int rc = ep_setup(ctx, config, state);
    if (rc < 0) {
        ep_destroy(ctx, *state);
        *state = NULL;
    }
    return rc;
}

static const gf_plugin export_postgres = {
    GF_PLUGIN_HEADER,
    .name = "export_postgres",
    .kind = GF_KIND_EXPORT,
    .version = "1.0.0",
    .description = "write records into PostgreSQL tables with COPY, in one "
                   "transaction",
    .options = ep_options,
    .config_size = sizeof(ep_config),
    .check = ep_check,
    .init = ep_init,
    .process = ep_process,
    .flush = ep_flush,
    .commit = ep_commit,
    .destroy = ep_destroy,
};

GF_PLUGIN_DEFINE(export_postgres)
