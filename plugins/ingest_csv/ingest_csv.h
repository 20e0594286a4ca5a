/*
 * ingest_csv.h - ingest_csv's own parts, shared by its four files:
 * ingest_csv.c (options, the callbacks, the produce loop), csv_read.c
 * (reading the file and deciding or converting its encoding), csv_scan.c
 * (finding the fields of one row in the buffer) and csv_row.c (typing the
 * cells of a row and encoding it as a MessagePack record, or rejecting it).
 * Not an SDK header: nothing here leaves the plugin.
 */
#ifndef INGEST_CSV_H
#define INGEST_CSV_H

#include <iconv.h>
#include <locale.h>
#include <stdbool.h>
#include <stdint.h>

#include <gigflow/plugin.h>

#define CSV_CHUNK (1u << 20)    /* the read buffer */
#define CSV_MAX_ROW (64u << 20) /* the longest row held in memory */
#define CSV_ROWS_PER_CALL 4096  /* rows handled per produce() */
#define CSV_RAW_SHOWN 4096      /* bytes of an over-long line rejected */
#define CSV_PAD 16              /* spare bytes after buffers: mp_copy() */

typedef struct csv_config {
    const char *path;
    const char *kind;
    const char *delimiter;
    bool header;
    const gf_strmap *columns;
    const gf_strmap *types;
    const char *encoding;
} csv_config;

typedef enum csv_type {
    CT_INFER,
    CT_INT,
    CT_FLOAT,
    CT_BOOL,
    CT_STRING
} csv_type;
typedef enum csv_enc { ENC_UNDECIDED, ENC_UTF8, ENC_GB18030 } csv_enc;
enum { ROW_OK, ROW_MORE, ROW_UNTERMINATED, ROW_AFTER_QUOTE, ROW_NOMEM };

typedef struct csv_col {
    char *name;   /* the field name */
    uint8_t *key; /* the name encoded as a MessagePack string */
    size_t key_len;
    csv_type type;
    bool skip; /* named `kind` while the `kind` option is set, or
                  named again by a later column */
} csv_col;

typedef struct csv_field {
    const char *p; /* into buf; NULL: at esc + off */
    size_t off, len;
} csv_field;

typedef struct csv_val {
    csv_type t;
    union {
        int64_t i;
        double f;
        bool b;
    } u;
} csv_val;

/* Where a scanned row ends. */
typedef struct csv_row {
    size_t used;      /* bytes including the line end */
    size_t content;   /* bytes without it */
    uint64_t lines;   /* line ends inside and after the row */
    size_t bad_field; /* 1-based, for ROW_UNTERMINATED / ROW_AFTER_QUOTE */
} csv_row;

typedef struct csv {
    const csv_config *cfg;
    const char *file;
    int fd;
    bool own_fd;
    char delim;
    unsigned char stop[256]; /* bytes that end an unquoted field */
    csv_enc enc;
    iconv_t cd;
    locale_t cloc;
    size_t kind_len;

    char *buf; /* decoded UTF-8; unscanned bytes in [start, end) */
    size_t cap, start, end;
    const char *stops_blk; /* csv_find_stop's block, or NULL ... */
    uint64_t stops;        /* ... and where its stops are */
    char *raw;             /* GB18030: bytes read, not yet converted */
    size_t raw_len, raw_cap;
    bool src_eof; /* read() returned 0 */
    bool bom_checked;
    bool skip_line; /* discarding the rest of an over-long line */
    uint64_t line;  /* line the next row starts on */

    csv_col *cols;
    size_t ncols;
    bool have_cols;
    csv_field *f; /* fields of the row being scanned */
    size_t nf, fcap;
    char *esc; /* unescaped quoted fields of that row */
    size_t esc_len, esc_cap;
    uint8_t *rec; /* the record being encoded */
    size_t rec_cap;
    uint8_t *kind_mp; /* "kind" and its value, encoded */
    size_t kind_mp_len;
    size_t keys_len; /* all column keys, encoded */
    /* gf_host.set_position (ABI minor 3), or NULL on an older host */
    void (*set_position)(gf_out *out, const char *file, uint64_t line);
} csv;

/* --- csv_row.c: a scanned row into a record -------------------------- */

/* The csv_type named s ("int", "float", "bool", "string"), or -1. */
int csv_type_of(const char *s);

/* Cut n bytes of s down to at most max without splitting a UTF-8 char. */
size_t csv_cut(const char *s, size_t n, size_t max);

/* s as a MessagePack string at w; returns the end of what it wrote. */
uint8_t *csv_mp_str(uint8_t *w, const char *s, size_t n);

/* Send the row at buf[start, start+len) to the dead letters with the file,
   its line and the reason (fmt); returns what gf_host.reject_raw does. */
int csv_reject(gf_ctx *ctx, csv *c, size_t len, const char *fmt, ...)
    GF_PRINTF(4, 5);

/* One scanned row: the header (names the columns), a record (emitted to
   out) or a dead letter. GF_OK, or GF_ERROR (reported). */
int csv_emit_row(gf_ctx *ctx, csv *c, const csv_row *r, gf_out *out);

/* --- csv_scan.c: one row's fields ------------------------------------ */

/* Scan one row at buf[start..end) into c->f: ROW_OK (r says where it
   ends), ROW_MORE (it goes on past end and more input exists; at EOF a
   row ends at end), ROW_UNTERMINATED, ROW_AFTER_QUOTE (r->bad_field
   names the field) or ROW_NOMEM. */
int csv_scan(csv *c, bool eof, csv_row *r);

/* --- csv_read.c: input and its encoding ------------------------------ */

/* Report errno err on the input file; returns GF_ERROR. */
int csv_io_error(gf_ctx *ctx, csv *c, int err);

/* Start converting from GB18030 (encoding: gb18030, or auto deciding so).
   GF_OK, or GF_ERROR (reported). */
int csv_open_iconv(gf_ctx *ctx, csv *c);

/* Compact the buffer and read more. Returns 0 (bytes added, or end of
   input reached), 1 when the row at start already fills CSV_MAX_ROW, or
   GF_ERROR (reported). */
int csv_fill(gf_ctx *ctx, csv *c);

#endif
