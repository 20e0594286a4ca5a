/*
 * export_postgres - write records into PostgreSQL tables with COPY.
 *
 * Each record goes to `schema`.`table`, or to the table named by its own
 * `kind` (a `metric` row: by its `set`, one table per aggregate stage, as
 * export_sqlite names them). A missing table is created from the first record
 * that reaches it (bigint, double precision, boolean, text, bytea; jsonb for
 * arrays and maps; text for nil); a field the table lacks adds a column.
 * `mode`: replace drops each table the run writes to and creates it anew,
 * append adds rows, upsert updates the row with the same `key` (INSERT ... ON
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

#include "export_postgres.h"

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

int ep_nomem(gf_ctx *ctx)
{
    ctx->host->error(ctx, "out of memory");
    return GF_ERROR;
}

/*
 * Run SQL that returns no rows (or rows, into *out when not NULL).
 * Returns GF_OK, EP_LOST, or GF_ERROR with the message reported.
 */
static int ep_run(gf_ctx *ctx, ep *p, const char *sql, PGresult **out)
{
    char m[1024];
    PGresult *res = PQexec(p->pg.conn, sql);
    ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
        if (out)
            *out = res;
        else
            PQclear(res);
        return GF_OK;
    }
    if (gf_pg_lost(&p->pg, res)) {
        PQclear(res);
        return EP_LOST;
    }
    ctx->host->error(ctx, "PostgreSQL: %s (in: %.200s)",
                     gf_pg_msg(&p->pg, res, m, sizeof m), sql);
    PQclear(res);
    return GF_ERROR;
}

int ep_sql(gf_ctx *ctx, ep *p, PGresult **out)
{
    if (p->sql.oom)
        return ep_nomem(ctx);
    return ep_run(ctx, p, p->sql.p, out);
}

/* --- connection and transaction ---------------------------------------- */

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

/* --- keeping records for a redo ---------------------------------------- */

int ep_keep(gf_ctx *ctx, ep *p, const gf_record *rec)
{
    size_t need = 8 + rec->len;
    if (p->keep_len + need > p->keep_cap) {
        size_t limit = (size_t)p->cfg->keep_memory;
        if (p->keep_len && p->keep_len + need > limit) {
            /* memory is full: move what it holds to the spill file */
            if (p->spill_fd < 0) {
                const char *dir = p->cfg->spill_dir  ? p->cfg->spill_dir
                                  : getenv("TMPDIR") ? getenv("TMPDIR")
                                                     : "/tmp";
                char *path = NULL;
                if (asprintf(&path, "%s/gigflow-pg-XXXXXX", dir) < 0)
                    return ep_nomem(ctx);
                p->spill_fd = mkostemp(path, O_CLOEXEC);
                if (p->spill_fd >= 0)
                    unlink(path);
                else
                    ctx->host->error(ctx,
                                     "cannot create a spill file in "
                                     "%s: %s",
                                     dir, strerror(errno));
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

/* --- recovery ---------------------------------------------------------- */

static void ep_reset_state(ep *p)
{
    p->seg_table = -1;
    p->copy.len = 0;
    p->in_txn = false;
    for (size_t i = 0; i < p->ntables; i++)
        ep_forget_columns(&p->tables[i]);
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
        ctx->host->log(ctx, GF_LOG_WARN,
                       "the connection to PostgreSQL "
                       "dropped; reconnecting (attempt %lld of %lld) and "
                       "redoing %llu records",
                       (long long)a, (long long)p->cfg->retries,
                       (unsigned long long)p->kept);
        gf_pg_backoff(&wait);
        ep_reset_state(p);
        if (gf_pg_connect(&p->pg, false) != GF_OK)
            continue;
        int rc = ep_replay(ctx, p);
        if (rc != EP_LOST)
            return rc;
    }
    char m[512];
    char *clean = gf_pg_scrub(gf_pg_msg(&p->pg, NULL, m, sizeof m));
    ctx->host->error(ctx,
                     "the connection to PostgreSQL (%s) dropped and "
                     "was not regained after %lld attempts: %s",
                     p->pg.dsn_shown, (long long)p->cfg->retries,
                     clean ? clean : "");
    free(clean);
    return GF_ERROR;
}

/* --- callbacks --------------------------------------------------------- */

static int ep_check(gf_ctx *ctx, const void *config)
{
    const ep_config *cfg = config;
    if (gf_pg_check_dsn(ctx, cfg->dsn) < 0)
        return GF_ERROR;
    if (strcmp(cfg->mode, "replace") && strcmp(cfg->mode, "append") &&
        strcmp(cfg->mode, "upsert")) {
        ctx->host->option_error(ctx, "mode",
                                "unknown mode '%s': use "
                                "replace, append or upsert",
                                cfg->mode);
        return GF_ERROR;
    }
    if (!strcmp(cfg->mode, "upsert") && (!cfg->key || !cfg->key->n)) {
        ctx->host->option_error(ctx, "mode",
                                "mode upsert needs `key`: the "
                                "fields that identify a row");
        return GF_ERROR;
    }
    if (cfg->keep_memory < 0 || cfg->retries < 0) {
        ctx->host->option_error(ctx,
                                cfg->retries < 0 ? "retries" : "keep_memory",
                                "must not be negative");
        return GF_ERROR;
    }
    if ((cfg->table && strlen(cfg->table) > EP_NAME_MAX) ||
        strlen(cfg->schema) > EP_NAME_MAX) {
        ctx->host->option_error(
            ctx, strlen(cfg->schema) > EP_NAME_MAX ? "schema" : "table",
            "longer than the 63 "
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
    ep *p = calloc(1, sizeof *p);
    if (!p)
        return ep_nomem(ctx);
    *state = p;
    p->cfg = cfg;
    p->spill_fd = -1;
    p->seg_table = -1;
    p->mode = !strcmp(cfg->mode, "append")   ? EP_APPEND
              : !strcmp(cfg->mode, "upsert") ? EP_UPSERT
                                             : EP_REPLACE;
    if (gf_pg_open(&p->pg, ctx, cfg->dsn) != GF_OK)
        return GF_ERROR;
    int rc = ep_begin(ctx, p);
    if (rc == EP_LOST) {
        ctx->host->error(ctx,
                         "the connection to PostgreSQL (%s) dropped at "
                         "the start",
                         p->pg.dsn_shown);
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
    p->pg.ctx = ctx;
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
    p->pg.ctx = ctx;
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
    snprintf(status, len, "%s",
             PQgetisnull(res, 0, 0) ? "aborted" : PQgetvalue(res, 0, 0));
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
            long wait = 100L << (b < 5 ? b : 5);
            gf_pg_backoff(&wait);
            if ((p->pg.conn && PQstatus(p->pg.conn) == CONNECTION_OK) ||
                gf_pg_connect(&p->pg, false) == GF_OK)
                known =
                    ep_commit_status(ctx, p, status, sizeof status) == GF_OK &&
                    strcmp(status, "in progress") != 0;
            committed = !strcmp(status, "committed");
        }
        if (!known || a >= p->cfg->retries) {
            ctx->host->error(ctx,
                             "the connection to PostgreSQL (%s) "
                             "dropped during COMMIT %s",
                             p->pg.dsn_shown,
                             known ? "again and again"
                                   : "and whether it committed is unknown: "
                                     "check the tables");
            return GF_ERROR;
        }
        if (committed)
            return GF_OK;
        ctx->host->log(ctx, GF_LOG_WARN,
                       "the connection to PostgreSQL "
                       "dropped during COMMIT, which did not happen; "
                       "redoing %llu records",
                       (unsigned long long)p->kept);
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
    p->pg.ctx = ctx;
    gf_pg_close(&p->pg); /* an open transaction is rolled back */
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
