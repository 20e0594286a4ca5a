/*
 * gf_dist_int.h - what the files of gf_dist share: the state of a local
 * instance of a distributed run (struct gf_dist_inst, hung on
 * gf_inst.dist), the bookkeeping of pass-through stages (dist_chain,
 * dist_origin), and the few functions that one file of gf_dist calls in
 * another. Internal to gf_dist (gf_dist.c: placement and set-up;
 * gf_dist_run.c: the instance's thread; gf_dist_keeper.c: the keeper):
 * everyone else uses gf_dist.h.
 */
#ifndef GF_DIST_INT_H
#define GF_DIST_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "gf_dedup.h"
#include "gf_dist.h"
#include "gf_link.h"

#define NS_PER_MS 1000000LL

/* A pass-through input whose outputs are not all acknowledged yet. */
typedef struct dist_chain {
    uint64_t origin, seq; /* seq 0: the origin's end of stream */
    size_t src;           /* the rx message it came in */
    unsigned waiting;     /* links still to acknowledge (DATA) */
    gf_buf dead;          /* its dead letters, written once acknowledged */
    uint32_t ndead;
} dist_chain;

/* What pass-through stages know of each origin's end of stream. */
typedef struct dist_origin {
    uint64_t id;
    bool eos;          /* seen */
    unsigned eos_wait; /* links still to acknowledge the forwarded EOS */
} dist_origin;

struct gf_dist_inst {
    char *name; /* "stage#i" */
    gf_link_opts lo;
    gf_link_rx *lrx;
    /* [ntx]: [t < in->ndown] towards downstream stage t (NULL when it is
       fed inproc), then [in->ndown]: to instance 0 of this stage (the
       partial states of an aggregate with workers, NULL otherwise) */
    gf_link_tx **ltx;
    size_t ntx;
    size_t nltx;                   /* non-NULL downstream links */
    gf_link_tx *sib;               /* = ltx[in->ndown] */
    uint64_t sib_seq, sib_records; /* partial batches sent to instance 0 */
    bool input_done;               /* a stateful instance's input is complete */
    /* held by the instance's thread except while a plugin callback runs;
       the keeper thread services the links meanwhile (recursive: host
       callbacks such as emit take it again) */
    pthread_mutex_t lock;
    bool ended;   /* the thread is gone: the keeper leaves it alone */
    bool aborted; /* the keeper told the peers the run failed */
    /* the end of the run (settle): 0 working, 1 done, 2 ok; read by the
       local instances that feed this one inproc */
    _Atomic int phase;
    gf_inst **local_down; /* the instances this one feeds inproc */
    size_t nlocal_down;
    bool passthru;
    gf_dedup *dedup; /* stateful stages fed over links */
    dist_origin *origins;
    size_t norigins, eos_left;
    uint64_t own_seq, own_records;
    bool in_batch;
    uint64_t cur_origin, cur_seq;
    gf_buf acc;
    uint32_t acc_n;
    gf_buf held; /* dead letters of the input batch being processed */
    uint32_t nheld;
    dist_chain *chain;
    size_t nchain, capchain;
    zmq_pollitem_t *items;
    size_t capitems;
    int64_t last_service, live_ns;
};

/* An edge into stage s crosses processes when s listens. */
static inline bool is_link(const gf_stage_def *s)
{
    return s->nlisten > 0;
}

/* An aggregate with several workers fed over links: instances 1..N-1 send
   their partial states to instance 0 over a link of their own. */
static inline bool link_merge(const gf_inst *in)
{
    return in->merge && is_link(in->def);
}

/* gf_link_opts.log of every link of `in` (arg): an info line on the
   instance's log, prefixed with its instance number when its stage has
   several. */
void gf_dist_link_log(void *arg, const char *line);

/* gf_link_tx's on_ack of every link of `in` (arg): a link acknowledged
   (origin, seq); a pass-through instance acknowledges the inputs whose
   outputs are now all acknowledged (and writes their held dead letters). */
void gf_dist_on_ack(void *arg, uint64_t origin, uint64_t seq);

/* Fail the run with "stage NAME#I: what" (unless it is stopping already).
   Returns -1. */
int gf_dist_fail(gf_inst *in, const char *what);

/* Wait up to timeout_ms for something on the links of `in` (and its
   inproc input when `input`) and service them. Returns -1 when the run is
   failing (a link failed it, or it was interrupted), else 0. The caller
   holds in->dist->lock. */
int gf_dist_service(gf_inst *in, long timeout_ms, bool input);

#endif
