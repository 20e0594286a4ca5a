/*
 * gf_deadletter - the dead-letter file: one JSON line per rejected record,
 *   {"stage":S,"reason":R,"file":F,"line":N,"record":{...}}   or
 *   {"stage":S,"reason":R,"file":F,"line":N,"raw":"text"}
 * ("file"/"line" only when known). A line written by a stateless stage
 * fed over a link also says which batch the record came in and which of
 * that batch's rejects it is,
 *   ..."batch":{"origin":O,"seq":S,"reject":I}...
 * so that the lines of a batch redone after a worker died, should both
 * workers have written them, are recognisable as copies. Writers in several
 * threads share one file; lines are written whole under a lock. Personal data
 * is masked as in exports: `phone` and `id_number` of records (gf_pii's default
 * policy), and in raw lines every run of 11+ digits (gf_pii_mask_text); the
 * file and line say where to find the original. The file is created 0600, and a
 * raw line longer than GF_DEADLETTER_MAX_RAW bytes is cut there
 * ("raw_truncated": true, "raw_bytes": its length).
 */
#ifndef GF_DEADLETTER_H
#define GF_DEADLETTER_H

#include <stddef.h>
#include <stdint.h>

#include <gigflow/record.h>

#include "gf_buf.h"

/* The most bytes of a raw line a dead letter keeps. */
#define GF_DEADLETTER_MAX_RAW 65536

typedef struct gf_deadletter gf_deadletter;

/* Where a rejected record came from across processes (see above). */
typedef struct gf_deadletter_batch {
    uint64_t origin, seq;
    uint32_t reject; /* 0 for the batch's first reject */
} gf_deadletter_batch;

/* Append one line (with its newline) to b; `batch` may be NULL. Returns 0
   or -ENOMEM. */
int gf_deadletter_format(gf_buf *b, const char *stage, const char *reason,
                         const gf_record *rec, const void *raw, size_t len,
                         const char *file, uint64_t line,
                         const gf_deadletter_batch *batch);
/*
 * Open (truncate) the dead-letter file `path`; "-" is stderr. The file is
 * created on the first line only, so a clean run leaves none behind.
 */
gf_deadletter *gf_deadletter_open(const char *path);
/* Write one line; thread-safe. Returns 0 or a negative errno. */
int gf_deadletter_write(gf_deadletter *dl, const char *stage,
                        const char *reason, const gf_record *rec,
                        const void *raw, size_t len, const char *file,
                        uint64_t line);
/* Write `n` lines made by gf_deadletter_format, laid end to end in
   [lines, lines + len), at once; thread-safe. Returns 0 or a negative
   errno. */
int gf_deadletter_write_lines(gf_deadletter *dl, const void *lines, size_t len,
                              uint64_t n);
/* Lines written so far. */
uint64_t gf_deadletter_count(const gf_deadletter *dl);
/* Close (fsync) and free; *dlp = NULL. */
int gf_deadletter_close(gf_deadletter **dlp);

#endif
