/*
 * export_postgres.h - the plugin's own parts, shared by its three files:
 * export_postgres.c (options, callbacks, the transaction, the redo after a
 * lost connection), ep_table.c (looking tables up, CREATE and ALTER) and
 * ep_copy.c (a record into COPY text rows, the COPY in progress). Not an
 * SDK header: nothing here leaves the plugin.
 */
#ifndef EXPORT_POSTGRES_H
#define EXPORT_POSTGRES_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <libpq-fe.h>

#include <gigflow/plugin.h>

#include "gf_pg.h"

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

typedef enum ep_mode { EP_REPLACE, EP_APPEND, EP_UPSERT } ep_mode;

typedef struct ep_col {
    char *name;
    size_t len;
    char *type; /* as format_type() writes it */
    gf_pg_cls cls;
} ep_col;

typedef struct ep_table {
    char *name;
    bool known; /* looked up (or created) in this transaction */
    bool exists;
    bool indexed;
    ep_col *cols;
    size_t ncols, capcols;
} ep_table;

typedef struct ep {
    const ep_config *cfg;
    gf_pg pg; /* the connection */
    ep_mode mode;
    bool in_txn;
    char txid[32];
    ep_table *tables;
    size_t ntables;

    /* the COPY in progress */
    long seg_table;   /* index into tables, -1: none */
    size_t *seg_cols; /* columns of the COPY, in order */
    size_t seg_n, seg_cap;
    uint64_t seg_first; /* run record number of its first row */
    uint64_t seg_rows;
    const gf_value **slot; /* the record's value per segment column */
    size_t slot_cap;
    gf_pg_buf copy; /* COPY data not yet handed to libpq */
    gf_pg_buf sql;
    gf_pg_buf val; /* scratch for one value */

    /* records accepted since the transaction began, for a redo */
    uint8_t *keep;
    size_t keep_len, keep_cap;
    int spill_fd;
    off_t spill_len;
    uint64_t kept;
    bool replaying;

    uint64_t rows; /* records seen (their number in messages) */
    uint64_t seq;  /* upsert staging order */
    char *json;
    size_t json_cap;
} ep;

/* --- export_postgres.c: connection, transaction, redo log -------- */

/* Keep a record written in this transaction, for a redo after a lost
   connection (memory up to keep_memory, then the spill file). */
int ep_keep(gf_ctx *ctx, ep *p, const gf_record *rec);

/* Report "out of memory"; returns GF_ERROR. */
int ep_nomem(gf_ctx *ctx);

/* Run the SQL text in p->sql (ep_run). GF_OK, EP_LOST or GF_ERROR
   (reported). */
int ep_sql(gf_ctx *ctx, ep *p, PGresult **out);

/* --- ep_table.c: tables and their DDL ---------------------------- */

/* CREATE TABLE from the record, or ALTER TABLE for its new fields. */
int ep_ensure_columns(gf_ctx *ctx, ep *p, ep_table *t, const gf_record *rec);

/* The index of column `name` of t, or -1. */
long ep_find_col(const ep_table *t, const char *name, size_t len);

/* Forget what is known of t (after a rollback: look it up again). */
void ep_forget_columns(ep_table *t);

/* The index of table `name` in p->tables, added when new; negative
   when out of memory (reported). */
long ep_table_index(gf_ctx *ctx, ep *p, const char *name, size_t len);

/* "schema"."table", quoted. */
void ep_table_name(gf_pg_buf *b, const ep *p, const ep_table *t);

/* Look the table up (replace: drop it). GF_OK, EP_LOST or GF_ERROR. */
int ep_table_open(gf_ctx *ctx, ep *p, ep_table *t);

/* --- ep_copy.c: records into COPY rows --------------------------- */

/* End the COPY in progress, if any (upsert: merge its staging table).
   GF_OK, EP_LOST or GF_ERROR (reported). */
int ep_seg_end(gf_ctx *ctx, ep *p);

/* Write one record: into the COPY in progress, or a new one after the
   DDL it needs; a value that cannot fit rejects the record. *kept tells
   whether it was kept for a redo. GF_OK, EP_LOST or GF_ERROR. */
int ep_write(gf_ctx *ctx, ep *p, const gf_record *rec, bool *kept);

#endif
