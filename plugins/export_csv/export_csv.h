/*
 * export_csv.h - export_csv's own parts, shared by its three files:
 * export_csv.c (options, callbacks: a record into a line), ecsv_text.c
 * (values as cell text, CSV quoting) and ecsv_file.c (the output files:
 * split_by, the bound on open files, header and BOM). Not an SDK header:
 * nothing here leaves the plugin.
 */
#ifndef EXPORT_CSV_H
#define EXPORT_CSV_H

#include <locale.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <gigflow/plugin.h>

#define ECSV_MAX_OPEN 64   /* split files open at once */
#define ECSV_SAFE_MAX 100  /* bytes of a value in a file name */
#define ECSV_EXTRA_NAMES 8 /* extra field names named in the warning */

typedef struct ecsv_config {
    const char *path;
    const gf_strlist *columns;
    const char *delimiter;
    bool bom;
    bool header;
    const char *split_by;
    bool crlf;
} ecsv_config;

typedef struct tbuf {
    char *p;
    size_t len, cap;
    bool nomem;
} tbuf;

/* A column list: names and their lengths. */
typedef struct ecsv_cols {
    char **names;
    size_t *len;
    size_t n;
    bool set; /* false until chosen (a file not yet written to) */
} ecsv_cols;

typedef struct ecsv_file {
    ecsv_cols cols; /* its own columns, when `columns` was not given */
    char *name;     /* safe split value, or NULL */
    char *final;
    FILE *fp; /* NULL while closed to bound open files */
    uint64_t rows, last_use;
    bool started; /* BOM and header written */
} ecsv_file;

typedef struct ecsv {
    const ecsv_config *cfg;
    char delim;
    const char *eol;
    unsigned char special[256]; /* bytes that force quoting */
    locale_t cloc;

    ecsv_cols given; /* the `columns` option, when given */
    gf_value *vals;  /* per column of the record being written */
    bool *present;
    size_t capvals;

    char *dir, *stem, *ext;
    ecsv_file *files;
    size_t nfiles, capfiles, nopen;
    size_t *slots; /* hash of split names -> file index + 1 */
    size_t nslots;
    uint64_t clock;
    FILE *spool;  /* path: - */
    long spooled; /* bytes of spool already on stdout */

    tbuf line, cell, json;
    uint64_t extra_records;
    char *extra[ECSV_EXTRA_NAMES];
    size_t nextra;
} ecsv;

/* The columns of file f: the given ones, or its own. */
static inline ecsv_cols *ecsv_cols_of(ecsv *e, ecsv_file *f)
{
    return e->given.set ? &e->given : &f->cols;
}

/* --- ecsv_text.c: cells ------------------------------------------------- */

/* Append n bytes at s to b; b->nomem records a failed allocation. */
void tb_put(tbuf *b, const void *s, size_t n);
/* Append v as text by gigflow's conventions (integers as integers, floats
   in the shortest form that reads back, true/false, nil empty, binary as
   base64, arrays and maps as JSON). */
void tb_value(ecsv *e, const gf_host *h, tbuf *b, const gf_value *v);
/* Append one CSV cell to e->line, quoted when RFC 4180 or a space at an
   end needs it. */
void ecsv_cell(ecsv *e, const char *s, size_t n);

/* --- ecsv_file.c: files ------------------------------------------------- */

/* Report "what: strerror(err)"; returns GF_ERROR. */
int ecsv_sys_error(gf_ctx *ctx, const char *what, int err);
/* Open f's output: a new file, or again after it was closed (the runtime
   appends then). GF_OK or GF_ERROR (reported). */
int ecsv_create(gf_ctx *ctx, ecsv *e, ecsv_file *f);
/* Write e->line (and the file's header first) to f, reopening it when it
   was closed to bound open files. GF_OK or GF_ERROR (reported). */
int ecsv_write(gf_ctx *ctx, ecsv *e, ecsv_file *f);
/* Add a file: for the safe split value name (the file owns it from now
   on; freed on failure), or, name NULL, the one file `path`. NULL when
   memory runs out (reported). */
ecsv_file *ecsv_add_file(gf_ctx *ctx, ecsv *e, char *name);
/* The split file for a value, found or added; NULL (reported) on failure. */
ecsv_file *ecsv_split_file(gf_ctx *ctx, ecsv *e, const gf_value *v);

#endif
