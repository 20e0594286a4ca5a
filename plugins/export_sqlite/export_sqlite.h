/*
 * export_sqlite.h - export_sqlite's own parts, shared by its three files:
 * export_sqlite.c (options, callbacks, the transaction, binding a record's
 * values), es_table.c (tables, their columns and the DDL) and es_stmt.c
 * (the INSERT statements cached per column set). Not an SDK header:
 * nothing here leaves the plugin.
 */
#ifndef EXPORT_SQLITE_H
#define EXPORT_SQLITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include <gigflow/plugin.h>

#define ES_MAX_STMTS 256 /* statements cached per table */

typedef struct es_config {
    const char *path;
    const char *table;
    const char *mode;
    const gf_strlist *key;
} es_config;

typedef enum es_mode { ES_REPLACE, ES_APPEND, ES_UPSERT } es_mode;

/* What a column's affinity accepts. */
typedef enum es_cls { ES_ANY, ES_NUM, ES_TEXT } es_cls;

typedef struct es_col {
    char *name;
    char *decl; /* declared type, for messages */
    es_cls cls;
} es_col;

typedef struct es_stmt {
    char *key; /* the field names, each as 4-byte length + bytes */
    size_t key_len;
    uint64_t hash;
    sqlite3_stmt *st;
    size_t n;
    size_t *col; /* column of each field */
} es_stmt;

typedef struct es_table {
    char *name;
    bool exists;  /* in the database (created or found) */
    bool indexed; /* the key's UNIQUE index is there */
    es_col *cols;
    size_t ncols, capcols;
    es_stmt *stmts;
    size_t nstmts;
    size_t last; /* the statement used last */
} es_table;

typedef struct es {
    const es_config *cfg;
    es_mode mode;
    sqlite3 *db;
    bool in_txn;
    bool created_file;
    bool committed;
    es_table *tables;
    size_t ntables;
    size_t last_table;
    char *keybuf; /* the current record's column-set key */
    size_t keycap;
    char *json; /* nested values rendered as JSON */
    size_t json_cap;
    uint64_t rows;
} es;

/* Whether a column of class `c` holds a value of type t as it is. */
static inline bool es_fits(es_cls c, gf_type t)
{
    if (c == ES_ANY || t == GF_T_NIL)
        return true;
    if (t == GF_T_BIN)
        return false;
    if (c == ES_TEXT)
        return true;
    return t == GF_T_INT || t == GF_T_FLOAT || t == GF_T_BOOL;
}

static inline uint64_t es_hash(const char *p, size_t n)
{
    uint64_t x = 1469598103934665603ull; /* FNV-1a */
    for (size_t i = 0; i < n; i++)
        x = (x ^ (uint8_t)p[i]) * 1099511628211ull;
    return x;
}

/* --- export_sqlite.c --------------------------------------------------- */

/* Run SQL that returns no rows; on failure report it and return GF_ERROR. */
int es_exec(gf_ctx *ctx, es *e, const char *sql);
/* Report "out of memory"; returns GF_ERROR. */
int es_nomem(gf_ctx *ctx);

/* --- es_table.c: tables and their DDL ---------------------------------- */

/* The column type a value of type t creates ("INTEGER", ... "" for nil). */
const char *es_decl_for(gf_type t);
/* A value of type t in words, for messages ("a TEXT value"). */
const char *es_value_name(gf_type t);
/* Add column name (len bytes) declared decl to what is known of t; NULL
   when memory runs out. */
es_col *es_add_col(es_table *t, const char *name, size_t len, const char *decl);
/* The index of column name (len bytes, case-insensitive) of t, or -1. */
long es_find_col(const es_table *t, const char *name, size_t len);
/* Read the columns of an existing table t; t->exists tells whether it is.
   GF_OK or GF_ERROR (reported). */
int es_load_columns(gf_ctx *ctx, es *e, es_table *t);
/* CREATE TABLE t from the record's fields. GF_OK or GF_ERROR (reported). */
int es_create(gf_ctx *ctx, es *e, es_table *t, const gf_record *rec);
/* The UNIQUE index over `key` on t. GF_OK or GF_ERROR (reported). */
int es_index(gf_ctx *ctx, es *e, es_table *t);

/* --- es_stmt.c: INSERT statements per column set ----------------------- */

/* Finalize s and free what it holds. */
void es_stmt_free(es_stmt *s);
/*
 * The INSERT for this record's column set, prepared on first use: creates
 * the table or adds the columns it lacks first. Returns NULL with
 * *rc = GF_OK when the record is to be rejected (reason in why), or with
 * *rc < 0 on a failure that stops the run.
 */
es_stmt *es_stmt_new(gf_ctx *ctx, es *e, es_table *t, const gf_record *rec,
                     size_t nf, size_t key_len, uint64_t hash, char *why,
                     size_t whylen, int *rc);

#endif
