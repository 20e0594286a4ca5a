/*
 * gf_pg - what the PostgreSQL plugins (ingest_postgres, export_postgres)
 * share: one connection per stage instance with its dsn shown with every
 * password hidden, server notices on the run's log, libpq's messages on
 * one line, the test for a lost connection and the backoff between
 * reconnects, the class of a column's type (by type name or OID), and an
 * SQL text buffer that quotes identifiers and literals.
 *
 * A static library of the plugins (plugins/pg), not of the runtime: the
 * plugins link nothing of the runtime. No globals: everything lives in the
 * gf_pg the plugin embeds in its state.
 */
#ifndef GF_PG_H
#define GF_PG_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include <libpq-fe.h>

#include <gigflow/plugin.h>

/* A connection of one stage instance. */
typedef struct gf_pg {
    PGconn *conn;    /* NULL before gf_pg_open and after a failed connect */
    gf_ctx *ctx;     /* of the callback running: notices go to its log */
    const char *dsn; /* the option, borrowed */
    char *dsn_shown; /* the dsn with every password hidden */
    char *app;       /* fallback_application_name: gigflow:STAGE */
} gf_pg;

/*
 * A malloc'd copy of a connection string, or of a message quoting one, with
 * every password hidden: key/value `password=...` (quoted or not) and URI
 * `user:secret@host` and `?password=...`. NULL when out of memory.
 */
char *gf_pg_scrub(const char *dsn);

/* check(): `dsn` parses as a libpq connection string, else an option
   error at `dsn` (scrubbed). Returns GF_OK or GF_ERROR. */
int gf_pg_check_dsn(gf_ctx *ctx, const char *dsn);

/*
 * Fill pg for `dsn` and connect (client_encoding UTF8, application name
 * gigflow:STAGE, notices to ctx's log). Returns GF_OK, or GF_ERROR with the
 * error reported ("cannot connect to PostgreSQL (DSN): why", scrubbed);
 * gf_pg_close frees what was built either way.
 */
int gf_pg_open(gf_pg *pg, gf_ctx *ctx, const char *dsn);

/* Connect again (after a lost connection). GF_OK, or GF_ERROR, reported
   only when `report`. */
int gf_pg_connect(gf_pg *pg, bool report);

/* Close the connection (an open transaction rolls back) and free pg's
   strings. Accepts a zeroed gf_pg. */
void gf_pg_close(gf_pg *pg);

/* libpq's message for res (or the connection's), on one line, in buf. */
const char *gf_pg_msg(const gf_pg *pg, const PGresult *res, char *buf,
                      size_t len);

/* Whether a failure is a lost connection (worth a reconnect and a redo)
   rather than an error: no connection, or SQLSTATE 08xxx / 57P01-03. */
bool gf_pg_lost(const gf_pg *pg, const PGresult *res);

/* Sleep *wait_ms, then double it up to 5 s: the reconnect backoff. */
void gf_pg_backoff(long *wait_ms);

/* --- column types ----------------------------------------------------------
 */

/* What a column holds, from its type. */
typedef enum gf_pg_cls {
    GF_PG_INT2,
    GF_PG_INT4,
    GF_PG_INT8,
    GF_PG_FLOAT,
    GF_PG_BOOL,
    GF_PG_TEXT,
    GF_PG_JSON,
    GF_PG_BYTEA,
    GF_PG_OTHER
} gf_pg_cls;

/* By type name (pg_type.typname: "int4", "jsonb", "citext"...). */
gf_pg_cls gf_pg_cls_of_name(const char *typname);
/* By type OID (PQftype) of the built-in types; GF_PG_OTHER for the rest. */
gf_pg_cls gf_pg_cls_of_oid(Oid oid);

/* --- SQL text --------------------------------------------------------------
 */

/* A growable NUL-terminated text; `oom` set once an allocation failed (the
   text is then incomplete and further writes are ignored). */
typedef struct gf_pg_buf {
    char *p;
    size_t len, cap;
    bool oom;
} gf_pg_buf;

void gf_pg_put_slow(gf_pg_buf *b, const void *p, size_t n);

/* Append n bytes (inline: COPY data goes through here per value). */
static inline void gf_pg_put(gf_pg_buf *b, const void *p, size_t n)
{
    if (b->len + n < b->cap) {
        memcpy(b->p + b->len, p, n);
        b->len += n;
        b->p[b->len] = '\0';
        return;
    }
    gf_pg_put_slow(b, p, n);
}

static inline void gf_pg_puts(gf_pg_buf *b, const char *s)
{
    gf_pg_put(b, s, strlen(s));
}

/* "name" with embedded quotes doubled. */
void gf_pg_ident(gf_pg_buf *b, const char *s, size_t n);
/* 'text' as an SQL literal (quotes doubled). */
void gf_pg_literal(gf_pg_buf *b, const char *s);

#endif
