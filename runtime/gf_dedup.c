/*
 * gf_dedup - seen sets of (origin, seq) per expected origin (gf_dedup.h).
 *
 * A handful of origins per stage, so they are found by a linear scan; the
 * seen set of each is a bitmap indexed by seq - 1, grown by doubling.
 */
#include "gf_dedup.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "gf_alloc.h"

typedef struct dedup_origin {
    uint64_t id;
    uint64_t *bits; /* bit (seq - 1) set: taken */
    size_t nwords;
    uint64_t taken;          /* distinct batches taken */
    uint64_t max_seq;        /* highest seq taken */
    uint64_t records;        /* records in the distinct batches */
    unsigned share, nshares; /* this instance's share (nshares 0: all) */
    bool eos;
} dedup_origin;

struct gf_dedup {
    size_t n;
    dedup_origin *o;
    size_t complete;
    uint64_t dups;
};

gf_dedup *gf_dedup_new(const uint64_t *origins, size_t n)
{
    gf_dedup *d = gf_calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->o = gf_calloc(n ? n : 1, sizeof *d->o);
    if (!d->o) {
        gf_free(d);
        return NULL;
    }
    d->n = n;
    for (size_t i = 0; i < n; i++)
        d->o[i].id = origins[i];
    return d;
}

static dedup_origin *find(gf_dedup *d, uint64_t id)
{
    for (size_t i = 0; i < d->n; i++)
        if (d->o[i].id == id)
            return &d->o[i];
    return NULL;
}

int gf_dedup_share(gf_dedup *d, uint64_t origin, unsigned k, unsigned n)
{
    dedup_origin *o = find(d, origin);
    if (!o)
        return GF_DEDUP_UNKNOWN;
    if (k >= n)
        return -EINVAL;
    o->share = k;
    o->nshares = n;
    return 0;
}

/* How many of the seqs 1..batches are origin o's share. */
static uint64_t share_of(const dedup_origin *o, uint64_t batches)
{
    if (o->nshares <= 1)
        return batches;
    /* the seqs s with (id + s) % n == k: the first is r, then every n */
    uint64_t n = o->nshares;
    uint64_t r = (o->share + n - o->id % n) % n;
    if (r == 0)
        r = n;
    return r > batches ? 0 : (batches - r) / n + 1;
}

int gf_dedup_take(gf_dedup *d, uint64_t origin, uint64_t seq, uint32_t nrec)
{
    dedup_origin *o = find(d, origin);
    if (!o || seq == 0)
        return GF_DEDUP_UNKNOWN;
    if (o->nshares > 1 && gf_dedup_route(origin, seq, o->nshares) != o->share)
        return GF_DEDUP_ELSEWHERE;
    uint64_t bit = seq - 1;
    size_t word = (size_t)(bit / 64);
    if (word >= o->nwords) {
        size_t n = o->nwords ? o->nwords : 16;
        while (n <= word)
            n *= 2;
        uint64_t *b = gf_realloc(o->bits, n * sizeof *b);
        if (!b)
            return -ENOMEM;
        memset(b + o->nwords, 0, (n - o->nwords) * sizeof *b);
        o->bits = b;
        o->nwords = n;
    }
    uint64_t mask = UINT64_C(1) << (bit % 64);
    if (o->bits[word] & mask) {
        d->dups++;
        return GF_DEDUP_DUP;
    }
    o->bits[word] |= mask;
    o->taken++;
    o->records += nrec;
    if (seq > o->max_seq)
        o->max_seq = seq;
    return GF_DEDUP_NEW;
}

int gf_dedup_eos(gf_dedup *d, uint64_t origin, uint64_t batches,
                 uint32_t records, bool check_records, char *why, size_t n)
{
    dedup_origin *o = find(d, origin);
    if (!o)
        return GF_DEDUP_UNKNOWN;
    if (o->eos)
        return 0;
    /* taken counts distinct seqs of the share; with none above K, all of
       the share's seqs in 1..K came */
    uint64_t want = share_of(o, batches);
    if (o->taken != want || o->max_seq > batches) {
        if (o->nshares > 1)
            snprintf(why, n,
                     "producer %" PRIu64 ": end of stream says %" PRIu64
                     " batches, %" PRIu64 " of them for instance %u of %u; "
                     "%" PRIu64 " distinct batches arrived (highest %" PRIu64
                     ")",
                     origin, batches, want, o->share, o->nshares, o->taken,
                     o->max_seq);
        else
            snprintf(why, n,
                     "producer %" PRIu64 ": end of stream says %" PRIu64
                     " batches, %" PRIu64
                     " distinct batches arrived (highest %" PRIu64 ")",
                     origin, batches, o->taken, o->max_seq);
        return -EPROTO;
    }
    if (check_records && (uint32_t)o->records != records) {
        snprintf(why, n,
                 "producer %" PRIu64 ": end of stream says %" PRIu32
                 " records, %" PRIu64 " arrived",
                 origin, records, o->records);
        return -EPROTO;
    }
    o->eos = true;
    d->complete++;
    return 1;
}

bool gf_dedup_done(const gf_dedup *d)
{
    return d->complete == d->n;
}

uint64_t gf_dedup_duplicates(const gf_dedup *d)
{
    return d->dups;
}

uint64_t gf_dedup_waiting_for(const gf_dedup *d)
{
    for (size_t i = 0; i < d->n; i++)
        if (!d->o[i].eos)
            return d->o[i].id;
    return 0;
}

void gf_dedup_free(gf_dedup **dp)
{
    if (!dp || !*dp)
        return;
    gf_dedup *d = *dp;
    for (size_t i = 0; i < d->n; i++)
        gf_free(d->o[i].bits);
    gf_free(d->o);
    gf_free(d);
    *dp = NULL;
}
