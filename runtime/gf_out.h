/*
 * gf_out - a stage instance's output: the batch being filled and the one
 * record open on it. Plugins reach it through the gf_host writer functions
 * (begin, set_*, end, emit); the runtime decides what happens to a full
 * batch through the on_full callback (send it as a frame, keep it in a
 * test harness).
 *
 * Source positions (gf_srcpos.h): every record ended or emitted gets the
 * out's current position `cur` (set by an ingest through
 * gf_host.set_position, or by the runtime to the position of the input
 * record being processed), kept in `pos` parallel to the batch. The array
 * costs nothing until a known position appears in a batch (npos stays 0);
 * from then on it holds one entry per record of the batch. gf_out_take_pos
 * hands it over with the batch; gf_out_take, and an on_full that clears the
 * batch itself, drop it.
 */
#ifndef GF_OUT_H
#define GF_OUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gigflow/record.h>

#include "gf_buf.h"
#include "gf_srcpos.h"

/*
 * Called after a record ends and the batch holds >= batch_bytes, and by
 * gf_out_flush. It must consume out->batch (take it with gf_out_take, or
 * copy and clear it). Returns 0, or a negative value to stop the run.
 */
typedef int (*gf_out_full_fn)(gf_out *out, void *arg);

/*
 * One field of the open record (private to gf_out.c). The open record is
 * written straight into `batch` at rec_start; offsets count from there:
 * key_off is where the key's bytes start, val_off where the encoded value
 * starts. Pairs are contiguous, in order, after a one-byte map header.
 */
typedef struct gf_out_field {
    uint32_t key_off, key_len; /* from rec_start */
    uint32_t val_off, val_len; /* from rec_start */
    bool removed;              /* unused: unset() removes the pair at once */
} gf_out_field;

struct gf_out {
    gf_buf batch;       /* encoded records laid end to end */
    uint32_t nrec;      /* records in batch */
    size_t batch_bytes; /* target batch size */
    gf_out_full_fn on_full;
    void *arg;
    int status;       /* first error (negative), sticky */
    uint64_t records; /* records ended on this out, in total */

    /* the open record */
    bool open;
    const gf_record *src; /* begin_copy source, or NULL */
    gf_buf scratch;       /* temporary copies (sources aliasing batch) */
    gf_out_field *fields;
    size_t nfields, capfields;
    size_t rec_start; /* offset in batch of the open record (added) */
    /* begin_copy pairs not indexed yet: they come first in the record and
       `fields` indexes only what follows them (added by the perf helper) */
    uint32_t unindexed;

    /* source positions (added by pos); see the file comment */
    gf_srcpos_table *srcpos; /* names for set_position; NULL: files unknown */
    gf_srcpos cur;           /* position of the next record ended/emitted */
    gf_srcpos *pos;          /* gf_malloc'd; npos entries are in use */
    uint32_t npos;           /* 0, or nrec: one per record of the batch */
    uint32_t cappos;
    uint32_t pos_hint;    /* records in the last batch taken: the next size */
    const char *pos_name; /* the last name interned (the table's copy) */
    uint32_t pos_file;    /* and its index */
    const char *pos_arg;  /* the caller's string that named it last */
};

/* Set up an empty output. Returns 0 or -ENOMEM. */
int gf_out_init(gf_out *out, size_t batch_bytes, gf_out_full_fn on_full,
                void *arg);
/* Hand over a non-empty batch to on_full now. Returns on_full's result. */
int gf_out_flush(gf_out *out);
/*
 * Take ownership of the batch buffer (for a zero-copy send): returns it
 * (free with gf_free) with its length and record count, and leaves the out
 * with an empty batch. NULL when empty.
 */
uint8_t *gf_out_take(gf_out *out, size_t *len, uint32_t *nrec);
/*
 * gf_out_take, and the records' source positions with it: *pos receives a
 * gf_malloc'd array of *nrec positions (the caller frees it), or NULL when
 * no record of the batch has a known one. NULL (and *pos NULL) when empty;
 * on failure (out of memory) both are NULL and nothing was taken.
 */
uint8_t *gf_out_take_pos(gf_out *out, size_t *len, uint32_t *nrec,
                         gf_srcpos **pos);
/*
 * gf_host.set_position: the position of the record open on `out`, or of
 * the next one ended or emitted, until the next call. `file` is interned in
 * out->srcpos; the string passed last is recognised by its address (the
 * same string record after record costs a pointer comparison), another by
 * its text (a strcmp with the last name) before the table is asked. NULL
 * file or a line past 2^32-1 is unknown (0).
 */
void gf_out_set_position(gf_out *out, const char *file, uint64_t line);
/* Free everything. */
void gf_out_release(gf_out *out);

/* The writer functions behind gf_host (documented in gigflow/plugin.h). */
void gf_out_begin(gf_out *out);
void gf_out_begin_copy(gf_out *out, const gf_record *src);
void gf_out_set_str(gf_out *out, const char *key, const char *s, size_t len);
void gf_out_set_int(gf_out *out, const char *key, int64_t v);
void gf_out_set_float(gf_out *out, const char *key, double v);
void gf_out_set_bool(gf_out *out, const char *key, bool v);
void gf_out_set_nil(gf_out *out, const char *key);
void gf_out_set_value(gf_out *out, const char *key, const gf_value *v);
void gf_out_set_raw(gf_out *out, const char *key, const void *mp, size_t len);
void gf_out_unset(gf_out *out, const char *key);
int gf_out_end(gf_out *out);
int gf_out_emit(gf_out *out, const gf_record *rec);

#endif
