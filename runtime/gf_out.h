/*
 * gf_out - a stage instance's output: the batch being filled and the one
 * record open on it. Plugins reach it through the gf_host writer functions
 * (begin, set_*, end, emit); the runtime decides what happens to a full
 * batch through the on_full callback (send it as a frame, keep it in a
 * test harness).
 */
#ifndef GF_OUT_H
#define GF_OUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gigflow/record.h>

#include "gf_buf.h"

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
