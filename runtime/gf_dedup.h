/*
 * gf_dedup - which batches a stateful stage has already taken, across
 * processes.
 *
 * Across processes a batch is identified by (origin, seq): the producer
 * instance that first made it (an ingest, an aggregate, or any stage fed in
 * its own process) and that producer's sequence number, 1, 2, ... A batch
 * may arrive twice (it was resent after a worker seemed dead, or a
 * stateless stage reprocessed it and sent the outputs again under the same
 * id); the second copy is recognised here and dropped.
 *
 * End of stream is per origin: the origin says how many batches (K) it
 * made, and, when the consumer receives from it directly, how many records.
 * The stage is complete when every expected origin's end of stream arrived
 * and, for each, exactly the sequence numbers 1..K were taken.
 *
 * A stateful stage with several instances (an aggregate with `workers: N`
 * across processes) takes each origin's batches in shares: batch (origin,
 * seq) always goes to instance gf_dedup_route(origin, seq, N), so a batch
 * that comes twice (redone by another stateless worker) comes to the same
 * instance and is recognised there, and each instance knows from the
 * origin's K which of 1..K are its own.
 *
 * Seen sets are bitmaps grown as sequence numbers arrive: one bit per
 * batch, so a million batches cost 128 KiB.
 */
#ifndef GF_DEDUP_H
#define GF_DEDUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct gf_dedup gf_dedup;

/* The instance (0..n-1) of a stateful stage that takes batch (origin, seq):
   consecutive batches of an origin go to consecutive instances. */
static inline unsigned gf_dedup_route(uint64_t origin, uint64_t seq, unsigned n)
{
    return n > 1 ? (unsigned)((origin + seq) % n) : 0;
}

/* Expect the `n` origins in `origins` (copied). NULL when out of memory. */
gf_dedup *gf_dedup_new(const uint64_t *origins, size_t n);

/*
 * From now on this is instance `k` of `n` for `origin`: only the batches
 * that gf_dedup_route sends to k are taken (others are GF_DEDUP_UNKNOWN),
 * and its end of stream expects exactly those of 1..K. Returns 0, or
 * GF_DEDUP_UNKNOWN for an origin not expected, -EINVAL for k >= n.
 */
int gf_dedup_share(gf_dedup *d, uint64_t origin, unsigned k, unsigned n);

/* gf_dedup_take results */
enum {
    GF_DEDUP_NEW = 1,       /* first time: process it */
    GF_DEDUP_DUP = 0,       /* seen before: drop it (but acknowledge it) */
    GF_DEDUP_UNKNOWN = -1,  /* not an expected origin, or seq 0 */
    GF_DEDUP_ELSEWHERE = -2 /* another instance's share (gf_dedup_share) */
};

/*
 * Take batch (origin, seq) holding `nrec` records: GF_DEDUP_NEW,
 * GF_DEDUP_DUP, GF_DEDUP_UNKNOWN, GF_DEDUP_ELSEWHERE (a batch of another
 * instance's share), or -ENOMEM (nothing recorded).
 */
int gf_dedup_take(gf_dedup *d, uint64_t origin, uint64_t seq, uint32_t nrec);

/*
 * An origin's end of stream: it made `batches` batches; when
 * `check_records`, those of this instance's share held `records` records
 * (modulo 2^32). Returns 1 when
 * that origin is now complete, 0 when it was already (a repeated EOS),
 * GF_DEDUP_UNKNOWN for an unexpected origin, or -EPROTO when what was taken
 * does not match (why[] describes it).
 */
int gf_dedup_eos(gf_dedup *d, uint64_t origin, uint64_t batches,
                 uint32_t records, bool check_records, char *why, size_t n);

/* True once every expected origin's end of stream arrived and matched. */
bool gf_dedup_done(const gf_dedup *d);

/* Batches recognised as duplicates so far. */
uint64_t gf_dedup_duplicates(const gf_dedup *d);

/* The first origin whose end of stream has not arrived, or 0 when none. */
uint64_t gf_dedup_waiting_for(const gf_dedup *d);

void gf_dedup_free(gf_dedup **dp);

#endif
